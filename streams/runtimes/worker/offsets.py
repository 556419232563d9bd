"""Apply each partition's messages in offset order, once, without gaps."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

log = logging.getLogger("floorwatch.worker")

APPLY, SKIP, HOLD, SEEK, ACCEPT_GAP = "apply", "skip", "hold", "seek", "accept_gap"


class OffsetGate:
    """Per partition, the next offset to apply: earlier offsets are skipped, a later one
    asks for one seek back to the first missing offset and is held until it arrives, or
    accepted once `patience_seconds` have passed (its messages deleted by retention)."""

    # A partition resumes from its committed offset, which can be behind what was
    # applied (the Tables are written before the commit) or beyond it (a fetch dropped
    # by a rebalance after the consumer had moved on).

    def __init__(self, patience_seconds: float) -> None:
        self.patience_seconds = patience_seconds
        self.expected: dict[Hashable, int] = {}  # next offset to apply, per partition
        self.sought: dict[Hashable, float] = {}  # when we sought back to refill a gap

    def resume_at(self, partition: Hashable, offset: int) -> None:
        """The next offset to apply (from the partition's stored applied offset + 1)."""
        self.expected[partition] = offset

    def forget(self, partition: Hashable) -> None:
        self.expected.pop(partition, None)
        self.sought.pop(partition, None)

    def admit_run(self, partition: Hashable, first: int, last: int, count: int) -> bool:
        """Admit `count` ascending offsets from `first` to `last` at once when they are
        exactly the next expected ones, with no gap (the usual fetch); False changes
        nothing, and the messages go through `admit` one by one."""
        expected = self.expected.get(partition)
        if (expected is None or first == expected) and last - first == count - 1:
            self.expected[partition] = last + 1
            self.sought.pop(partition, None)
            return True
        return False

    def admit(self, partition: Hashable, offset: int, now: float) -> str:
        """APPLY, SKIP (applied already), HOLD (wait for the gap to refill), SEEK (seek
        back to `expected[partition]`, then hold) or ACCEPT_GAP (apply; the gap is gone)."""
        expected = self.expected.get(partition)
        if expected is None or offset == expected:
            self.expected[partition] = offset + 1
            self.sought.pop(partition, None)
            return APPLY
        if offset < expected:
            return SKIP
        sought = self.sought.get(partition)
        if sought is None:
            self.sought[partition] = now
            return SEEK
        if now - sought > self.patience_seconds:
            self.expected[partition] = offset + 1
            del self.sought[partition]
            return ACCEPT_GAP
        return HOLD


async def admitted(
    gate: OffsetGate,
    tp: Hashable,
    records: list[Any],
    seek: Callable[[Any, int], Awaitable[None]],
    now: float,
) -> list[Any]:
    """The records of `tp` (aiokafka's, each with an `offset`) the gate admits; seeks
    back (`seek(tp, offset)`) where it finds a gap. `now` is a monotonic time, for the
    gate's patience."""
    if records and gate.admit_run(tp, records[0].offset, records[-1].offset, len(records)):
        return records
    out = []
    for record in records:
        offset = record.offset
        expected = gate.expected.get(tp)
        decision = gate.admit(tp, offset, now)
        if decision == APPLY:
            out.append(record)
        elif decision == SEEK:
            log.info("refilling %s: offsets %s to %d", tp, expected, offset - 1)
            assert expected is not None  # SEEK only comes with an expected offset
            await seek(tp, expected)
        elif decision == ACCEPT_GAP:
            log.warning("offsets %s to %d of %s are gone; going on", expected, offset - 1, tp)
            out.append(record)
    return out
