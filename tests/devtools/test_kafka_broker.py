"""Smoke test of the tests' Kafka broker: a 3-partition topic, 100 keyed messages produced
with aiokafka and read back by a consumer group, exactly once each, per-key order kept."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.support.kafka_broker import Broker, create_topic

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PARTITIONS = 3
MESSAGES = 100
KEYS = 10  # contact-0 … contact-9: murmur2 spreads them over all three partitions
CONSUME_TIMEOUT_S = 60.0


def test_keyed_messages_round_trip_through_a_consumer_group(kafka_broker: Broker) -> None:
    asyncio.run(asyncio.wait_for(round_trip(kafka_broker.bootstrap), timeout=2 * CONSUME_TIMEOUT_S))


async def round_trip(bootstrap: str) -> None:
    topic = f"smoke-{uuid4().hex[:12]}"
    await create_topic(bootstrap, topic, PARTITIONS)
    sent = [(f"contact-{i % KEYS}".encode(), f"event-{i:03d}".encode()) for i in range(MESSAGES)]

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        deliveries = [await producer.send(topic, value=value, key=key) for key, value in sent]
        written = await asyncio.gather(*deliveries)
    finally:
        await producer.stop()
    partition_of = {msg: meta.partition for msg, meta in zip(sent, written, strict=True)}
    assert set(partition_of.values()) == set(range(PARTITIONS))

    received: list[tuple[bytes, bytes, int]] = []
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"{topic}-readers",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONSUME_TIMEOUT_S
        while len(received) < MESSAGES:
            remaining_s = deadline - loop.time()
            assert remaining_s > 0, (
                f"consumed {len(received)} of {MESSAGES} messages in {CONSUME_TIMEOUT_S:.0f}s"
            )
            batches = await consumer.getmany(timeout_ms=int(min(remaining_s, 1.0) * 1000))
            for records in batches.values():
                received.extend((r.key, r.value, r.partition) for r in records)
        await consumer.commit()
        committed = {
            p: await consumer.committed(TopicPartition(topic, p)) for p in range(PARTITIONS)
        }
        assigned = {tp.partition for tp in consumer.assignment()}
    finally:
        await consumer.stop()

    # Exactly the messages sent: none lost, none duplicated, none foreign.
    assert sorted((key, value) for key, value, _ in received) == sorted(sent)
    # Each read from the partition it was written to; all of them owned by this one member.
    assert {(key, value): p for key, value, p in received} == partition_of
    assert assigned == set(range(PARTITIONS))
    # Per key, the consumer sees the producer's order (what keying by contact_id relies on).
    for key in {key for key, _ in sent}:
        assert [v for k, v, _ in received if k == key] == [v for k, v in sent if k == key]
    # The group's committed offsets cover every message.
    assert sum(offset or 0 for offset in committed.values()) == MESSAGES
