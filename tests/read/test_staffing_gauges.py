"""Staffing gauges end to end: a replay where arrival rate and AHT are known by design,
and the `floorwatch staffing` calculator."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from tests.support.helpers import T0, Feed


def textbook_service_level(agents: int, load: float, aht: float, within: float) -> float:
    """Erlang C by the textbook formula with factorials (independent of streams.read.staffing)."""
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    bottom = sum(load**k / math.factorial(k) for k in range(agents)) + top
    waiting = top / bottom
    return 1 - waiting * math.exp(-(agents - load) * within / aht)


def busy_day(config: dict, agents: int) -> Feed:
    """100 voice calls in 30 minutes (one every 18 s), each handled for exactly 180 s.

    The first call enters at T0, the clock ends at T0 + 1800 s: arrival rate 100 / 1800 s,
    AHT 180 s, offered load 10 Erlangs — the Call Centre Helper worked example.
    """
    feed = Feed(config=config)
    for n in range(agents):
        feed.event("agent.state", T0, agent_id=f"a{n}", state="available", queues=["billing"])
    for i in range(100):
        at = T0 + 18 * i
        feed.event("contact.queued", at, contact_id=f"c{i}", queue="billing", channel="voice")
        feed.event("contact.answered", at, contact_id=f"c{i}")
    for i in range(100):
        done = T0 + 18 * i + 180
        if done <= T0 + 1800:
            feed.event("contact.ended", done, contact_id=f"c{i}")
            feed.event("contact.wrapped", done, contact_id=f"c{i}")
    feed.event("agent.state", T0 + 1800, agent_id="a-extra", state="offline", queues=["billing"])
    return feed


CONFIG = {"staffing": {"arrival_window": "1h", "handle_window": "1h"}}


def test_required_agents_match_the_worked_example() -> None:
    metrics = busy_day(CONFIG, agents=13).metrics()
    labels = {"queue": "billing", "channel": "voice"}
    assert metrics.get("contactcenter_staffing_arrival_rate_per_second", **labels) == (
        pytest.approx(100 / 1800)
    )
    assert metrics.get("contactcenter_staffing_handle_seconds", **labels) == 180
    assert metrics.get("contactcenter_staffing_offered_load_erlangs", **labels) == (
        pytest.approx(10.0)
    )
    assert metrics.get("contactcenter_staffing_required_agents", **labels) == 14
    assert metrics.get("contactcenter_staffing_staffed_agents", **labels) == 13
    assert metrics.get("contactcenter_staffing_gap_agents", **labels) == 1
    assert metrics.get("contactcenter_staffing_projected_service_level_ratio", **labels) == (
        pytest.approx(textbook_service_level(13, 10.0, 180, 20), abs=1e-9)
    )


def test_shrinkage_raises_the_requirement() -> None:
    config = {"staffing": {**CONFIG["staffing"], "shrinkage": 0.3}}
    metrics = busy_day(config, agents=20).metrics()
    # 14 / (1 - 0.3) = 20 exactly.
    assert (
        metrics.get("contactcenter_staffing_required_agents", queue="billing", channel="voice")
        == 20
    )
    assert metrics.get("contactcenter_staffing_gap_agents", queue="billing", channel="voice") == 0


def test_default_aht_before_any_contact_completed_and_workload_for_email() -> None:
    feed = Feed(
        config={
            "staffing": {"arrival_window": "1h", "default_aht_seconds": 600, "max_occupancy": 0.5}
        }
    )
    for i in range(36):  # 36 emails in one hour: 0.01 per second
        feed.event(
            "contact.queued", T0 + 100 * i, contact_id=f"m{i}", queue="inbox", channel="email"
        )
    feed.advance(T0 + 3600)
    metrics = feed.metrics()
    labels = {"queue": "inbox", "channel": "email"}
    assert metrics.get("contactcenter_staffing_handle_seconds", **labels) == 600
    # workload: 0.01/s x 600 s / 0.5 max occupancy = 12 agents; no Erlang C for email.
    assert metrics.get("contactcenter_staffing_required_agents", **labels) == 12
    assert metrics.get("contactcenter_staffing_projected_service_level_ratio", **labels) is None


def test_calculator_command_prints_the_worked_example() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streams",
            "staffing",
            "--contacts",
            "100",
            "--interval",
            "30m",
            "--aht",
            "180",
            "--target",
            "0.8",
            "--answer-within",
            "20",
            "--shrinkage",
            "0.3",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(done.stdout)
    assert (out["agents"], out["required_agents"]) == (14, 20)
    assert out["service_level"] == pytest.approx(0.888, abs=0.001)
    assert out["occupancy"] == pytest.approx(10 / 14)
    assert out["probability_of_waiting"] == pytest.approx(0.174, abs=0.001)
    assert [row["agents"] for row in out["rows"]] == [11, 12, 13, 14, 15, 16, 17]


def test_calculator_rejects_impossible_input() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streams",
            "staffing",
            "--contacts",
            "100",
            "--aht",
            "180",
            "--target",
            "1.5",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "--target 1.5: a ratio in (0, 1]" in done.stderr


def test_arrival_rate_counts_from_the_facts_not_from_when_the_queue_was_first_seen() -> None:
    """Live mode replays history on start: facts older than the clock must not inflate it."""
    feed = Feed()
    feed.advance(T0 + 1800)  # the clock is already half an hour ahead
    for i in range(90):  # one call every 10 s from T0 + 900 to T0 + 1790
        feed.event(
            "contact.queued",
            T0 + 900 + 10 * i,
            contact_id=f"c{i}",
            queue="billing",
            channel="voice",
        )
    # The 15 min window at T0 + 1800 starts at the bucket T0 + 910 (90 buckets of 10 s
    # ending with the one holding now): 89 calls over 890 s.
    rate = feed.metrics().get(
        "contactcenter_staffing_arrival_rate_per_second", queue="billing", channel="voice"
    )
    assert rate == pytest.approx(89 / 890)
