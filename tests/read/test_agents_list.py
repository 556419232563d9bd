"""The agents list (/api/v1/agents): values worked out by hand at a fixed clock, filters,
sort and limit, alert thresholds, and parts of several workers merging into the list one
process gives."""

from __future__ import annotations

import orjson
import pytest

from streams.read.agents import AgentFilter, agents_part, agents_snapshot, merge_parts, part_listing
from streams.read.floor import duration_text
from tests.support.helpers import T0, Feed, iso


def _events() -> list[dict]:
    """a1 answers c1 (handled 90 s), misses c2 twice, then answers it; a2 at lunch in q1,
    a3 away (not a configured reason) in q2 with team t2."""
    out: list[dict] = []

    def add(kind: str, at: float, **fields: object) -> None:
        out.append({"event_id": f"ev{len(out)}", "type": kind, "occurred_at": iso(at), **fields})

    add("agent.state", T0, agent_id="a1", state="available", queues=["q1", "q2"])
    add("agent.state", T0, agent_id="a2", state="away", reason="lunch", queues=["q1"])
    add("agent.state", T0, agent_id="a3", state="away", reason="smoke", queues=["q2"], team="t2")
    add("contact.queued", T0 + 10, contact_id="c1", queue="q1", channel="voice", team="t1")
    add("agent.state", T0 + 30, agent_id="a1", state="on_contact")
    add("contact.answered", T0 + 30, contact_id="c1", agent_id="a1")
    add("contact.ended", T0 + 90, contact_id="c1")
    add("agent.state", T0 + 90, agent_id="a1", state="after_contact_work")
    add("contact.queued", T0 + 100, contact_id="c2", queue="q1", channel="voice")
    add("contact.missed", T0 + 105, contact_id="c2", agent_id="a1", ring_seconds=5)
    add("contact.missed", T0 + 110, contact_id="c2", agent_id="a1")
    add("contact.wrapped", T0 + 120, contact_id="c1")
    add("agent.state", T0 + 120, agent_id="a1", state="available")
    add("agent.state", T0 + 130, agent_id="a1", state="on_contact")
    add("contact.answered", T0 + 130, contact_id="c2", agent_id="a1")
    return out


def _feed(at: float) -> Feed:
    feed = Feed()
    for event in _events():
        feed.send(event)
    feed.advance(at)
    return feed


def test_agent_rows_worked_out_by_hand() -> None:
    listing = agents_snapshot(_feed(T0 + 200).engine, sort="agent")
    a1, a2, a3 = listing["agents"]
    assert a1 == {
        "agent_id": "a1",
        "team": None,
        "state": "on_contact",
        "reason": None,
        "since": iso(T0 + 130),
        "seconds_in_state": 70.0,  # T0 + 200 - (T0 + 130)
        "alert": None,
        "queues": ["q1", "q2"],
        "contacts": [
            {
                "contact_id": "c2",
                "queue": "q1",
                "channel": "voice",
                "since": iso(T0 + 130),
                "seconds": 70.0,
            }
        ],
        "handled_today": 1,
        "handle_seconds_average": 90.0,  # answered T0 + 30, wrapped T0 + 120
        "missed_today": 2,
        "replies_today": 0,
    }
    assert (a2["state"], a2["reason"], a2["seconds_in_state"]) == ("away", "lunch", 200.0)
    assert (a2["handled_today"], a2["handle_seconds_average"], a2["missed_today"]) == (0, None, 0)
    assert (a3["reason"], a3["team"]) == ("smoke", "t2")
    assert listing["total"] == 3
    assert listing["by_state"] == {
        "available": 0,
        "on_contact": 1,
        "after_contact_work": 0,
        "away": 2,
        "offline": 0,
    }


def test_time_in_state_follows_each_change() -> None:
    feed = _feed(T0 + 135)  # a1 on_contact since T0 + 130
    for at, expected in ((T0 + 135, 5.0), (T0 + 160, 30.0)):
        feed.advance(at)
        (row,) = agents_snapshot(feed.engine, states=frozenset({"on_contact"}))["agents"]
        assert row["seconds_in_state"] == expected
    feed.event("agent.state", T0 + 170, agent_id="a1", state="after_contact_work")
    feed.advance(T0 + 185)
    (row,) = agents_snapshot(feed.engine, states=frozenset({"after_contact_work"}))["agents"]
    assert (row["since"], row["seconds_in_state"]) == (iso(T0 + 170), 15.0)


