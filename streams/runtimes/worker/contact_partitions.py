"""The contact stage of the input partitions a worker owns, on Kafka and its Table."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import orjson
from faust.types import TP

from streams.core import table_keys
from streams.core.contact_stage import ContactStage
from streams.core.fact_messages import FactsMessage
from streams.core.pipeline import PipelineStats
from streams.core.settings import Settings
from streams.core.targets import TargetBook
from streams.kafka_client import key_partition
from streams.runtimes.worker.checkpoint import Changes
from streams.runtimes.worker.offsets import OffsetGate, admitted
from streams.runtimes.worker.tables import BulkTable

log = logging.getLogger("floorwatch.worker")

FACTS_PER_MESSAGE = 5_000  # keeps a facts message well under the topic's 1 MiB limit

Delivery = Awaitable[Any]  # a sent message's delivery
SendFact = Callable[[int, bytes], Awaitable[Delivery]]  # facts partition, value
SendDeadLetter = Callable[
    [bytes | None, bytes | None, list[tuple[str, bytes]]], Awaitable[Delivery]
]
Seek = Callable[[TP, int], Awaitable[None]]


class ContactPartitions:
    """Each owned input partition's `ContactStage`: loaded from the contacts Table on
    first use, fed whole fetches in offset order; sends its facts to the queue stage's
    partitions, its rejects to the dead-letter topic and its progress marks."""

    def __init__(
        self,
        settings: Settings,
        table: BulkTable,
        pipeline: PipelineStats,
        targets: TargetBook,
        gate: OffsetGate,
        send_fact: SendFact,
        send_dead_letter: SendDeadLetter,
        seek: Seek,
        assigned: Callable[[], Collection[int]],
    ) -> None:
        self.settings = settings
        self.topic = settings.kafka.topic
        self.partition_count = settings.kafka.partitions
        self.table = table
        self.pipeline = pipeline
        self.targets = targets
        self.gate = gate
        self.send_fact = send_fact
        self.send_dead_letter = send_dead_letter
        self.seek = seek
        self.assigned = assigned  # the input partitions assigned to this worker now
        self.stages: dict[int, ContactStage] = {}  # shared with the worker's read view
        self.dead_letters = 0

    def stage(self, partition: int) -> ContactStage:
        """A partition's contact stage, loaded from the Table on first use — together
        with every other assigned partition not loaded yet: one pass over the Table."""
        found = self.stages.get(partition)
        if found is None:
            self._load((set(self.assigned()) | {partition}) - set(self.stages))
            found = self.stages[partition]
        return found

    def _load(self, partitions: set[int]) -> None:
        loading = {
            p: ContactStage(p, self.settings, self.pipeline, self.partition_count, self.targets)
            for p in partitions
        }
        for raw_key, value in self.table.items():
            key = raw_key.decode()
            kind = table_keys.kind_of(key)
            if kind == table_keys.OFFSET:
                part = loading.get(table_keys.offset_partition(key))
                if part is not None:
                    self.gate.resume_at(TP(self.topic, part.partition), int(value) + 1)
                    part.last_offset = part.published_offset = int(value)
            else:
                partition = (
                    table_keys.event_ids_position(key)[0]
                    if kind == table_keys.EVENT_IDS
                    else table_keys.activity_position(key)[0]
                    if kind == table_keys.ACTIVITY
                    else key_partition(table_keys.subject(key), self.partition_count)
                )
                part = loading.get(partition)
                if part is not None:
                    part.restore(key, orjson.loads(value))
        for partition, part in loading.items():
            part.restored()
            self.stages[partition] = part
            log.info(
                "contact stage partition %d loaded: %d contacts", partition, part.tracked_count
            )

    async def apply(
        self, tp: TP, records: list[Any], wall: float, now: float
    ) -> list[Delivery] | None:
        """Apply a partition's records (aiokafka's) and send their facts and dead
        letters; returns their deliveries, or None when no record was applied. Table
        writes wait for the checkpoint, so a contact changed often is written once.
        `wall` is the wall clock, `now` a monotonic time."""
        part = self.stage(tp.partition)  # first: it knows where to resume
        records = await admitted(self.gate, tp, records, self.seek, now)
        if not records:
            return None
        for record in records:
            part.apply(record.offset, record.key, record.value or b"", wall)
        sends = await self._send_facts(part)
        part.published()
        for reject in part.take_rejects():
            headers = [
                ("reason", reject.reason.encode()),
                ("detail", reject.detail.encode()),
                ("source_topic", self.topic.encode()),
                ("source_partition", str(tp.partition).encode()),
                ("source_offset", str(reject.offset).encode()),
            ]
            sends.append(await self.send_dead_letter(reject.key, reject.raw, headers))
            self.dead_letters += 1
        return sends

    async def _send_facts(self, part: ContactStage) -> list[Delivery]:
        """A partition's new facts, in messages of at most FACTS_PER_MESSAGE facts; only
        the last message to each destination carries the progress time (all the facts
        before it are then applied)."""
        mark = part.now if math.isfinite(part.now) else None
        sends = []
        for dest, facts in part.recorder.take().items():
            for start in range(0, len(facts), FACTS_PER_MESSAGE):
                chunk = facts[start : start + FACTS_PER_MESSAGE]
                last = start + FACTS_PER_MESSAGE >= len(facts)
                value = FactsMessage(part.partition, mark if last else None, chunk).encode()
                sends.append(await self.send_fact(dest, value))
        return sends

    async def mark_progress(
        self, highwater: Callable[[TP], int | None], wall: float
    ) -> dict[int, int | None]:
        """Each owned partition tells every facts partition how far it has got (the wall
        clock once it has caught up); returns each one's lag (None while unknown)."""
        lags: dict[int, int | None] = {}
        for partition in sorted(self.assigned()):
            part = self.stage(partition)
            lag = unapplied(highwater(TP(self.topic, partition)), part.published_offset)
            lags[partition] = lag
            mark = progress(part, lag == 0, wall)
            if mark is None:
                continue
            value = FactsMessage(partition, mark, []).encode()
            for dest in range(self.partition_count):
                await self.send_fact(dest, value)
        return lags

    def changes(self, partitions: Collection[int]) -> list[Changes]:
        """Each partition's changed contacts, agents and event ids, then its applied offset."""
        out = []
        for partition in partitions:
            part = self.stages[partition]
            values = [
                (key.encode(), None if value is None else orjson.dumps(value))
                for key, value in part.changed()
            ]
            values.append(
                (table_keys.offset_key(partition).encode(), str(part.last_offset).encode())
            )
            out.append((partition, values, part.last_offset))
        return out

    def drop(self, partition: int) -> None:
        """The partition moved to another worker: forget its state."""
        self.gate.forget(TP(self.topic, partition))
        self.stages.pop(partition, None)


def progress(part: ContactStage, caught_up: bool, wall: float) -> float | None:
    """How far a source partition has got: the wall clock once it is caught up."""
    if caught_up:
        return max(wall, part.published_now)
    return part.published_now if math.isfinite(part.published_now) else None


def unapplied(highwater: int | None, applied: int) -> int | None:
    """Messages of a partition not applied yet (None while its high-water mark is
    unknown). Counted from what was applied, never from the consumer's position: that
    runs ahead of it (prefetched messages, and positions from before a rebalance)."""
    if highwater is None:
        return None
    return max(0, highwater - applied - 1)
