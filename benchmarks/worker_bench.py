"""Distributed-mode benchmark: one `floorwatch worker` against a local Kafka broker.

    .venv/bin/python benchmarks/worker_bench.py [--contacts 202000] [--rate 2000]

Starts its own single-node broker (devtools/kafka/broker.sh, native; stopped at the end),
then measures on this machine, in one run:
  a. raw consumer: a plain aiokafka consumer reading the pre-filled topic (>= 1M events,
     the synthetic day of replay_bench.py) — the ceiling for any Python consumer;
  b. worker: `floorwatch worker` (new consumer group, RocksDB Tables) from start to lag 0
     on the same topic, and from its first applied event;
  c. freshness: at a steady --rate events/s, the time from producing a probe event to
     its count showing in the worker's /metrics (p50, p99; scraped every 50 ms);
  d. restart to ready with 100,000 open contacts: SIGTERM, then a new process on the same
     store (local RocksDB) and on an empty one (Tables restored from the changelogs);
  e. the ceiling for (b): the engine alone on the same events, decoded beforehand (no
     Kafka, no JSON), as in replay_bench.py;
  f. the least a worker does, in one process: the raw consumer of (a), each event
     decoded and applied to one engine as `floorwatch replay` does (no Faust, Tables,
     facts topic or second stage); and the same with decoding only (an engine that cost
     nothing);
  g. the worker's own stages in one process, no Kafka: the events split by key as the
     topic is, a contact stage per partition fed `batch_size` messages at a time, its
     facts encoded and decoded into the queue stage, and every checkpoint's Table values
     encoded, as the worker does them: what the worker's design costs before any I/O.
  h. CPU per event and cores kept busy during (f) and (b): this process and the broker
     serving it, then the worker and the broker serving it (/proc/<pid>/stat).
Prints a table and writes benchmarks/out/worker_bench.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replay_bench import OUT, WALL, dataset, engine_only

from streams import kafka_client
from streams.core.clock import EventTimeClock
from streams.core.contact_stage import ContactStage
from streams.core.engine import Engine
from streams.core.fact_messages import FactsMessage
from streams.core.intake import Rejection, decode
from streams.core.pipeline import PipelineStats
from streams.core.queue_stage import QueueStage
from streams.core.settings import KafkaSettings, Settings
from streams.kafka_client import key_partition
from streams.runtimes.process import tune_gc

ROOT = Path(__file__).resolve().parent.parent
BROKER_SH = ROOT / "devtools" / "kafka" / "broker.sh"
PARTITIONS = 6
LAG = "contactcenter_consumer_lag_messages"
SCRAPE_SECONDS = 0.05  # a scrape renders every series: more often would load the worker
THROUGHPUT_POLL_SECONDS = 0.5  # scraping as often as the freshness probes slows a busy worker
PROBE_SERIES = 'contactcenter_contacts_offered_total{channel="voice",queue="probe"}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_broker(work: Path) -> str:
    port, controller = free_port(), free_port()
    done = subprocess.run(
        [
            "bash",
            str(BROKER_SH),
            "start",
            "--port",
            str(port),
            "--controller-port",
            str(controller),
            "--dir",
            str(work / "kafka"),
            "--watch-pid",
            str(os.getpid()),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return re.search(r"bootstrap=(\S+)", done.stdout).group(1)  # type: ignore[union-attr]


def broker_pid(work: Path) -> int:
    return int((work / "kafka" / "broker.pid").read_text())


def stop_broker(work: Path) -> None:
    subprocess.run(["bash", str(BROKER_SH), "stop", "--dir", str(work / "kafka")], check=False)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds that processes use between `start` and `stop`: this one, and others by
    pid (the broker, a worker). On two cores the worker and the broker share the machine:
    their CPU per event says what rate the machine allows at all."""

    def __init__(self, **pids: int) -> None:
        self.pids = {"self": os.getpid(), **pids}
        self.used: dict[str, float] = {}

    def start(self) -> None:
        self.used = {name: -cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> None:
        for name, pid in self.pids.items():
            self.used[name] += cpu_seconds(pid)


def settings(bootstrap: str, topic: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=bootstrap, topic=topic, partitions=PARTITIONS)


def keyed_lines(path: Path) -> list[tuple[bytes | None, bytes]]:
    out = []
    with path.open("rb") as handle:
        for line in handle:
            event = orjson.loads(line)
            key = event.get("contact_id") or event.get("agent_id")
            out.append((key.encode() if key else None, line.rstrip(b"\n")))
    return out


async def produce(kafka: KafkaSettings, messages: list[tuple[bytes | None, bytes]]) -> None:
    async def source():  # type: ignore[no-untyped-def]
        for message in messages:
            yield message

    await kafka_client.produce(kafka, source())


async def consume(
    kafka: KafkaSettings,
    count: int,
    each_batch: Callable[[list[Any]], None] | None = None,
    meter: CpuMeter | None = None,
) -> float:
    """Seconds to read `count` messages from the start of the topic with a plain aiokafka
    consumer, handing each fetched batch to `each_batch` (if any); `meter` measures the
    CPU used meanwhile."""
    consumer = AIOKafkaConsumer(
        kafka.topic,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        **kafka_client.client_options(kafka),
    )
    await consumer.start()
    seen = 0
    if meter is not None:
        meter.start()
    started = time.perf_counter()
    try:
        while seen < count:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=20000)).values():
                seen += len(records)
                if each_batch is not None:
                    each_batch(records)
    finally:
        elapsed = time.perf_counter() - started
        if meter is not None:
            meter.stop()
        await consumer.stop()
    return elapsed


