"""aiokafka clients configured from `[kafka]` settings (security included)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiokafka import AIOKafkaClient, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import murmur2

from streams.core.settings import KafkaSettings


def client_options(kafka: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments shared by every aiokafka client: servers, SASL and SSL."""
    options: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers,
        "security_protocol": kafka.security_protocol,
    }
    if kafka.security_protocol.startswith("SASL"):
        options.update(
            sasl_mechanism=kafka.sasl_mechanism,
            sasl_plain_username=kafka.sasl_username,
            sasl_plain_password=kafka.sasl_password,
        )
    if kafka.security_protocol.endswith("SSL"):
        options["ssl_context"] = create_ssl_context(
            cafile=kafka.ssl_cafile, certfile=kafka.ssl_certfile, keyfile=kafka.ssl_keyfile
        )
    return options


def producer(kafka: KafkaSettings) -> AIOKafkaProducer:
    """A producer that waits for all in-sync replicas and never duplicates on retry."""
    return AIOKafkaProducer(
        **client_options(kafka), acks="all", enable_idempotence=True, linger_ms=5
    )


async def ensure_topic(kafka: KafkaSettings, name: str, partitions: int) -> None:
    """Create the topic when it does not exist yet (replication 1 on a single broker)."""
    admin = AIOKafkaAdminClient(**client_options(kafka))
    await admin.start()
    try:
        if name in await admin.list_topics():
            return
        brokers = len((await admin.describe_cluster())["brokers"])
        topic = NewTopic(name, num_partitions=partitions, replication_factor=min(3, brokers))
        with contextlib.suppress(TopicAlreadyExistsError):  # created concurrently
            await admin.create_topics([topic])
    finally:
        await admin.close()


async def produce(
    kafka: KafkaSettings,
    messages: AsyncIterator[tuple[bytes | None, bytes]],
    on_sent: Callable[[int], None] | None = None,
) -> int:
    """Send (key, value) pairs to the events topic in order; returns how many were sent."""
    await ensure_topic(kafka, kafka.topic, kafka.partitions)
    client = producer(kafka)
    await client.start()
    sent = 0
    pending: list[asyncio.Future[Any]] = []
    try:
        async for key, value in messages:
            pending.append(await client.send(kafka.topic, value=value, key=key))
            sent += 1
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                pending.clear()
                if on_sent is not None:
                    on_sent(sent)
        await asyncio.gather(*pending)
    finally:
        await client.stop()
    return sent


class ClusterProbe:
    """Asks the Kafka cluster for its metadata, as every client does first, with the
    `[kafka]` settings: `answers()` is True when a broker answered within
    `timeout_seconds`. One attempt per broker and call (the admin client's requests
    retry without a pause until their timeout); a fresh client after a failure."""

    def __init__(self, kafka: KafkaSettings, timeout_seconds: float) -> None:
        self.kafka = kafka
        self.timeout_seconds = timeout_seconds
        self.client: AIOKafkaClient | None = None

    async def answers(self) -> bool:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                if self.client is None:
                    self.client = AIOKafkaClient(
                        **client_options(self.kafka),
                        request_timeout_ms=int(self.timeout_seconds * 1000),
                    )
                    await self.client.bootstrap()
                await self.client.fetch_all_metadata()
        except (KafkaError, OSError, TimeoutError):
            await self.close()
            return False
        return True

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(KafkaError, OSError):
                await client.close()


def key_partition(key: str, partitions: int) -> int:
    """Kafka's default partitioner (murmur2) for a message key."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions
