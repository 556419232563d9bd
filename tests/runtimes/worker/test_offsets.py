"""The offset gate: each partition's messages applied in order, gaps refilled."""

from __future__ import annotations

from streams.runtimes.worker.offsets import ACCEPT_GAP, APPLY, HOLD, SEEK, SKIP, OffsetGate


def test_in_order_messages_apply_and_redelivered_ones_are_skipped() -> None:
    gate = OffsetGate(patience_seconds=10)
    assert [gate.admit("p0", o, 0.0) for o in (5, 6, 7)] == [APPLY] * 3
    assert gate.admit("p0", 6, 0.0) == SKIP  # delivered again (resumed from a commit)
    assert gate.expected["p0"] == 8
    gate.resume_at("p1", 100)  # stored applied offset 99
    assert [gate.admit("p1", o, 0.0) for o in (98, 99, 100)] == [SKIP, SKIP, APPLY]


def test_a_gap_seeks_back_once_and_holds_until_refilled() -> None:
    gate = OffsetGate(patience_seconds=10)
    gate.resume_at("p0", 100)  # stored applied offset 99
    assert gate.admit("p0", 140, 1.0) == SEEK  # 100..139 were fetched, then dropped
    assert gate.admit("p0", 141, 1.1) == HOLD
    assert gate.admit("p1", 7, 1.1) == APPLY  # other partitions go on
    assert [gate.admit("p0", o, 2.0) for o in range(100, 142)] == [APPLY] * 42
    assert gate.admit("p0", 141, 2.0) == SKIP
    assert gate.admit("p0", 150, 3.0) == SEEK  # a new gap seeks again


def test_a_gap_that_never_refills_is_accepted_after_the_patience() -> None:
    gate = OffsetGate(patience_seconds=10)
    gate.resume_at("p0", 0)
    assert gate.admit("p0", 500, 0.0) == SEEK
    assert gate.admit("p0", 500, 9.0) == HOLD
    assert gate.admit("p0", 500, 10.5) == ACCEPT_GAP
    assert gate.admit("p0", 501, 10.6) == APPLY


def test_forgetting_a_partition_starts_afresh() -> None:
    gate = OffsetGate(patience_seconds=10)
    gate.resume_at("p0", 10)
    gate.forget("p0")
    assert gate.admit("p0", 500, 0.0) == APPLY


def test_a_run_that_follows_on_is_admitted_at_once_and_anything_else_one_by_one() -> None:
    gate = OffsetGate(patience_seconds=10)
    assert gate.admit_run("p0", 5, 9, 5)  # first fetch of the partition
    assert gate.expected["p0"] == 10
    assert gate.admit_run("p0", 10, 12, 3)
    assert not gate.admit_run("p0", 11, 14, 4)  # overlaps what was applied
    assert not gate.admit_run("p0", 14, 16, 3)  # starts beyond a gap
    assert not gate.admit_run("p0", 13, 17, 3)  # has a gap inside (a compacted topic)
    assert gate.expected["p0"] == 13  # refusals change nothing
    assert gate.admit("p0", 16, 0.0) == SEEK
    assert gate.admit_run("p0", 13, 15, 3)  # the gap refilled: the seek is done with
    assert "p0" not in gate.sought