def decode_feed() -> Callable[[list[Any]], None]:
    """Each record decoded and validated, and nothing else: a worker whose engine cost
    nothing would still do this."""

    def check(records: list[Any]) -> None:
        for record in records:
            with contextlib.suppress(Rejection):
                decode(record.value, WALL)

    return check


def engine_feed() -> Callable[[list[Any]], None]:
    """Each record decoded, validated and applied to one engine, as `floorwatch replay`
    does: the least work any worker does with an event (no Faust, no Tables, no facts
    topic, no second stage)."""
    engine = Engine(Settings(), EventTimeClock())

    def apply(records: list[Any]) -> None:
        for record in records:
            engine.ingest(record.value, WALL)

    return apply


def stages_only(messages: list[tuple[bytes | None, bytes]], checkpoint_every: int) -> float:
    """Seconds for the worker's two stages to take `messages` in one process (g): each
    partition's messages a fetch at a time, facts through their encoding, and the Table
    values of every `checkpoint_every` messages encoded (not written)."""
    settings = Settings()
    batch = settings.worker.batch_size
    parts: dict[int, list[tuple[int, bytes | None, bytes]]] = {p: [] for p in range(PARTITIONS)}
    for key, value in messages:
        part = parts[key_partition(key.decode(), PARTITIONS) if key else 0]
        part.append((len(part), key, value))
    pipeline = PipelineStats()
    stages = {p: ContactStage(p, settings, pipeline, PARTITIONS) for p in range(PARTITIONS)}
    queues = QueueStage(settings, PARTITIONS, PARTITIONS)
    for p in range(PARTITIONS):
        queues.load(p, [], WALL)
    started = time.perf_counter()
    since_checkpoint = 0
    for start in range(0, max(len(part) for part in parts.values()), batch):
        for p, part in parts.items():
            stage = stages[p]
            for offset, key, value in part[start : start + batch]:
                stage.apply(offset, key, value, WALL)
                since_checkpoint += 1
            sent = [
                (dest, FactsMessage(p, stage.now, facts).encode())
                for dest, facts in stage.recorder.take().items()
            ]
            stage.published()
            stage.take_rejects()
            for dest, raw in sent:
                queues.apply_message(dest, FactsMessage.decode(raw), WALL)
            if since_checkpoint >= checkpoint_every:
                since_checkpoint = 0
                for each in stages.values():
                    for _, stored in each.changed():
                        orjson.dumps(stored)
                for _, _, value in queues.checkpoint():
                    orjson.dumps(value)
    return time.perf_counter() - started


