"""`floorwatch simulate --kafka` against a real Kafka 3.9 broker: the same messages as the
file output, keyed per the contract (contact_id, or agent_id for agent events)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer

from tests.support.kafka_broker import Broker

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ARGS = ["--seed", "5", "--start", "2026-11-20T08:00:00Z", "--duration", "2h"]


def test_simulate_to_kafka_produces_the_file_output_keyed_by_contact(
    kafka_broker: Broker, tmp_path: Path
) -> None:
    topic = f"contact-events-{uuid4().hex[:8]}"
    env = {
        **os.environ,
        "FLOORWATCH_KAFKA__BOOTSTRAP_SERVERS": kafka_broker.bootstrap,
        "FLOORWATCH_KAFKA__TOPIC": topic,
        "FLOORWATCH_KAFKA__PARTITIONS": "3",
    }
    to_kafka = subprocess.run(
        [sys.executable, "-m", "streams", "simulate", *ARGS, "--kafka"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert to_kafka.returncode == 0, to_kafka.stderr
    out = tmp_path / "events.jsonl"
    subprocess.run(
        [sys.executable, "-m", "streams", "simulate", *ARGS, "--out", str(out)],
        check=True,
        timeout=120,
    )
    lines = out.read_bytes().splitlines()
    received = asyncio.run(consume(kafka_broker.bootstrap, topic, len(lines)))

    assert sorted(value for _, value in received) == sorted(lines)
    by_key: dict[bytes | None, list[bytes]] = {}
    for key, value in received:
        by_key.setdefault(key, []).append(value)
    expected: dict[bytes | None, list[bytes]] = {}
    for line in lines:
        expected.setdefault(contract_key(line), []).append(line)
    # Every message carries its contract key, and each key's messages keep their order.
    assert by_key == expected


def contract_key(line: bytes) -> bytes | None:
    """The Kafka key events.md prescribes, worked out from the message itself."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    if str(event.get("type", "")).startswith("agent."):
        key = event.get("agent_id")
    else:
        key = event.get("contact_id")
    return key.encode() if isinstance(key, str) else None


async def consume(bootstrap: str, topic: str, count: int) -> list[tuple[bytes | None, bytes]]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"{topic}-check",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: list[tuple[bytes | None, bytes]] = []
    try:
        async with asyncio.timeout(60):
            while len(received) < count:
                batches = await consumer.getmany(timeout_ms=1000)
                for partition_messages in batches.values():
                    received += [(m.key, m.value) for m in partition_messages]
    finally:
        await consumer.stop()
    return received
