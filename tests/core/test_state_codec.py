"""Engine state survives being written as Table values and read back.

A generated day is split in two: one engine applies all of it; another applies the first
half, its state goes through each class's snapshot and restore and orjson into a third engine, which
applies the second half. Every queue metric must equal the uninterrupted run's (the
distributed runtime restores exactly this way after a crash or a rebalance).
"""

from __future__ import annotations

import orjson
import pytest

from streams.core.clock import EventTimeClock
from streams.core.engine import Engine
from streams.core.summary import COUNTS, NO_BINS, Summary
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
        value = tracker.snapshot(contact_id)
        assert value is not None
        target.contacts.restore(contact_id, through_json(value))  # type: ignore[arg-type]
    target.contacts.restored()
    for agent_id in source.agent_tracker.agents:
        value = source.agent_tracker.snapshot(agent_id)
        target.agent_tracker.restore(agent_id, through_json(value))  # type: ignore[arg-type]
    queues = {qc.queue for qc in source.queues.tracked} | set(source.agents.queues)
    for queue in sorted(queues):
        value = through_json(source.queues.snapshot_queue(queue))
        target.queues.restore_queue(queue, value)  # type: ignore[arg-type]


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
    open_before = [rec for qc in board.tracked if qc.queue != gone for rec in qc.open.values()]
    board.drop_queue(gone)
    text = exposition(feed.engine).decode()
    assert f'queue="{gone}"' not in text
    for queue in kept:
        assert f'queue="{queue}"' in text
    # The SLA clock wakes the kept queues' contacts only, each where it says it is.
    waking = board.sla._heap
    assert {id(rec) for rec in waking} <= {id(rec) for rec in open_before}
    assert all(rec.slot == i for i, rec in enumerate(waking))


def test_summary_merge_adds_every_stored_count() -> None:
    """The one field list (COUNTS) is what `merge` adds and what a snapshot stores: a
    field added to Summary but not to the list, or not to `merge`, fails here."""
    fresh = Summary()
    fields = {a for a in dir(fresh) if not a.startswith("_") and not callable(getattr(fresh, a))}
    assert fields == {*COUNTS, "wait_bins", "frt_bins"}  # compiled classes have no __slots__
    ones, total = Summary(), Summary()
    for i, name in enumerate(COUNTS):
        setattr(ones, name, i + 1)
    total.merge(ones)
    total.merge(ones)
    # Sums double; the one maximum (wait_max) keeps the larger value.
    expected = [2 * (i + 1) if name != "wait_max" else i + 1 for i, name in enumerate(COUNTS)]
    assert total.snapshot()[0] == expected
    assert Summary.restore(through_json(total.snapshot())).snapshot() == total.snapshot()  # type: ignore[arg-type]


def test_summaries_without_bins_share_one_empty_dict_that_nothing_writes_to() -> None:
    """A summary starts with the shared empty bins; adding or merging gives it its own
    dict, a copy of what it merges, so neither the shared dict nor the merged summary
    changes afterwards."""
    waits = Summary()
    waits.answered_wait(12.0, True)
    waits.first_response(300.0)
    window = Summary()
    window.merge(Summary())  # nothing to merge: still the shared bins
    assert window.wait_bins is NO_BINS and window.frt_bins is NO_BINS
    window.merge(waits)
    window.answered_wait(12.0, True)
    window.first_response(300.0)
    assert sum(window.wait_bins.values()) == 2 and sum(window.frt_bins.values()) == 2
    assert sum(waits.wait_bins.values()) == 1 and sum(waits.frt_bins.values()) == 1
    restored = Summary.restore(through_json(Summary().snapshot()))  # type: ignore[arg-type]
    restored.answered_wait(1.0, True)
    restored.first_response(1.0)
    assert NO_BINS == {} and Summary().wait_bins == {} and Summary().frt_bins == {}
