"""Distinct dead letters in the dead-letter topic, counted by their source position."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaClient, AIOKafkaConsumer, TopicPartition

from streams.core.settings import KafkaSettings
from streams.kafka_client import client_options

Headers = Sequence[tuple[str, bytes]]
NO_REASON = "(none)"  # the reason shown for a record without a `reason` header


class NoSuchTopic(LookupError):
    """The dead-letter topic does not exist: the name is wrong, or no worker has started
    yet (workers create the topic at start)."""


@dataclass(frozen=True)
class DeadLetterStats:
    """What the dead-letter topic holds. A worker sends a dead letter again when it
    crashes before its checkpoint, with the same `source_topic`, `source_partition` and
    `source_offset` headers: `distinct` counts each source message once, `repeats` the
    rest. `by_reason` counts distinct dead letters per `reason` header; `unsourced`
    counts records without the source headers (each taken as distinct)."""

    messages: int
    distinct: int
    repeats: int
    by_reason: dict[str, int]
    unsourced: int


class Tally:
    """Counts dead letters as they are read, by their Kafka headers: each source
    position once, its reason with it; records without one each on their own."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str, str]] = set()
        self.reasons: Counter[str] = Counter()
        self.messages = 0
        self.unsourced = 0

    def add(self, headers: Headers) -> None:
        self.messages += 1
        found = {name: value.decode(errors="replace") for name, value in headers}
        topic = found.get("source_topic")
        partition = found.get("source_partition")
        offset = found.get("source_offset")
        if topic is None or partition is None or offset is None:
            self.unsourced += 1
        elif (topic, partition, offset) in self.seen:
            return
        else:
            self.seen.add((topic, partition, offset))
        self.reasons[found.get("reason", NO_REASON)] += 1

    def stats(self) -> DeadLetterStats:
        distinct = len(self.seen) + self.unsourced
        return DeadLetterStats(
            self.messages, distinct, self.messages - distinct, dict(self.reasons), self.unsourced
        )


def count_dead_letters(records: Iterable[Headers]) -> DeadLetterStats:
    """Count the dead letters given by their Kafka headers."""
    tally = Tally()
    for headers in records:
        tally.add(headers)
    return tally.stats()


async def dead_letter_stats(
    kafka: KafkaSettings, topic: str | None = None, timeout_seconds: float = 60.0
) -> DeadLetterStats:
    """Read the dead-letter topic (`[kafka] dlq_topic` unless `topic` is given) from its
    beginning up to its end offsets at the start of the read, and count its dead
    letters. No consumer group: nothing is committed. Raises `NoSuchTopic`, or
    TimeoutError when the read takes longer than `timeout_seconds`."""
    name = topic or kafka.dlq_topic
    async with asyncio.timeout(timeout_seconds):
        partitions = [TopicPartition(name, p) for p in sorted(await _partitions(kafka, name))]
        return await _read(kafka, partitions)


async def _partitions(kafka: KafkaSettings, topic: str) -> set[int]:
    """The partitions of `topic` (from all the cluster's metadata: asking for one topic
    by name could create it, on brokers that create topics on first use)."""
    client = AIOKafkaClient(**client_options(kafka))
    await client.bootstrap()
    try:
        found = (await client.fetch_all_metadata()).partitions_for_topic(topic)
    finally:
        await client.close()
    if not found:
        raise NoSuchTopic(f"the dead-letter topic {topic!r} does not exist")
    return set(found)


async def _read(kafka: KafkaSettings, partitions: list[TopicPartition]) -> DeadLetterStats:
    """Every record from the beginning up to the end offsets when the read starts."""
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **client_options(kafka))
    await consumer.start()
    tally = Tally()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while remaining:
            for tp, batch in (await consumer.getmany(*remaining, timeout_ms=500)).items():
                for record in batch:
                    if record.offset < ends[tp]:  # not one sent since the read began
                        tally.add(record.headers)
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return tally.stats()