class WorkerProcess:
    def __init__(self, bootstrap: str, topic: str, group: str, store: Path) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "FLOORWATCH_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
            "FLOORWATCH_KAFKA__TOPIC": topic,
            "FLOORWATCH_KAFKA__FACTS_TOPIC": f"{topic}-facts",
            "FLOORWATCH_KAFKA__DLQ_TOPIC": f"{topic}-dlq",
            "FLOORWATCH_KAFKA__CONSUMER_GROUP": group,
            "FLOORWATCH_KAFKA__PARTITIONS": str(PARTITIONS),
            "FLOORWATCH_WORKER__STORE_PATH": str(store),
        }
        self.log = store.with_suffix(".log").open("ab")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-P",  # no script or working directory on sys.path: the same build
                "-m",
                "streams",
                "worker",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as error:
            return error.code, b""
        except OSError:
            return 0, b""

    def metrics(self) -> dict[str, float]:
        status, body = self.get("/metrics")
        out: dict[str, float] = {}
        if status == 200:
            for line in body.decode().splitlines():
                if line and not line.startswith("#"):
                    series, _, value = line.rpartition(" ")
                    out[series] = float(value)
        return out

    def wait(self, condition, what: str, timeout: float = 1800, poll: float = 0.05) -> float:  # type: ignore[no-untyped-def]
        """Seconds since the process started, once `condition(metrics)` holds (checked
        every `poll` seconds: a scrape renders every series, and costs the worker)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            assert self.process.poll() is None, f"worker exited; see {self.log.name}"
            if condition(self.metrics()):
                return time.perf_counter() - self.started
            time.sleep(poll)
        raise TimeoutError(f"{what} not within {timeout} s; see {self.log.name}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def total(metrics: dict[str, float], prefix: str) -> float:
    return sum(v for s, v in metrics.items() if s.startswith(prefix))


def caught_up(metrics: dict[str, float], topic: str) -> bool:
    """Every partition of the input topic `topic` applied. A worker also has lag series
    for its facts topic (`<topic>-facts` here), which are left out: the figures count
    input events, as they did before the facts topic had lag series."""
    label = f'topic="{topic}"'
    lags = [v for s, v in metrics.items() if s.startswith(LAG) and label in s]
    return len(lags) == PARTITIONS and not any(lags)


def throughput(bootstrap: str, topic: str, work: Path) -> dict[str, float]:
    worker = WorkerProcess(bootstrap, topic, "bench-throughput", work / "state-throughput")
    meter = CpuMeter(worker=worker.process.pid, broker=broker_pid(work))
    first = worker.wait(lambda m: total(m, "contactcenter_events_processed_total") > 0, "start")
    meter.start()
    done = worker.wait(lambda m: caught_up(m, topic), "lag 0", poll=THROUGHPUT_POLL_SECONDS)
    meter.stop()
    processed = total(worker.metrics(), "contactcenter_events_processed_total")
    worker.stop()
    return {
        "seconds_from_start": done,
        "seconds_from_first_event": done - first,
        "processed": processed,
        "worker_cpu_s": meter.used["worker"],
        "broker_cpu_s": meter.used["broker"],
        "bench_cpu_s": meter.used["self"],  # its scrapes of /metrics
    }


def probe(k: int, now_ms: int) -> dict:  # type: ignore[type-arg]
    return {
        "event_id": f"p{k}",
        "type": "contact.queued",
        "occurred_at": now_ms,
        "contact_id": f"probe-{k}",
        "queue": "probe",
        "channel": "voice",
    }


def filler(n: int, now_ms: int) -> list[dict]:  # type: ignore[type-arg]
    contact = {"contact_id": f"load-{n}", "occurred_at": now_ms}
    return [
        {
            **contact,
            "event_id": f"q{n}",
            "type": "contact.queued",
            "queue": f"load-{n % 10}",
            "channel": "voice",
        },
        {**contact, "event_id": f"a{n}", "type": "contact.answered"},
        {**contact, "event_id": f"e{n}", "type": "contact.ended"},
    ]


async def freshness(
    bootstrap: str, rate: int, seconds: float, work: Path
) -> list[tuple[float, float]]:
    """(seconds into the run when the probe was sent, produce -> /metrics seconds)"""
    topic = "bench-fresh"
    kafka = settings(bootstrap, topic)
    await kafka_client.ensure_topic(kafka, topic, PARTITIONS)
    worker = WorkerProcess(bootstrap, topic, "bench-fresh", work / "state-fresh")
    await asyncio.to_thread(worker.wait, lambda m: caught_up(m, topic), "ready")
    producer = kafka_client.producer(kafka)
    await producer.start()
    sent_at: dict[int, float] = {}
    latencies: list[tuple[float, float]] = []
    stop = asyncio.Event()

    async def scrape() -> None:
        seen = 0
        while not stop.is_set() or seen < len(sent_at):
            metrics = await asyncio.to_thread(worker.metrics)
            now = time.perf_counter()
            count = int(total(metrics, PROBE_SERIES))
            for k in range(seen + 1, count + 1):
                latencies.append((sent_at[k] - started, now - sent_at[k]))
            seen = max(seen, count)
            await asyncio.sleep(SCRAPE_SECONDS)

    started = time.perf_counter()
    scraper = asyncio.create_task(scrape())
    tick = 0.03
    per_tick = max(1, int(rate * tick / 3))  # contacts per tick; three events each
    n = probes = 0
    while time.perf_counter() - started < seconds:
        now_ms = int(time.time() * 1000)
        for i in range(per_tick):
            n += 1
            if i == 0 and (n // per_tick) % 3 == 0:  # 11 probes a second
                probes += 1
                events = [probe(probes, now_ms)]
                sent_at[probes] = time.perf_counter()
            else:  # a voice contact's life in three events, so contacts do not pile up
                events = filler(n, now_ms)
            for event in events:
                await producer.send(topic, orjson.dumps(event), key=event["contact_id"].encode())
        next_tick = started + (n // per_tick) * tick
        await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))
    await producer.flush()
    stop.set()
    await asyncio.wait_for(scraper, 60)
    await producer.stop()
    worker.stop()
    return latencies


async def fill_open(bootstrap: str, count: int) -> None:
    kafka = settings(bootstrap, "bench-open")
    now_ms = int(time.time() * 1000) - 60_000
    await produce(
        kafka,
        [
            (
                f"open-{i}".encode(),
                orjson.dumps(
                    {
                        "event_id": f"o{i}",
                        "type": "contact.queued",
                        "occurred_at": now_ms + i % 60_000,
                        "contact_id": f"open-{i}",
                        "queue": f"backlog-{i % 20}",
                        "channel": "email",
                    }
                ),
            )
            for i in range(count)
        ],
    )


def restart(bootstrap: str, count: int, work: Path) -> dict[str, float]:
    asyncio.run(fill_open(bootstrap, count))
    store = work / "state-open"

    def loaded(metrics: dict[str, float]) -> bool:
        return total(metrics, "contactcenter_contacts_waiting") == count

    first = WorkerProcess(bootstrap, "bench-open", "bench-open", store)
    first.wait(loaded, "100k open contacts")
    first.stop()
    again = WorkerProcess(bootstrap, "bench-open", "bench-open", store)
    local = again.wait(lambda m: loaded(m) and again.get("/readyz")[0] == 200, "restart")
    again.stop()
    fresh = WorkerProcess(bootstrap, "bench-open", "bench-open", work / "state-open-fresh")
    from_changelog = fresh.wait(lambda m: loaded(m) and fresh.get("/readyz")[0] == 200, "restore")
    fresh.stop()
    return {"local_store_seconds": local, "from_changelog_seconds": from_changelog}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=202_000)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--freshness-seconds", type=float, default=60)
    parser.add_argument("--open-contacts", type=int, default=100_000)
    args = parser.parse_args()
    tune_gc()  # the in-process measures run as a floorwatch process does
    path = dataset(args.contacts)
    messages = keyed_lines(path)
    with tempfile.TemporaryDirectory(prefix="worker-bench-") as tmp:
        work = Path(tmp)
        bootstrap = start_broker(work)
        try:
            kafka = settings(bootstrap, "bench-events")
            print(f"producing {len(messages):,} events …", file=sys.stderr)
            started = time.perf_counter()
            asyncio.run(produce(kafka, messages))
            produce_s = time.perf_counter() - started
            print("raw consumer …", file=sys.stderr)
            raw_s = asyncio.run(consume(kafka, len(messages)))
            print("read + decode …", file=sys.stderr)
            decode_s = asyncio.run(consume(kafka, len(messages), decode_feed()))
            print("read + decode + engine …", file=sys.stderr)
            ceiling = CpuMeter(broker=broker_pid(work))
            floor_s = asyncio.run(consume(kafka, len(messages), engine_feed(), ceiling))
            print("engine alone …", file=sys.stderr)
            engine_events, engine_s = engine_only(path, Settings())  # as engine_feed
            print("the worker's stages alone …", file=sys.stderr)
            # A checkpoint a second at the worker's pace: about 60,000 events here.
            stages_s = stages_only(messages, checkpoint_every=60_000)
            print("worker throughput …", file=sys.stderr)
            worker = throughput(bootstrap, "bench-events", work)
            print("freshness …", file=sys.stderr)
            latencies = asyncio.run(freshness(bootstrap, args.rate, args.freshness_seconds, work))
            print("restart …", file=sys.stderr)
            restarts = restart(bootstrap, args.open_contacts, work)
        finally:
            stop_broker(work)
    n = len(messages)
    quantiles = statistics.quantiles([latency for _, latency in latencies], n=100)
    slow = [f"{latency:.2f} s at {at:.1f} s" for at, latency in latencies if latency > 1.0]
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "events": n,
        "produce_events_per_s": n / produce_s,
        "raw_consumer_events_per_s": n / raw_s,
        "worker_events_per_s_from_first_event": n / worker["seconds_from_first_event"],
        "worker_events_per_s_from_start": n / worker["seconds_from_start"],
        "worker_processed": worker["processed"],
        "freshness_probes": len(latencies),
        "freshness_p50_s": quantiles[49],
        "freshness_p99_s": quantiles[98],
        "freshness_max_s": max(latency for _, latency in latencies),
        "freshness_over_1s": ", ".join(slow) or "none",
        **restarts,
    }
    result["worker_to_raw_ratio"] = (
        result["worker_events_per_s_from_first_event"] / result["raw_consumer_events_per_s"]
    )
    result["read_decode_events_per_s"] = n / decode_s
    result["read_decode_to_raw_ratio"] = (
        result["read_decode_events_per_s"] / result["raw_consumer_events_per_s"]
    )
    result["read_decode_engine_events_per_s"] = n / floor_s
    result["read_decode_engine_to_raw_ratio"] = (
        result["read_decode_engine_events_per_s"] / result["raw_consumer_events_per_s"]
    )
    result["engine_only_events_per_s"] = engine_events / engine_s
    result["engine_only_to_raw_ratio"] = (
        result["engine_only_events_per_s"] / result["raw_consumer_events_per_s"]
    )
    result["stages_only_events_per_s"] = n / stages_s
    # CPU per event (µs, every thread) and cores kept busy: the ceiling's consumer and
    # engine, the worker, and the broker serving each; a worker whose events take
    # `worker + broker` µs of CPU cannot pass 2 cores / that on this machine.
    per_event = 1e6 / n
    result["ceiling_cpu_us_per_event"] = ceiling.used["self"] * per_event
    result["ceiling_broker_cpu_us_per_event"] = ceiling.used["broker"] * per_event
    result["ceiling_cores_busy"] = (ceiling.used["self"] + ceiling.used["broker"]) / floor_s
    worker_s = worker["seconds_from_first_event"]
    result["worker_cpu_us_per_event"] = worker["worker_cpu_s"] * per_event
    result["worker_broker_cpu_us_per_event"] = worker["broker_cpu_s"] * per_event
    result["worker_cores_busy"] = (
        worker["worker_cpu_s"] + worker["broker_cpu_s"] + worker["bench_cpu_s"]
    ) / worker_s
    result["worker_to_read_decode_engine_ratio"] = (
        result["worker_events_per_s_from_first_event"] / result["read_decode_engine_events_per_s"]
    )
    result["worker_to_stages_only_ratio"] = (
        result["worker_events_per_s_from_first_event"] / result["stages_only_events_per_s"]
    )
    OUT.mkdir(exist_ok=True)
    (OUT / "worker_bench.json").write_text(json.dumps(result, indent=2))
    for key, value in result.items():
        print(f"{key:40} {value:,.3f}" if isinstance(value, float) else f"{key:40} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
