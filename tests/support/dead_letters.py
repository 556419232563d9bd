"""A dead-letter topic built by hand for the tests of `dlq stats` and its counting: the
headers as the worker writes them, nine letters with repeats and one without a source,
and a topic on a real broker that holds them."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaProducer

from tests.support.kafka_broker import create_topic_sync


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


def letters_topic(bootstrap: str) -> str:
    """A new topic of 2 partitions holding LETTERS, in order; returns its name."""
    topic = f"dlq-{uuid.uuid4().hex[:8]}"
    create_topic_sync(bootstrap, topic, 2)

    async def produce() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for partition, hs in LETTERS:
                await producer.send_and_wait(
                    topic, b"raw", key=b"k", partition=partition, headers=hs
                )
        finally:
            await producer.stop()

    asyncio.run(produce())
    return topic
