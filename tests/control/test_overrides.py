"""Live targets without Redis: precedence over the file, and what a change does to the
engine's numbers (expected values worked out by hand from metrics.md)."""

from __future__ import annotations

import re

import pytest

from streams.config import settings_from_mapping
from streams.control.overrides import Selector, explain, parse_assignment, with_live
from streams.core.settings import ConfigError
from tests.support.helpers import T0, Feed

FILE = settings_from_mapping(
    {
        "defaults": {"answer_within_seconds": 20},
        "targets": [
            {"channel": "chat", "answer_within_seconds": 30},
            {"queue": "vip", "channel": "chat", "answer_within_seconds": 10},
        ],
    }
)


def answer(settings, queue: str, channel: str) -> float:  # type: ignore[no-untyped-def]
    return settings.targets_for(queue, channel, "normal").answer_within_seconds


def test_live_beats_the_file_on_equal_selectors_and_specificity_still_rules() -> None:
    live = with_live(FILE, {Selector(channel="chat"): {"answer_within_seconds": 45.0}})
    assert answer(live, "sales", "chat") == 45.0  # same selector as the file's rule: live wins
    assert answer(live, "vip", "chat") == 10.0  # the file's rule is more specific
    assert answer(live, "sales", "voice") == 20.0  # not selected
    everyone = with_live(FILE, {Selector(): {"answer_within_seconds": 15.0}})
    assert answer(everyone, "sales", "voice") == 15.0  # beats [defaults]
    assert answer(everyone, "sales", "chat") == 30.0  # the file's channel rule is more specific
    assert with_live(FILE, {}) is FILE  # all unset: the file again


def test_explain_names_where_each_value_comes_from() -> None:
    overrides = {Selector("vip", "chat"): {"service_level_target": 0.95}}
    resolved = explain(FILE, overrides, "vip", "chat", "high")
    assert resolved["answer_within_seconds"] == (10, "file: queue=vip channel=chat")
    assert resolved["service_level_target"] == (0.95, "live: queue=vip channel=chat")
    assert resolved["at_risk_fraction"] == (0.25, "default")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("at_risk_fraction=1", "at_risk_fraction: 1 is out of range [0, 1)"),
        ("team=", "team: expected a non-empty string"),
        ("priority=high", "priority: unknown target key"),
    ],
)
def test_assignments_are_validated_like_the_file(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_assignment(text)


def test_selector_names_are_checked() -> None:
    with pytest.raises(ConfigError, match="channel: 'fax' is not one of"):
        Selector(channel="fax")
    assert Selector.decode(Selector("a,b=c", None, "high").encode()) == Selector(
        "a,b=c", None, "high"
    )


def test_a_change_counts_from_then_on_and_past_answers_keep_their_verdict() -> None:
    feed = Feed(config={"defaults": {"answer_within_seconds": 20}})
    queued, answered = "contact.queued", "contact.answered"
    q = {"queue": "q", "channel": "voice"}
    feed.event(queued, T0, contact_id="a1", **q)
    feed.event(answered, T0 + 10, contact_id="a1")  # wait 10 <= 20: met
    feed.event(queued, T0 + 20, contact_id="a2", **q)
    feed.event(answered, T0 + 50, contact_id="a2")  # wait 30 > 20: not met, breach 1
    feed.event(queued, T0 + 100, contact_id="a5", **q)  # enters under 20 s: due T0+120
    feed.engine.targets.replace(
        with_live(feed.settings, {Selector("q", "voice"): {"answer_within_seconds": 40.0}})
    )
    feed.event(queued, T0 + 101, contact_id="a6", **q)  # enters under 40 s: due T0+141
    feed.event(queued, T0 + 102, contact_id="a3", **q)
    feed.event(queued, T0 + 103, contact_id="a4", **q)
    feed.event(answered, T0 + 127, contact_id="a3")  # wait 25 <= 40: met
    feed.event("contact.abandoned", T0 + 129, contact_id="a4")  # wait 26: a normal abandon
    feed.advance(T0 + 130)
    m = feed.metrics()
    labels = {"queue": "q", "channel": "voice"}
    assert m.get("contactcenter_answer_target_seconds", **labels) == 40.0
    # standard: answered within target / (answered + abandoned) = (a1, a3) / (a1-a3, a4);
    # a2 keeps its verdict (not met), a3 is judged against 40 s
    assert m.get("contactcenter_service_level_ratio", window="1h", **labels) == 2 / 4
    # a2 and a5 (which keeps the 20 s it entered with); a6 is due at T0+141 only
    breaches = m.get("contactcenter_sla_breaches_total", priority="normal", sla="answer", **labels)
    assert breaches == 2
