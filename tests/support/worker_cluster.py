"""Run `floorwatch worker` processes against a real broker and read their /metrics."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams import kafka_client
from streams.config import apply_env, settings_from_mapping
from streams.core.clock import EventTimeClock
from streams.core.engine import Engine
from streams.core.settings import KafkaSettings
from streams.kafka_client import key_partition
from streams.read.exporter import exposition
from tests.support.daygen import DayPlan, generate_day
from tests.support.kafka_broker import free_ports
from tests.support.live import wait_for

PARTITIONS = 4
GROUP = "FLOORWATCH_KAFKA__CONSUMER_GROUP"
# Series that depend on the exact second they are read (compared elsewhere, not here).
CLOCK_DEPENDENT = ("contactcenter_longest_wait_seconds", "contactcenter_occupancy_ratio")
PER_PROCESS = (
    "contactcenter_events_",
    "contactcenter_event_processing_lag_seconds",
    "contactcenter_last_event_timestamp_seconds",
    "contactcenter_contacts_tracked",
    "contactcenter_overflow_queue_channels",
    "contactcenter_consumer_lag_messages",
    "contactcenter_worker_partitions",
    "contactcenter_dead_letters_total",
    "contactcenter_redis_up",
    "contactcenter_kafka_up",
    "contactcenter_live_targets_version",
)


def kafka_partition(key: str, partitions: int = PARTITIONS) -> int:
    return key_partition(key, partitions)


def parse(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            assert series not in out, f"duplicate series in one scrape: {series}"
            out[series] = float(value)
    return out


def queue_series(metrics: dict[str, float]) -> dict[str, float]:
    return {s: v for s, v in metrics.items() if not s.startswith((*PER_PROCESS, *CLOCK_DEPENDENT))}


def label(series: str, name: str) -> str | None:
    """The value of one label of a series in exposition text (None: absent)."""
    _, found, rest = series.partition(f'{name}="')
    return rest.split('"', 1)[0] if found else None


def owned_queues(scrapes: dict[str, dict[str, float]]) -> dict[str, set[str]]:
    """Worker -> the queue labels it serves."""
    return {
        name: {q for s in queue_series(m) if (q := label(s, "queue")) is not None}
        for name, m in scrapes.items()
    }


class Cluster:
    """Names (topics, group) unique to one test, the workers, a producer."""

    def __init__(self, bootstrap: str, work: Path, redis_url: str | None = None) -> None:
        tag = uuid.uuid4().hex[:8]
        self.work = work
        self.env = {
            "FLOORWATCH_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
            "FLOORWATCH_KAFKA__TOPIC": f"events-{tag}",
            "FLOORWATCH_KAFKA__FACTS_TOPIC": f"facts-{tag}",
            "FLOORWATCH_KAFKA__DLQ_TOPIC": f"dlq-{tag}",
            GROUP: f"group-{tag}",
            "FLOORWATCH_KAFKA__PARTITIONS": str(PARTITIONS),
            "FLOORWATCH_WORKER__TICK_SECONDS": "0.2",
            "FLOORWATCH_WORKER__CHECKPOINT_SECONDS": "0.5",
        }
        if redis_url is not None:
            self.env["FLOORWATCH_REDIS__URL"] = redis_url
            self.env["FLOORWATCH_REDIS__KEY_PREFIX"] = f"floorwatch-{tag}"
        self.workers: dict[str, Worker] = {}

    @property
    def kafka(self) -> KafkaSettings:
        """The workers' Kafka settings (from `env`, security included), for test clients."""
        return settings_from_mapping(apply_env({}, self.env)).kafka

    def produce(self, messages: list[tuple[bytes | None, bytes]]) -> None:
        async def source():  # type: ignore[no-untyped-def]
            for message in messages:
                yield message

        asyncio.run(kafka_client.produce(self.kafka, source()))

    def start(self, name: str, wait_ready: bool = True) -> Worker:
        worker = Worker(name, self.env, self.work / f"state-{name}", wait_ready)
        self.workers[name] = worker
        return worker

    def scrape_all(self) -> dict[str, dict[str, float]]:
        return {name: w.metrics() for name, w in self.workers.items() if w.alive()}

    def union(self) -> dict[str, float]:
        """Queue series of every live worker; a series from two workers is an error.

        Workers are scraped one after the other, so a partition moving between two
        scrapes could show in both. A round counts only when every worker serves the
        same queues in two rounds in a row (ownership stable across the scrapes)."""
        for _ in range(50):
            first, second = self.scrape_all(), self.scrape_all()
            if owned_queues(first) == owned_queues(second):
                break
        out: dict[str, float] = {}
        for name, metrics in second.items():
            for series, value in queue_series(metrics).items():
                assert series not in out, f"{series} served by two workers (one is {name})"
                out[series] = value
        return out

    def processed(self) -> int:
        return int(
            sum(
                v
                for m in self.scrape_all().values()
                for s, v in m.items()
                if s.startswith("contactcenter_events_processed_total")
            )
        )

    def committed(self) -> int:
        """Input messages covered by the group's committed offsets (the workers commit
        only what their Tables hold)."""

        async def read() -> int:
            admin = AIOKafkaAdminClient(**kafka_client.client_options(self.kafka))
            await admin.start()
            try:
                offsets = await admin.list_consumer_group_offsets(self.env[GROUP])
            finally:
                await admin.close()
            topic = self.kafka.topic
            return sum(max(0, meta.offset) for tp, meta in offsets.items() if tp.topic == topic)

        return asyncio.run(read())

    def offsets(self, topic: str) -> tuple[dict[int, int], dict[int, int]]:
        """End offsets of `topic` and the group's committed offsets, per partition (what
        a standard lag tool subtracts; a partition without a commit counts from 0)."""

        async def read() -> tuple[dict[int, int], dict[int, int]]:
            options = kafka_client.client_options(self.kafka)
            admin = AIOKafkaAdminClient(**options)
            consumer = AIOKafkaConsumer(enable_auto_commit=False, **options)
            await admin.start()
            await consumer.start()
            try:
                committed = await admin.list_consumer_group_offsets(self.env[GROUP])
                tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
                ends = await consumer.end_offsets(tps)
            finally:
                await consumer.stop()
                await admin.close()
            return (
                {tp.partition: offset for tp, offset in ends.items()},
                {
                    tp.partition: max(0, committed[tp].offset) if tp in committed else 0
                    for tp in tps
                },
            )

        return asyncio.run(read())

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.stop()


