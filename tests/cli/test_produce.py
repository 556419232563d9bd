"""`floorwatch produce` into a real Kafka broker, read by `floorwatch worker`: the workers'
numbers equal `replay` of the same file (contract JSON Lines, and a simulated Asterisk
queue_log through the connector); lines without a usable key reach the dead-letter topic
with their reason. Files lie two days back (see tests/runtimes/worker/test_kafka.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from streams.config import settings_from_mapping
from streams.connectors import AsteriskOptions, QueueLogConnector
from streams.read.exporter import exposition
from streams.runtimes.replay import replay
from tests.support.kafka_broker import Broker
from tests.support.worker_cluster import Cluster, converge, parse, queue_series

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture
def cluster(kafka_broker: Broker, tmp_path: Path):  # type: ignore[no-untyped-def]
    made = Cluster(kafka_broker.bootstrap, tmp_path)
    yield made
    made.stop()


def floorwatch(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **cluster.env},
    )


def start_two_days_back() -> str:
    day = (datetime.now(UTC) - timedelta(days=2)).replace(hour=8, minute=0, second=0)
    return day.strftime("%Y-%m-%dT%H:%M:%SZ")


def reference(path: Path, connector: QueueLogConnector | None = None) -> dict[str, float]:
    """What replay of the file gives, read at the wall clock as the workers are."""
    with path.open("rb") as source:
        engine = replay(source, settings_from_mapping({}), mapper=connector)
    engine.queues.advance(time.time())
    return queue_series(parse(exposition(engine).decode()))


def test_contract_lines_to_workers_equal_replay_and_keyless_lines_are_dead_letters(
    cluster: Cluster, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    sim = floorwatch(cluster, "simulate", "--start", start_two_days_back(), "--duration", "8h")
    assert sim.returncode == 0, sim.stderr
    lines = sim.stdout.splitlines()
    bad = [
        "{not json",
        '{"event_id":"x1","type":"contact.queued","occurred_at":1795000000000}',
        '{"event_id":"x2","type":"agent.state","occurred_at":1795000000000,"agent_id":7}',
        "[1, 2]",
    ]
    mixed = lines[:100] + bad[:2] + lines[100:200] + bad[2:] + lines[200:]
    events.write_text("\n".join(mixed) + "\n")
    expected = reference(events)
    done = floorwatch(cluster, "produce", str(events))
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"floorwatch produce: sent {len(lines):,} event(s) to {cluster.kafka.topic}; "
        f"4 dead letter(s) to {cluster.kafka.dlq_topic}: invalid_json 1, missing_field 1, "
        "not_an_object 1, wrong_type 1\n"
    )
    cluster.start("a")
    converge(cluster, expected)
    assert cluster.processed() == len(lines)
    dead = read_topic(cluster, cluster.kafka.dlq_topic, 4)
    found = {record.value.decode(): {k: v.decode() for k, v in record.headers} for record in dead}
    assert {value: h["reason"] for value, h in found.items()} == {
        bad[0]: "invalid_json",
        bad[1]: "missing_field",
        bad[2]: "wrong_type",
        bad[3]: "not_an_object",
    }
    assert found[bad[1]]["detail"] == "contact_id: required (it is the Kafka key)"
    assert found[bad[1]]["source_line"] == "102"
    assert found[bad[1]]["source_file"] == str(events)


def test_asterisk_queue_log_to_workers_equals_replay_of_the_same_file(
    cluster: Cluster, tmp_path: Path
) -> None:
    queue_log = tmp_path / "queue_log"
    sim = floorwatch(
        cluster,
        "simulate", "--format", "asterisk", "--start", start_two_days_back(), "--duration", "8h",
    )  # fmt: skip
    assert sim.returncode == 0, sim.stderr
    last = int(sim.stdout.splitlines()[-1].split("|")[0])
    # A call that ends on the last line: its wrap-up ends after the file (flushed at the end).
    tail = [
        f"{last + 1}|{last + 1}.999|billing|NONE|ENTERQUEUE||0151999|1",
        f"{last + 3}|{last + 1}.999|billing|tail|CONNECT|2|{last + 3}.1000|1",
        f"{last + 63}|{last + 1}.999|billing|tail|COMPLETECALLER|2|60|1",
        "this is not a queue_log line",
    ]
    queue_log.write_text(sim.stdout + "\n".join(tail) + "\n")
    options = AsteriskOptions(wrapup_seconds=15.0)
    expected = reference(queue_log, QueueLogConnector(options))
    done = floorwatch(cluster, "produce", "--format", "asterisk", "--wrapup", "15", str(queue_log))
    assert done.returncode == 0, done.stderr
    sent = int(done.stderr.split("sent ")[1].split(" ")[0].replace(",", ""))
    assert done.stderr.splitlines()[1:] == [
        "floorwatch produce: ignored 1 asterisk record(s) by design: queuestart 1"
    ]
    assert done.stderr.splitlines()[0].endswith("1 dead letter(s) to "
        f"{cluster.kafka.dlq_topic}: missing_field 1")  # fmt: skip
    cluster.start("a")
    converge(cluster, expected)
    assert cluster.processed() == sent


def read_topic(cluster: Cluster, topic: str, count: int) -> list:  # type: ignore[type-arg]
    import asyncio

    from aiokafka import AIOKafkaConsumer

    from streams.kafka_client import client_options

    async def run() -> list:  # type: ignore[type-arg]
        consumer = AIOKafkaConsumer(
            topic,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            **client_options(cluster.kafka),
        )
        await consumer.start()
        records = []
        try:
            deadline = time.monotonic() + 60
            while len(records) < count and time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records += batch
        finally:
            await consumer.stop()
        return records

    return asyncio.run(run())


def test_each_event_lands_in_the_partition_of_its_key(cluster: Cluster, tmp_path: Path) -> None:
    """The contract's keys with Kafka's default partitioner: a worker owns each contact."""
    from streams.kafka_client import key_partition

    events = tmp_path / "events.jsonl"
    sim = floorwatch(cluster, "simulate", "--start", start_two_days_back(), "--duration", "1h")
    events.write_text(sim.stdout)
    assert floorwatch(cluster, "produce", str(events)).returncode == 0
    count = len(sim.stdout.splitlines())
    records = read_topic(cluster, cluster.kafka.topic, count)
    assert len(records) == count
    for record in records:
        event = orjson.loads(record.value)
        key = event.get("contact_id") or event["agent_id"]
        assert record.key == key.encode()
        assert record.partition == key_partition(key, 4)


def test_follow_sends_what_a_growing_file_gains_until_stopped(
    cluster: Cluster, tmp_path: Path
) -> None:
    """A queue_log that appears after produce started, grows and is rotated; SIGTERM
    ends it with its summary. Wrap-ups end by the wall clock when the log is quiet."""
    import signal

    log = tmp_path / "queue_log"
    process = subprocess.Popen(
        [sys.executable, "-m", "streams", "produce", "--format", "asterisk", "--follow",
         "--wrapup", "1", str(log)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **cluster.env},
    )  # fmt: skip
    try:
        now = int(time.time())
        log.write_text(
            f"{now}|MANAGER|billing|alice|ADDMEMBER|\n"
            f"{now}|{now}.1|billing|NONE|ENTERQUEUE||0151000001|1\n"
        )
        # agent.state available, contact.queued
        assert len(read_topic(cluster, cluster.kafka.topic, 2)) == 2
        log.rename(tmp_path / "queue_log.1")
        log.write_text(
            f"{now}|{now}.1|billing|alice|CONNECT|0|{now}.2|1\n"
            f"{now}|{now}.1|billing|alice|COMPLETECALLER|0|0|1\n"
        )
        # + on_contact, answered, ended, after_contact_work; 1 s later wrapped, available
        records = read_topic(cluster, cluster.kafka.topic, 8)
        by_key: dict[bytes, list[str]] = {}
        for record in records:  # in order within each key's partition
            by_key.setdefault(record.key, []).append(orjson.loads(record.value)["type"])
        assert by_key == {
            b"alice": ["agent.state"] * 4,  # available, on_contact, wrap-up, available
            f"{now}.1".encode(): [
                "contact.queued",
                "contact.answered",
                "contact.ended",
                "contact.wrapped",
            ],
        }
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0
    assert (
        stderr.splitlines()[-1] == f"floorwatch produce: sent 8 event(s) to {cluster.kafka.topic}"
    )


def test_a_url_is_read_as_it_streams_and_a_missing_one_is_one_line(
    cluster: Cluster, tmp_path: Path
) -> None:
    """`produce URL` against a real HTTP server (the standard library's, on loopback):
    every event of the file served reaches the topic, in its key's partition."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from streams.kafka_client import key_partition

    sim = floorwatch(cluster, "simulate", "--start", start_two_days_back(), "--duration", "1h")
    (tmp_path / "events.jsonl").write_text(sim.stdout)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        done = floorwatch(cluster, "produce", f"{base}/events.jsonl")
        missing = floorwatch(cluster, "produce", f"{base}/nothing.jsonl")
    finally:
        server.shutdown()
    count = len(sim.stdout.splitlines())
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"floorwatch produce: sent {count:,} event(s) to {cluster.kafka.topic}\n"
    records = read_topic(cluster, cluster.kafka.topic, count)
    assert sorted(r.value for r in records) == sorted(
        line.encode() for line in sim.stdout.splitlines()
    )
    for record in records:
        assert record.partition == key_partition(record.key.decode(), 4)
    assert missing.returncode == 1
    assert missing.stderr == (
        f"floorwatch produce: cannot read {base}/nothing.jsonl: HTTP 404 File not found\n"
    )


def test_the_freeswitch_event_socket_is_produced_until_stopped(cluster: Cluster) -> None:
    """`produce freeswitch://` against the event socket's stand-in (FreeSWITCH cannot run
    here; tests/support/esl_stand_in.py): across the stand-in's drop and reconnection, the
    topic gets exactly the events the connector makes of the frames played, keyed as the
    contract says; SIGTERM ends it with its summary."""
    import signal

    from streams.connectors import AsteriskOptions, FreeSwitchConnector
    from tests.support.esl_stand_in import StandIn, calls

    frames = calls(time.time())
    mapper = FreeSwitchConnector(AsteriskOptions())
    expected = [e for frame in frames for e in mapper.feed(frame) if isinstance(e, dict)]
    expected += [e for e in mapper.flush() if isinstance(e, dict)]
    assert len(expected) >= 6  # alice available; two calls queued, one answered and ended...
    server = StandIn("s3cret", [frames[:4], frames[4:]])
    process = subprocess.Popen(
        [sys.executable, "-m", "streams", "produce", f"freeswitch://127.0.0.1:{server.port}",
         "--format", "freeswitch"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **cluster.env, "FLOORWATCH_FREESWITCH__PASSWORD": "s3cret"},
    )  # fmt: skip
    try:
        records = read_topic(cluster, cluster.kafka.topic, len(expected))
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        server.close()
        if process.poll() is None:
            process.kill()
    sent = {orjson.loads(r.value)["event_id"]: r.key for r in records}
    wanted = {
        e["event_id"]: (e.get("agent_id") if e["type"] == "agent.state" else e["contact_id"])
        for e in expected
    }
    assert {k: v.decode() for k, v in sent.items()} == wanted
    assert "connected, subscribed" in stderr
    assert stderr.strip().endswith(f"to {cluster.kafka.topic}")
