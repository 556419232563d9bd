"""Distinct dead letters: a dead-letter topic built by hand with known repeats, read back
from a real broker; the counts are worked out by hand below."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from streams.core.settings import KafkaSettings
from streams.runtimes.worker.dead_letters import (
    DeadLetterStats,
    NoSuchTopic,
    count_dead_letters,
    dead_letter_stats,
)
from tests.support.kafka_broker import Broker, create_topic_sync


def headers(reason: str, topic: str, partition: int, offset: int) -> list[tuple[str, bytes]]:
    """As the worker writes them (streams/runtimes/worker/contact_partitions.py)."""
    return [
        ("reason", reason.encode()),
        ("detail", b"made by hand"),
        ("source_topic", topic.encode()),
        ("source_partition", str(partition).encode()),
        ("source_offset", str(offset).encode()),
    ]


# (DLQ partition, headers): five source messages, three of them sent again after a
# "crash" (one twice), and one record without source headers.
LETTERS = [
    (0, headers("invalid_json", "events", 0, 10)),
    (0, headers("invalid_json", "events", 0, 11)),
    (1, headers("unknown_type", "events", 1, 10)),
    (1, headers("unknown_type", "other-events", 0, 10)),  # another topic: not a repeat
    (0, headers("missing_field", "events", 0, 12)),
    (0, headers("invalid_json", "events", 0, 10)),  # repeat
    (0, headers("invalid_json", "events", 0, 10)),  # repeat again
    (1, headers("unknown_type", "events", 1, 10)),  # repeat
    (1, [("reason", b"not_an_object")]),  # no source: counted as distinct
]
EXPECTED = DeadLetterStats(
    messages=9,
    distinct=6,  # 5 sources + 1 without one
    repeats=3,
    by_reason={"invalid_json": 2, "unknown_type": 2, "missing_field": 1, "not_an_object": 1},
    unsourced=1,
)


def test_counts_from_headers() -> None:
    assert count_dead_letters(h for _, h in LETTERS) == EXPECTED


@pytest.mark.kafka
def test_a_dead_letter_topic_with_repeats_read_from_a_real_broker(kafka_broker: Broker) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    topic = f"dlq-{uuid.uuid4().hex[:8]}"
    create_topic_sync(kafka_broker.bootstrap, topic, 2)

    async def produce() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
        await producer.start()
        try:
            for partition, hs in LETTERS:
                await producer.send_and_wait(
                    topic, b"raw", key=b"k", partition=partition, headers=hs
                )
        finally:
            await producer.stop()

    asyncio.run(produce())
    assert asyncio.run(dead_letter_stats(kafka, topic, timeout_seconds=30)) == EXPECTED
    with pytest.raises(NoSuchTopic):
        asyncio.run(dead_letter_stats(kafka, f"{topic}-missing", timeout_seconds=30))
