"""Engine state survives being written as Table values and read back.

A generated day is split in two: one engine applies all of it; another applies the first
half, its state goes through the snapshot functions and orjson into a third engine, which
applies the second half. Every queue metric must equal the uninterrupted run's (the
distributed runtime restores exactly this way after a crash or a rebalance).
"""

from __future__ import annotations

import orjson
import pytest

from streams.core import snapshot
from streams.core.clock import EventTimeClock
from streams.core.engine import Engine
from streams.read.exporter import exposition
from tests.support.daygen import DayPlan, generate_day
from tests.support.helpers import WALL, Feed, queue_lines


def through_json(value: object) -> object:
    return orjson.loads(orjson.dumps(value))


def copy_state(source: Engine, target: Engine) -> None:
    """What a restarted worker does: clocks first, then every stored value."""
    target.clock.observe(source.now)
    target.advance(source.now)
    tracker = source.contacts
    for contact_id in [*tracker.contacts, *tracker.parked]:
        value = snapshot.contact_value(tracker, contact_id)
        assert value is not None
        snapshot.restore_contact(target.contacts, contact_id, through_json(value))
    snapshot.finish_contact_restore(target.contacts)
    for agent_id in source.agent_tracker.agents:
        value = snapshot.agent_value(source.agent_tracker, agent_id)
        snapshot.restore_agent(target.agent_tracker, agent_id, through_json(value))
    queues = {qc.queue for qc in source.queues.tracked} | set(source.agents.queues)
    for queue in sorted(queues):
        value = through_json(snapshot.queue_value(source.queues, queue))
        snapshot.restore_queue(target.queues, queue, value)  # type: ignore[arg-type]


@pytest.mark.parametrize("split", [0.3, 0.5, 0.8])
def test_restored_engine_continues_exactly(split: float) -> None:
    events, _ = generate_day(DayPlan(seed=5, contacts=700, day="2026-11-20"))
    raws = [orjson.dumps(e) for e in events]
    cut = int(len(raws) * split)
    whole, first, resumed = Feed(), Feed(), Engine(Feed().settings, EventTimeClock())
    for raw in raws:
        whole.engine.ingest(raw, WALL)
    for raw in raws[:cut]:
        first.engine.ingest(raw, WALL)
    copy_state(first.engine, resumed)
    for raw in raws[cut:]:
        resumed.ingest(raw, WALL)
    expected = queue_lines(whole.engine)
    assert any("contactcenter_sla_breaches_total" in line for line in expected)
    assert queue_lines(resumed) == expected


def test_drop_queue_removes_its_series_only() -> None:
    events, _ = generate_day(DayPlan(seed=6, contacts=200, day="2026-11-20"))
    feed = Feed()
    for event in events:
        feed.send(event)
    board = feed.engine.queues
    queues = sorted({qc.queue for qc in board.tracked})
    gone, kept = queues[0], queues[1:]
    snapshot.drop_queue(board, gone)
    text = exposition(feed.engine).decode()
    assert f'queue="{gone}"' not in text
    for queue in kept:
        assert f'queue="{queue}"' in text