class Worker:
    """`floorwatch worker` in a subprocess (its log in `log`), ready unless told not to
    wait for it."""

    def __init__(
        self, name: str, env: dict[str, str], store: Path, wait_ready: bool = True
    ) -> None:
        self.name = name
        (self.port,) = free_ports(1)
        self.log = store.with_suffix(".log")
        store.mkdir(parents=True, exist_ok=True)
        self._log = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streams", "worker", "--port", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                **env,
                "FLOORWATCH_WORKER__STORE_PATH": str(store),
                "PYTHONUNBUFFERED": "1",
            },
        )
        if wait_ready:
            wait_for(self.ready, 60, f"worker {name} ready (log {self.log})", interval=0.2)

    def alive(self) -> bool:
        return self.process.poll() is None

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            url = f"http://127.0.0.1:{self.port}{path}"
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except (urllib.error.URLError, ConnectionError):
            return 0, b""

    def ready(self) -> bool:
        assert self.alive(), f"worker {self.name} exited; log {self.log}"
        return self.get("/readyz")[0] == 200

    def board(self) -> tuple[int, dict]:  # type: ignore[type-arg]
        """Status and JSON of /api/v1/board."""
        status, body = self.get("/api/v1/board")
        return status, (orjson.loads(body) if body else {})

    def json(self, path: str) -> tuple[int, Any]:
        """Status and JSON of an API path (empty dict without a body)."""
        status, body = self.get(path)
        return status, (orjson.loads(body) if body else {})

    def metrics(self) -> dict[str, float]:
        status, body = self.get("/metrics")
        return parse(body.decode()) if status == 200 else {}

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def keyed(events: list[dict]) -> list[tuple[bytes | None, bytes]]:
    """The contract's keys: contact_id, or agent_id for agent events."""
    return [((e.get("contact_id") or e["agent_id"]).encode(), orjson.dumps(e)) for e in events]


def day_events(seed: int, contacts: int = 400) -> list[dict]:
    day = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    events = list(generate_day(DayPlan(seed=seed, contacts=contacts, day=day, timezone="UTC"))[0])
    end = datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() + 26 * 3600
    covered: dict[int, str] = {}
    n = 0
    while len(covered) < PARTITIONS:
        covered.setdefault(kafka_partition(f"clock-{n}"), f"clock-{n}")
        n += 1
    for i, agent_id in enumerate(covered.values()):
        events.append(
            {
                "event_id": f"clock-event-{i}",
                "type": "agent.state",
                "occurred_at": int(end * 1000),
                "agent_id": agent_id,
                "state": "offline",
                "queues": [],
            }
        )
    return events


def reference(events: list[dict]) -> dict[str, float]:
    engine = Engine(settings_from_mapping({}), EventTimeClock())
    wall = time.time()
    for event in events:
        engine.ingest(orjson.dumps(event), wall)
    engine.queues.advance(time.time())
    return queue_series(parse(exposition(engine).decode()))


def same(actual: dict[str, float], expected: dict[str, float]) -> bool:
    """Equal series and values (up to float summation order across partitions)."""
    if actual.keys() != expected.keys():
        return False
    return all(actual[s] == pytest.approx(v, rel=1e-9, abs=1e-9) for s, v in expected.items())


def differences(actual: dict[str, float], expected: dict[str, float]) -> list[str]:
    keys = sorted(actual.keys() | expected.keys())
    return [
        f"{k}: {actual.get(k)} != {expected.get(k)}"
        for k in keys
        if actual.get(k) is None
        or expected.get(k) is None
        or actual[k] != pytest.approx(expected[k], rel=1e-9, abs=1e-9)
    ][:20]


def converge(cluster: Cluster, expected: dict[str, float], timeout: float = 90) -> None:
    """Wait until the union of the workers' metrics equals `expected`, then check once more."""
    try:
        wait_for(lambda: same(cluster.union(), expected), timeout, "workers to converge", 0.5)
    except AssertionError:
        raise AssertionError("\n".join(differences(cluster.union(), expected))) from None
    assert same(cluster.union(), expected)
