"""Stored state of the floor's view: agents' activity, a contact's agent, agents' reasons
and time-in-state histograms go through snapshot and restore, and values stored before
they were kept read back (padded)."""

from __future__ import annotations

import orjson

from streams.core.agent_activity import AgentActivity
from streams.core.clock import EventTimeClock
from streams.core.engine import Engine
from tests.support.helpers import T0, Feed


def through_json(value: object) -> object:
    return orjson.loads(orjson.dumps(value))


def _feed() -> Feed:
    feed = Feed()
    feed.event("agent.state", T0, agent_id="a1", state="available", queues=["q"], team="t")
    feed.event("agent.state", T0, agent_id="a2", state="away", reason="lunch", queues=["q"])
    feed.event("contact.queued", T0, contact_id="c1", queue="q", channel="voice")
    feed.event("contact.answered", T0 + 10, contact_id="c1", agent_id="a1")
    feed.event("agent.state", T0 + 10, agent_id="a1", state="on_contact")
    feed.event("contact.queued", T0 + 20, contact_id="c2", queue="q", channel="voice")
    feed.event("contact.missed", T0 + 25, contact_id="c2", agent_id="a1")
    feed.advance(T0 + 60)
    return feed


def test_activity_and_agents_survive_snapshot_and_restore() -> None:
    source = _feed().engine
    target = Engine(source.settings, EventTimeClock())
    target.clock.observe(source.now)
    target.advance(source.now)
    for contact_id in source.contacts.contacts:
        value = through_json(source.contacts.snapshot(contact_id))
        target.contacts.restore(contact_id, value)  # type: ignore[arg-type]
    for agent_id in source.contacts.activity:
        value = through_json(source.contacts.snapshot_activity(agent_id))
        target.contacts.restore_activity(agent_id, value)  # type: ignore[arg-type]
    for agent_id in source.agent_tracker.agents:
        value = through_json(source.agent_tracker.snapshot(agent_id))
        target.agent_tracker.restore(agent_id, value)  # type: ignore[arg-type]
    target.queues.restore_queue("q", through_json(source.queues.snapshot_queue("q")))  # type: ignore[arg-type]

    assert target.contacts.contacts["c1"].agent_id == "a1"
    restored = target.contacts.activity["a1"]
    assert restored.counts_on(target.contacts.day_start) == (0, 0.0, 1, 0)
    assert restored.current == {"c1": ("q", "voice", T0 + 10)}
    a1 = target.agent_tracker.agents["a1"]
    assert (a1.state, a1.team, a1.since) == ("on_contact", "t", T0 + 10)
    q = target.agents.queues["q"]
    assert q.agents["a2"] == ("away", T0, "lunch")
    assert q.state_seconds[0].total == 10.0  # a1 available T0 .. T0 + 10
    assert target.contacts.snapshot_activity("nobody") is None


def test_values_stored_before_the_floors_view_read_back() -> None:
    feed = Feed()
    engine = feed.engine
    # A contact as stored before its agent was kept: 15 fields.
    contact = [
        "contact",
        -1,
        "q",
        "voice",
        "normal",
        None,
        T0,
        T0,
        T0,
        T0 + 5,
        None,
        None,
        0,
        1,
        None,
    ]
    engine.contacts.restore("c1", contact)
    assert engine.contacts.contacts["c1"].agent_id is None
    # An agent as stored in version 1.1 (with its reason, no team).
    engine.agent_tracker.restore("a1", ["agent", -1, "away", ["q"], T0, "lunch"])
    assert (engine.agent_tracker.agents["a1"].reason, engine.agent_tracker.agents["a1"].team) == (
        "lunch",
        None,
    )
    # A queue's agents as stored before reasons and time-in-state histograms.
    feed.advance(T0 + 60)
    engine.queues.restore_queue(
        "q",
        {
            "day_start": engine.queues.day_start,
            "pairs": [],
            "agents": {
                "agents": [["a1", "away", T0]],
                "counts": [0, 0, 0, 1, 0],
                "today": [0.0, 0.0],
                "ring": [],
            },
        },
    )
    q = engine.agents.queues["q"]
    assert q.agents == {"a1": ("away", T0, None)}
    assert [sum(h.counts) for h in q.state_seconds] == [0, 0, 0, 0, 0]


def test_activity_record_rolls_to_a_new_day() -> None:
    record = AgentActivity(100.0)
    record.handled, record.handle_sum, record.missed, record.replies = 2, 60.0, 1, 4
    record.current["c"] = ("q", "chat", 150.0)
    assert record.counts_on(100.0) == (2, 60.0, 1, 4)
    assert record.counts_on(200.0) == (0, 0.0, 0, 0)
    record.roll(200.0)
    assert record.counts_on(200.0) == (0, 0.0, 0, 0)
    assert record.current == {"c": ("q", "chat", 150.0)}
    assert AgentActivity.restore(through_json(record.snapshot())).current == record.current  # type: ignore[arg-type]
