"""`floorwatch dlq stats` through the real command line: a dead-letter topic built by
hand on a real broker (as tests/runtimes/worker/test_dead_letters.py builds one), a
missing topic, an unreachable broker."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests.support.kafka_broker import Broker, create_topic_sync

pytestmark = pytest.mark.slow


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


def floorwatch(*args: str, bootstrap: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "FLOORWATCH_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "streams", "dlq", "stats", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=90,
        cwd=cwd,
        env={**base, "FLOORWATCH_KAFKA__BOOTSTRAP_SERVERS": bootstrap},
    )


@pytest.mark.kafka
def test_counts_of_a_hand_built_topic_and_a_missing_one(
    kafka_broker: Broker, tmp_path: Path
) -> None:
    """9 messages: 5 source messages (one of another topic), 3 sent again, 1 without
    source headers -> 6 distinct, 3 repeats; by reason invalid_json 2 (offsets 10, 11),
    unknown_type 2, missing_field 1, not_an_object 1."""
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
    done = floorwatch("--topic", topic, "--json", bootstrap=kafka_broker.bootstrap, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == {
        "topic": topic,
        "messages": 9,
        "distinct": 6,
        "repeats": 3,
        "unsourced": 1,
        "by_reason": {"invalid_json": 2, "unknown_type": 2, "missing_field": 1, "not_an_object": 1},
    }
    table = floorwatch("--topic", topic, bootstrap=kafka_broker.bootstrap, cwd=tmp_path)
    assert table.returncode == 0
    assert table.stdout.splitlines() == [
        f"dead letters in {topic}",
        "  messages              9",
        "  distinct              6",
        "  repeats               3",
        "  unsourced             1",
        "distinct by reason",
        "  invalid_json          2",
        "  unknown_type          2",
        "  missing_field         1",
        "  not_an_object         1",
    ]
    missing = floorwatch("--topic", f"{topic}-x", bootstrap=kafka_broker.bootstrap, cwd=tmp_path)
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == (
        f"floorwatch dlq: the dead-letter topic '{topic}-x' does not exist at "
        f"{kafka_broker.bootstrap}\n"
    )


def test_an_unreachable_broker_is_exit_3_in_one_line(tmp_path: Path) -> None:
    done = floorwatch("--timeout", "5", bootstrap="127.0.0.1:1", cwd=tmp_path)
    assert done.returncode == 3
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("floorwatch dlq: cannot reach Kafka at 127.0.0.1:1")
