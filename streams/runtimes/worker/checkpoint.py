"""Checkpoints: each effect durable in Kafka before the offset that caused it is committed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

from faust.types import TP

from streams.runtimes.worker.tables import BulkTable, Pair

# One partition's part of a checkpoint: its changed Table values (the applied offset's
# key last, after what it covers) and the offset of the last source message applied.
Changes = tuple[int, list[Pair], int]


class StageState(Protocol):
    """A stage's state as a checkpoint sees it: the Table it lives in, the topic it is
    read from, and what changed in the given partitions since the last checkpoint."""

    @property
    def topic(self) -> str: ...

    @property
    def table(self) -> BulkTable: ...

    def changes(self, partitions: Collection[int]) -> list[Changes]: ...


class Checkpointer:
    """Every `interval_seconds`, in this order: the facts and dead letters sent are
    delivered; the stages' changed values are written to their Tables and changelogs;
    once those are delivered, the next offsets are committed (by `commit_forever`)."""

    # Each partition's applied offset (Table key `o:<partition>`) and the offsets inside
    # Table values skip what a restart delivers again: at-least-once delivery, exactly-
    # once effect, no Kafka transactions (see the design notes).

    def __init__(
        self,
        stages: Sequence[StageState],
        commit: Callable[[Mapping[TP, int]], Awaitable[object]],
        assignment: Callable[[], Collection[TP]],
        interval_seconds: float,
    ) -> None:
        self.stages = stages
        self.commit = commit
        self.assignment = assignment
        self.interval_seconds = interval_seconds
        self.next_checkpoint = 0.0
        self.pending_sends: list[Awaitable[Any]] = []  # facts, dead letters not delivered
        self.dirty: dict[str, set[int]] = {stage.topic: set() for stage in stages}
        self.to_commit: dict[TP, int] = {}  # next offset to read, per partition
        self.to_deliver: list[tuple[BulkTable, TP, asyncio.Future[int]]] = []  # changelogs
        self.commit_wanted = asyncio.Event()

    def sent(self, deliveries: Iterable[Awaitable[Any]]) -> None:
        """Messages whose delivery the next checkpoint waits for."""
        self.pending_sends += deliveries

    def applied(self, tp: TP) -> None:
        """Messages of `tp` were applied: its stage's state changed."""
        self.dirty[tp.topic].add(tp.partition)

    async def maybe_checkpoint(self, now: float) -> None:
        if now >= self.next_checkpoint:
            await self.checkpoint(now)

    async def checkpoint(self, now: float) -> None:
        """Sends delivered, then Table writes (each partition's applied offset after
        what it covers), then the offsets handed to the committer."""
        await asyncio.gather(*self.pending_sends)  # delivered before the Table says so
        self.pending_sends = []
        offsets: dict[TP, int] = {}
        for stage in self.stages:
            dirty = self.dirty[stage.topic]
            for partition, values, applied in stage.changes(dirty):
                source = TP(stage.topic, partition)
                last = await stage.table.write(source, values)
                self.to_deliver.append((stage.table, source, last))
                offsets[source] = applied + 1
            dirty.clear()
        self.next_checkpoint = now + self.interval_seconds
        if offsets:
            self.to_commit.update(offsets)
            self.commit_wanted.set()

    async def commit_forever(self, stopping: Callable[[], bool]) -> None:
        """Commit what checkpoints hand over, once their Table writes are delivered
        (the commit flushes the producer first, too, and skips partitions no longer
        assigned). In a task of its own, outside the worker's lock: delivery takes a
        while under load, and a rebalance may be waiting for the lock."""
        while not stopping():
            await self.commit_wanted.wait()
            self.commit_wanted.clear()
            offsets, self.to_commit = self.to_commit, {}
            landing, self.to_deliver = self.to_deliver, []
            for table, source, future in landing:
                offset = await future
                if source in self.assignment():  # its store is still open
                    table.delivered(source, offset)
            await self.commit(offsets)

    def forget(self, tp: TP) -> None:
        """`tp` moved to another worker: nothing of it is written or committed here."""
        self.to_commit.pop(tp, None)
        self.dirty.get(tp.topic, set()).discard(tp.partition)
