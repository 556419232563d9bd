"""The queue stage of the facts partitions a worker owns, on Kafka and its Table."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import orjson
from faust.types import TP

from streams.core import table_keys
from streams.core.fact_messages import FactsMessage
from streams.core.queue_stage import QueueStage
from streams.runtimes.worker.checkpoint import Changes
from streams.runtimes.worker.contact_partitions import unapplied
from streams.runtimes.worker.offsets import OffsetGate, admitted
from streams.runtimes.worker.tables import BulkTable, Pair

log = logging.getLogger("floorwatch.worker")


class QueuePartitions:
    """The worker's `QueueStage`, fed the facts of its owned facts partitions in offset
    order. Every assigned partition not loaded yet is loaded at once from the queues
    Table: they share one SLA clock (see `QueueStage.load`)."""

    def __init__(
        self,
        topic: str,
        stage: QueueStage,
        table: BulkTable,
        gate: OffsetGate,
        seek: Callable[[TP, int], Awaitable[None]],
        assigned: Callable[[], Collection[int]],
    ) -> None:
        self.topic = topic
        self.stage = stage
        self.table = table
        self.gate = gate
        self.seek = seek
        self.assigned = assigned  # the facts partitions assigned to this worker now
        self.applied: dict[int, int] = {}  # facts partition -> last offset applied
        # Queues loaded from a key of the old layout (their bare name): the next write of
        # the queue deletes that key, so it cannot outlive its `q:` key.
        self.bare_keys: set[str] = set()

    def load(self, wall: float, also: Collection[int] = ()) -> None:
        """Every assigned partition (and `also`) not loaded yet, in one pass over the Table."""
        loading = (set(self.assigned()) | set(also)) - self.stage.owned
        if not loading:
            return
        stored: dict[int, dict[str, bytes]] = {p: {} for p in loading}
        bare: set[str] = set()
        for raw_key, value in self.table.items():
            kind, name, is_bare = table_keys.queues_table_entry(raw_key.decode(), value)
            if kind == table_keys.OFFSET:
                partition = table_keys.offset_partition(name)
                if partition in loading:
                    self.applied[partition] = int(value)
                    self.gate.resume_at(TP(self.topic, partition), int(value) + 1)
                continue
            queues = stored.get(self.stage.partition_of(name))
            if queues is None:
                continue
            if is_bare:
                bare.add(name)
                queues.setdefault(name, value)  # a `q:` key of the same queue is newer
            else:
                queues[name] = value
        self.bare_keys |= bare
        for partition, queues in sorted(stored.items()):
            self.stage.load(
                partition, [(name, orjson.loads(v)) for name, v in queues.items()], wall
            )
            log.info("queue stage partition %d loaded: %d queues", partition, len(queues))

    async def apply(self, tp: TP, records: list[Any], wall: float, now: float) -> bool:
        """Apply a partition's facts messages (aiokafka records); True when any was.
        `wall` is the wall clock, `now` a monotonic time."""
        partition = tp.partition
        if partition not in self.stage.owned:
            self.load(wall, {partition})  # first: it knows where to resume
        records = await admitted(self.gate, tp, records, self.seek, now)
        for record in records:
            self.stage.apply_message(partition, FactsMessage.decode(record.value or b"{}"), wall)
        if records:
            self.applied[partition] = records[-1].offset
        return bool(records)

    def lags(self, highwater: Callable[[TP], int | None]) -> dict[int, int | None]:
        """Facts messages of each loaded partition not applied yet (None while unknown)."""
        return {
            p: unapplied(highwater(TP(self.topic, p)), self.applied.get(p, -1))  # -1: none
            for p in sorted(self.stage.owned)
        }

    def changes(self, partitions: Collection[int]) -> list[Changes]:
        """The changed queues of each partition, then its applied offset. Every
        checkpoint takes the stage's changes, whether or not facts were applied."""
        by_partition: dict[int, list[Pair]] = {}
        for partition, queue, stored in self.stage.checkpoint():
            values = by_partition.setdefault(partition, [])
            values.append((table_keys.queue_key(queue).encode(), orjson.dumps(stored)))
            if queue in self.bare_keys:  # after the new value: a torn write keeps one of them
                self.bare_keys.discard(queue)
                values.append((queue.encode(), None))
        out = []
        for partition in partitions:
            applied = self.applied[partition]
            values = by_partition.get(partition, [])
            values.append((table_keys.offset_key(partition).encode(), str(applied).encode()))
            out.append((partition, values, applied))
        return out

    def drop(self, partition: int) -> None:
        """The partition moved to another worker: its queues leave at once."""
        self.gate.forget(TP(self.topic, partition))
        self.stage.drop(partition)
        self.applied.pop(partition, None)
        self.bare_keys = {q for q in self.bare_keys if self.stage.partition_of(q) != partition}