def test_alerts_follow_the_thresholds_of_each_state() -> None:
    # away: amber after 900 s, red after 1800 s (the defaults); a2 is away since T0
    for at, a2_alert in ((T0 + 899, None), (T0 + 900, "amber"), (T0 + 1800, "red")):
        listing = agents_snapshot(_feed(at).engine)
        levels = {row["agent_id"]: row["alert"] for row in listing["agents"]}
        assert levels["a2"] == a2_alert
        assert levels["a1"] is None  # on_contact has no threshold
    listing = agents_snapshot(_feed(T0 + 1800).engine)
    assert [r["agent_id"] for r in listing["agents"]] == ["a2", "a3", "a1"]  # red first
    assert listing["alerts"] == {"amber": 0, "red": 2}


def test_filters_sort_and_limit() -> None:
    engine = _feed(T0 + 200).engine

    def ids(**kwargs: object) -> list[str]:
        return [r["agent_id"] for r in agents_snapshot(engine, **kwargs)["agents"]]  # type: ignore[arg-type]

    assert ids(queues=frozenset({"q2"}), sort="agent") == ["a1", "a3"]
    assert ids(states=frozenset({"away"}), sort="agent") == ["a2", "a3"]
    # team t1: q1's team (from its contact) -> a1, a2; t2: a3's own team
    assert ids(team="t1", sort="agent") == ["a1", "a2"]
    assert ids(team="t2", sort="agent") == ["a3"]
    assert ids(sort="time") == ["a2", "a3", "a1"]  # longest in state first (ties: id)
    assert ids(sort="missed", limit=1) == ["a1"]
    listing = agents_snapshot(engine, sort="agent", limit=2)
    assert ([r["agent_id"] for r in listing["agents"]], listing["total"]) == (["a1", "a2"], 3)


def test_parts_of_two_workers_merge_into_the_one_process_list() -> None:
    """Agent events on one worker, contact events on another (partitioned apart): the
    merged list equals the list of one engine that saw everything."""
    events = _events()
    agents_side, contacts_side = Feed(), Feed()
    for event in events:
        (agents_side if event["type"] == "agent.state" else contacts_side).send(event)
    for feed in (agents_side, contacts_side):
        feed.advance(T0 + 200)
    parts = [
        orjson.loads(orjson.dumps(agents_part(f.engine))) for f in (agents_side, contacts_side)
    ]
    merged = merge_parts(parts)
    settings = agents_side.settings.agents
    expected = agents_snapshot(_feed(T0 + 200).engine, sort="agent")
    got = part_listing(merged, settings, AgentFilter(), sort="agent")
    assert got == expected


def test_merge_takes_the_newest_state_and_sums_activity_of_the_newest_day() -> None:
    day = 1000.0
    old = {
        "now": 50.0,
        "day_start": day,
        "states": [["a1", "available", None, 10.0, ["q"], None]],
        "activity": {"a1": [2, 100.0, 1, 0, [["c1", "q", "voice", 40.0]]]},
    }
    new = {
        "now": 60.0,
        "day_start": day,
        "states": [["a1", "on_contact", None, 20.0, ["q"], None]],
        "activity": {"a1": [1, 50.0, 0, 3, []]},
    }
    yesterday = {
        "now": 55.0,
        "day_start": day - 86400,
        "states": [],
        "activity": {"a1": [9, 9.0, 9, 9, []]},
    }
    merged = merge_parts([old, new, yesterday])
    assert merged["states"] == [["a1", "on_contact", None, 20.0, ["q"], None]]
    assert merged["activity"]["a1"] == [3, 150.0, 1, 3, [["c1", "q", "voice", 40.0]]]
    assert merged["now"] == 60.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (0, "0:00"),
        (45.4, "0:45"),
        (59.5, "1:00"),
        (725, "12:05"),
        (3599.4, "59:59"),
        (3600, "1h00"),
        (3725, "1h02"),  # seconds dropped from an hour on
        (86399, "23h59"),
        (86400 * 3 + 4 * 3600 + 59, "3d04h"),
        (-130, "-2:10"),
    ],
)
def test_one_duration_format(seconds: float | None, text: str) -> None:
    assert duration_text(seconds) == text
