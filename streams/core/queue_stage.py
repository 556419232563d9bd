"""The queue stage of a worker in distributed mode: the queues of the facts partitions it
owns, in one board, with the SLA clock at its sources' watermark (pure; no I/O).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from streams.core.fact_messages import (
    FactsMessage,
    apply_fact,
    fact_position,
    fact_queue,
    queue_partition,
)
from streams.core.queues import QueueBoard
from streams.core.settings import Settings
from streams.core.targets import TargetBook

Position = tuple[int, int]  # (source offset, fact seq)


class QueueStage:
    """The queues of the owned facts partitions. Facts apply as they arrive; the SLA clock
    follows the watermark (the smallest progress time over every source partition), so a
    backlog being caught up never breaches a contact whose answer is still on its way.
    `checkpoint()` gives changed queues with the last (offset, seq) applied per source."""

    def __init__(
        self,
        settings: Settings,
        source_partitions: int,
        facts_partitions: int,
        targets: TargetBook | None = None,  # the worker's, with live targets
    ) -> None:
        self.settings = settings
        self.targets = targets or TargetBook(settings)
        self.board = QueueBoard(settings, self.targets)
        self.source_partitions = source_partitions
        self.facts_partitions = facts_partitions
        self.owned: set[int] = set()
        self.applied: dict[str, dict[int, Position]] = {}
        self.progress: dict[int, dict[int, float]] = {}  # facts partition -> source -> time
        self.dirty: set[str] = set()
        self.skipped = 0

    def partition_of(self, queue: str) -> int:
        return queue_partition(queue, self.facts_partitions)

    def load(
        self, partition: int, values: Iterable[tuple[str, dict[str, Any]]], wall: float
    ) -> None:
        """Take ownership of a facts partition with its stored queues. Every assigned
        partition is loaded before any fact is applied: the SLA clock is shared, and a
        partition joining after it moved would have its stored contacts (and the facts
        replayed since its checkpoint) judged against marks its sources never sent."""
        if self.board.sla_now > -math.inf:
            raise RuntimeError(
                f"facts partition {partition} loaded after the SLA clock moved: load every "
                "assigned partition before applying facts"
            )
        self.board.advance_reading(wall)
        self.owned.add(partition)
        self.progress[partition] = {}
        for queue, value in values:
            self.board.restore_queue(queue, value)
            self.applied[queue] = {int(p): (o, s) for p, o, s in value["applied"]}

    def drop(self, partition: int) -> None:
        """The partition moved away: its queues leave the board (and /metrics) at once.
        Once no partition is left (a rebalance revokes them all), the board starts again
        with its SLA clock unset: partitions assigned next resume from their checkpoints,
        which may lie behind the clock this board had reached."""
        self.owned.discard(partition)
        self.progress.pop(partition, None)
        if not self.owned:
            self.board = QueueBoard(self.settings, self.targets)
            self.applied.clear()
            self.dirty.clear()
            return
        queues = {qc.queue for qc in self.board.tracked} | set(self.board.agents.queues)
        for queue in queues:
            if self.partition_of(queue) == partition:
                self.board.drop_queue(queue)
                self.applied.pop(queue, None)
                self.dirty.discard(queue)

    def apply_message(self, partition: int, message: FactsMessage, wall: float) -> None:
        """One facts message of an owned partition."""
        board = self.board
        board.advance_reading(wall)
        source = message.source
        applied, dirty = self.applied, self.dirty
        for fact in message.facts:
            queue = fact_queue(fact)
            position = fact_position(fact)
            seen = applied.get(queue)
            if seen is None:
                seen = applied[queue] = {}
            last = seen.get(source)
            if last is not None and position <= last:
                self.skipped += 1
                continue
            apply_fact(board, fact)
            seen[source] = position
            dirty.add(queue)
        progress = self.progress.setdefault(partition, {})
        mark = message.mark
        if mark is not None and mark > progress.get(source, -math.inf):
            progress[source] = mark
        board.advance_sla(self.watermark())

    def watermark(self) -> float:
        """Smallest progress over all sources, for every owned partition (-inf if unknown)."""
        marks = []
        for partition in self.owned:
            progress = self.progress.get(partition, {})
            if len(progress) < self.source_partitions:
                return -math.inf
            marks.append(min(progress.values()))
        return min(marks) if marks else -math.inf

    def tick(self, wall: float) -> None:
        self.board.advance_reading(wall)
        self.board.advance_sla(self.watermark())

    def checkpoint(self) -> list[tuple[int, str, dict[str, Any]]]:
        """(partition, queue, Table value) of every queue changed since the last checkpoint."""
        out = []
        for queue in sorted(self.dirty):
            value = self.board.snapshot_queue(queue)
            value["applied"] = [[p, o, s] for p, (o, s) in self.applied.get(queue, {}).items()]
            out.append((self.partition_of(queue), queue, value))
        self.dirty.clear()
        return out
