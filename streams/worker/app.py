"""The Faust worker: two agents, two Tables, a dead-letter topic and a web server.

Stage 1 consumes `contact-events` (keyed by contact or agent id) in batches, keeps each
contact's and agent's state in the `floorwatch-contacts` Table and sends facts to the
facts topic, partitioned by queue. Stage 2 consumes the facts, keeps every queue's state
in the `floorwatch-queues` Table and serves /metrics for the queues it owns.

Order of effects per batch — facts and dead letters delivered, then Table writes, then
acks — and Faust flushing the producer before committing offsets, make each effect
durable before the offset that caused it is committed. The offsets kept inside Table
values skip what a restart delivers again. Agents run with concurrency 1 (Faust commits
past in-flight messages above 1); no `exactly_once` guarantee (see design notes).

Faust acknowledges the messages it drops while a rebalance is under way, so a committed
offset can pass messages never applied. Each partition's applied offset is therefore
kept in its Table too (key `o:<partition>`), and a gap in the offsets is refilled by
seeking back (`offsets.OffsetGate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import faust
import orjson
from aiohttp import web
from aiokafka.partitioner import murmur2
from faust.streams import _current_event  # the partition a Table write goes to
from faust.types import TP, EventT

from streams.config import Settings
from streams.engine.clock import WallClock
from streams.engine.pipeline import PipelineStats
from streams.kafka_client import client_options
from streams.web.app import make_app
from streams.worker.metrics import WorkerCollector
from streams.worker.offsets import ACCEPT_GAP, APPLY, SEEK, OffsetGate
from streams.worker.stage1 import ContactPartition
from streams.worker.stage2 import QueueSide
from streams.worker.view import WorkerView

log = logging.getLogger("floorwatch.worker")

CONTACTS_TABLE = "floorwatch-contacts"
QUEUES_TABLE = "floorwatch-queues"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # a busy queue's Table value can pass Kafka's 1 MiB
PRODUCER_BUFFER_MESSAGES = 1_000_000
OFFSET_PREFIX = "o:"  # Table key of a partition's applied offset: o:<partition>
GAP_PATIENCE_SECONDS = 10.0  # after seeking back, how long a gap may take to refill


def key_partition(key: str, partitions: int) -> int:
    """Kafka's default partitioner (murmur2) for a message key."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def offset_key(partition: int) -> bytes:
    return f"{OFFSET_PREFIX}{partition}".encode()


@contextlib.contextmanager
def writing_for(event: EventT) -> Iterator[None]:
    """Faust routes a Table write to the partition of the current event; in a batch that
    spans partitions, name the event explicitly."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def faust_settings(settings: Settings) -> dict[str, Any]:
    kafka = settings.kafka
    options = client_options(kafka)
    credentials: Any = None
    if kafka.security_protocol.startswith("SASL"):
        credentials = faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password,
            mechanism=kafka.sasl_mechanism,
            ssl_context=options.get("ssl_context"),
        )
    elif kafka.security_protocol == "SSL":
        credentials = faust.SSLCredentials(options["ssl_context"])
    worker = settings.worker
    return {
        "broker": [f"kafka://{server.strip()}" for server in kafka.bootstrap_servers.split(",")],
        "broker_credentials": credentials,
        "store": f"{worker.store}://",
        "datadir": worker.store_path,
        "topic_partitions": kafka.partitions,
        "consumer_auto_offset_reset": "earliest",
        "producer_max_request_size": MAX_MESSAGE_BYTES,
        "producer_acks": -1,
        "table_standby_replicas": 0,
        "web_enabled": False,
        "stream_wait_empty": False,
        "broker_max_poll_records": 10_000,  # fewer hand-overs from Faust's consumer thread
        "stream_buffer_maxsize": 65_536,
        "loghandlers": list(logging.getLogger().handlers),  # our JSON lines
    }


class Worker:
    """State of one worker process around the Faust app (one asyncio loop)."""

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        self.settings = settings
        self.host = host
        self.port = port
        kafka = settings.kafka
        self.partitions = kafka.partitions
        # Faust's own annotations disagree with its runtime API in places; keep it Any.
        self.app: Any = faust.App(kafka.consumer_group, **faust_settings(settings))
        self.events_topic = self._topic(kafka.topic)
        self.facts_topic = self._topic(kafka.facts_topic)
        self.dlq_topic = self._topic(kafka.dlq_topic)
        self.contacts_table = self._table(CONTACTS_TABLE)
        self.queues_table = self._table(QUEUES_TABLE)
        self.pipeline = PipelineStats()
        self.stage1: dict[int, ContactPartition] = {}
        self.side = QueueSide(settings, self.partitions, self.partitions)
        self.view = WorkerView(settings, WallClock(), self.pipeline, self.side, self.stage1)
        self.collector = WorkerCollector(self)
        self.dead_letters = 0
        self.lags: dict[int, int] = {}  # source partition -> messages not applied yet
        self.last_facts_event: dict[int, EventT] = {}
        self.unacked_facts: list[EventT] = []
        self.facts_applied: dict[int, int] = {}  # facts partition -> last offset applied
        self.gate = OffsetGate(GAP_PATIENCE_SECONDS)
        self.next_checkpoint = 0.0
        self.next_stage1_checkpoint = 0.0
        self.unacked_events: list[EventT] = []
        self.pending_sends: list[Any] = []  # facts and dead letters not confirmed yet
        self.stage1_writers: dict[int, EventT] = {}  # partition -> an event of it
        self.stage1_lock = asyncio.Lock()  # a checkpoint never interleaves with a batch
        self.stage1_stream: Any = None
        self._wire()

    # ------------------------------------------------------------------ wiring

    def _topic(self, name: str) -> Any:
        return self.app.topic(
            name, partitions=self.partitions, key_serializer="raw", value_serializer="raw"
        )

    def _table(self, name: str) -> Any:
        """Keys and values are bytes (orjson inside); values may be large (whole queues)."""
        return self.app.Table(
            name,
            partitions=self.partitions,
            key_type=bytes,
            value_type=bytes,
            extra_topic_configs={"max.message.bytes": str(MAX_MESSAGE_BYTES)},
        )

    def _wire(self) -> None:
        app = self.app
        batch = self.settings.worker.batch_size
        tick = self.settings.worker.tick_seconds

        @app.agent(self.events_topic, concurrency=1, name="floorwatch-stage1")
        async def stage_one(stream: Any) -> None:
            self.stage1_stream = stream
            async for events in stream.noack_take(batch, within=0.02):
                async with self.stage1_lock:
                    await self.stage1_batch(self.current(events))
                    if time.time() >= self.next_stage1_checkpoint:
                        await self.stage1_checkpoint()

        @app.agent(self.facts_topic, concurrency=1, name="floorwatch-stage2")
        async def stage_two(stream: Any) -> None:
            async for events in stream.noack_take(batch, within=0.02):
                await self.stage2_batch(self.current(events))
                if time.time() >= self.next_checkpoint:
                    self.checkpoint()
                    for event in self.unacked_facts:
                        await stream.ack(event)
                    self.unacked_facts.clear()

        @app.timer(interval=tick)
        async def progress_tick() -> None:
            await self.send_progress()
            if self.unacked_events and time.time() >= self.next_stage1_checkpoint:
                async with self.stage1_lock:  # traffic stopped: write what is pending
                    await self.stage1_checkpoint()

        @app.task
        async def serve_web() -> None:
            await self.serve()

        @app.on_partitions_revoked.connect
        async def on_revoked(sender: Any, *args: Any, **_: Any) -> None:
            self.revoke(args[0])

    def current(self, events: Sequence[EventT]) -> list[EventT]:
        """Events fetched in this consumer generation; the rest were buffered before a
        rebalance: their partitions are reloaded and they come again from the commit."""
        generation = self.app.consumer_generation_id
        return [e for e in events if e.message.generation_id == generation]

    async def in_order(self, events: list[EventT]) -> list[EventT]:
        """The events the offset gate admits; seeks back where it finds a gap."""
        out = []
        now = time.monotonic()
        for event in events:
            tp, offset = event.message.tp, event.message.offset
            expected = self.gate.expected.get(tp)
            decision = self.gate.admit(tp, offset, now)
            if decision == SEEK:
                log.info("refilling %s: offsets %s to %d", tp, expected, offset - 1)
                await self.app.consumer.seek(tp, expected)
            elif decision == ACCEPT_GAP:
                log.warning("offsets %s to %d of %s are gone; going on", expected, offset - 1, tp)
            if decision in (APPLY, ACCEPT_GAP):
                out.append(event)
        return out

    # ------------------------------------------------------------------ stage 1

    def stage1_partition(self, partition: int) -> ContactPartition:
        found = self.stage1.get(partition)
        if found is None:
            found = ContactPartition(partition, self.settings, self.pipeline, self.partitions)
            for raw_key, value in self.contacts_table.items():
                key = raw_key.decode()
                if key.startswith(OFFSET_PREFIX):
                    if int(key[len(OFFSET_PREFIX) :]) == partition:
                        tp = TP(self.events_topic.get_topic_name(), partition)
                        self.gate.resume_at(tp, int(value) + 1)
                        found.last_offset = found.published_offset = int(value)
                elif key_partition(key[2:], self.partitions) == partition:
                    found.restore(key, orjson.loads(value))
            found.restored()
            self.stage1[partition] = found
            log.info("stage 1 partition %d loaded: %d contacts", partition, found.tracked_count)
        return found

    async def stage1_batch(self, events: list[EventT]) -> None:
        """Apply a batch and send its facts and dead letters (Table writes and acks wait
        for the next checkpoint, so a contact changed often is written once)."""
        wall = time.time()
        for partition in {e.message.partition for e in events}:
            self.stage1_partition(partition)  # loaded first: it knows where to resume
        events = await self.in_order(events)
        by_partition: dict[int, list[EventT]] = {}
        for event in events:
            by_partition.setdefault(event.message.partition, []).append(event)
        sends = self.pending_sends
        for partition, batch in by_partition.items():
            self.stage1_writers[partition] = batch[-1]
            self.unacked_events += batch
            part = self.stage1_partition(partition)
            for event in batch:
                message = event.message
                part.apply(message.offset, message.key, message.value or b"", wall)
            sends += await self._send_facts(part)
            part.published()
            for reject in part.take_rejects():
                headers = [
                    ("reason", reject.reason.encode()),
                    ("detail", reject.detail.encode()),
                    ("source_topic", self.events_topic.get_topic_name().encode()),
                    ("source_partition", str(partition).encode()),
                    ("source_offset", str(reject.offset).encode()),
                ]
                sends.append(
                    await self.dlq_topic.send(key=reject.key, value=reject.raw, headers=headers)
                )
                self.dead_letters += 1

    async def stage1_checkpoint(self) -> None:
        """Facts and dead letters delivered, then the changed contacts and agents and each
        partition's applied offset written, then the events acknowledged."""
        await asyncio.gather(*self.pending_sends)  # delivered before the Table says so
        self.pending_sends = []
        for partition, event in self.stage1_writers.items():
            with writing_for(event):
                for key, value in self.stage1[partition].changed():
                    encoded = key.encode()
                    if value is not None:
                        self.contacts_table[encoded] = orjson.dumps(value)
                    elif encoded in self.contacts_table:
                        del self.contacts_table[encoded]
                last = str(self.stage1[partition].last_offset).encode()
                self.contacts_table[offset_key(partition)] = last  # after what it covers
        self.stage1_writers.clear()
        done, self.unacked_events = self.unacked_events, []
        for event in done:
            await self.stage1_stream.ack(event)
        self.next_stage1_checkpoint = time.time() + self.settings.worker.checkpoint_seconds

    def progress(self, part: ContactPartition, caught_up: bool, wall: float) -> float | None:
        """How far a source partition has got: the wall clock once it is caught up."""
        if caught_up:
            return max(wall, part.published_now)
        return part.published_now if math.isfinite(part.published_now) else None

    async def _send_facts(self, part: ContactPartition) -> list[Any]:
        out = part.recorder.take()
        if not out:
            return []
        mark = part.now if math.isfinite(part.now) else None
        return [
            await self.facts_topic.send(
                partition=dest, value=orjson.dumps({"p": part.partition, "w": mark, "f": facts})
            )
            for dest, facts in out.items()
        ]

    async def send_progress(self) -> None:
        """Each owned source partition tells every facts partition how far it has got."""
        if self.not_ready_reason() is not None:
            return
        wall = time.time()
        consumer = self.app.consumer
        topic = self.events_topic.get_topic_name()
        owned = [tp for tp in consumer.assignment() if tp.topic == topic]
        self.lags = {p: lag for p, lag in self.lags.items() if TP(topic, p) in owned}
        for tp in owned:
            part = self.stage1_partition(tp.partition)
            lag = self.lag(tp, part)
            if lag is not None:
                self.lags[tp.partition] = lag
            mark = self.progress(part, lag == 0, wall)
            if mark is None:
                continue
            value = orjson.dumps({"p": tp.partition, "w": mark, "f": []})
            for dest in range(self.partitions):
                await self.facts_topic.send(partition=dest, value=value)
        self.side.tick(wall)

    def lag(self, tp: TP, part: ContactPartition) -> int | None:
        """Messages of `tp` not applied yet (None while unknown). Counted from what was
        applied, never from the consumer's position: that runs ahead of it (prefetched
        messages, and positions from before a rebalance)."""
        highwater = self.app.consumer.highwater(tp)
        if highwater is None:
            return None
        return max(0, highwater - part.published_offset - 1)

    # ------------------------------------------------------------------ stage 2

    async def stage2_batch(self, events: list[EventT]) -> None:
        wall = time.time()
        side = self.side
        for partition in {e.message.partition for e in events}:
            if partition not in side.owned:
                self._load_queues(partition, wall)  # first: it knows where to resume
        for event in await self.in_order(events):
            partition = event.message.partition
            side.apply_message(partition, orjson.loads(event.message.value or b"{}"), wall)
            self.facts_applied[partition] = max(
                event.message.offset, self.facts_applied.get(partition, -1)
            )
            self.last_facts_event[partition] = event
            self.unacked_facts.append(event)

    def _load_queues(self, partition: int, wall: float) -> None:
        stored = []
        for raw_key, value in self.queues_table.items():
            key = raw_key.decode()
            if key.startswith(OFFSET_PREFIX):
                if int(key[len(OFFSET_PREFIX) :]) == partition:
                    self.facts_applied[partition] = int(value)
                    tp = TP(self.facts_topic.get_topic_name(), partition)
                    self.gate.resume_at(tp, int(value) + 1)
            elif self.side.partition_of(key) == partition:
                stored.append((key, orjson.loads(value)))
        self.side.load(partition, stored, wall)
        log.info("stage 2 partition %d loaded: %d queues", partition, len(stored))

    def checkpoint(self) -> None:
        """Write every queue changed since the last checkpoint, then each partition's
        applied offset (acks follow)."""
        for partition, queue, value in self.side.checkpoint():
            with writing_for(self.last_facts_event[partition]):
                self.queues_table[queue.encode()] = orjson.dumps(value)
        for partition, event in self.last_facts_event.items():
            with writing_for(event):
                self.queues_table[offset_key(partition)] = str(
                    self.facts_applied[partition]
                ).encode()
        self.next_checkpoint = time.time() + self.settings.worker.checkpoint_seconds

    # ------------------------------------------------------------------ rebalance

    def revoke(self, revoked: set[TP]) -> None:
        """Partitions moved away: forget their state at once (their series go with it)."""
        events = self.events_topic.get_topic_name()
        facts = self.facts_topic.get_topic_name()
        for tp in revoked:
            self.gate.forget(tp)
            if tp.topic == events:
                self.stage1.pop(tp.partition, None)
                self.stage1_writers.pop(tp.partition, None)
                self.lags.pop(tp.partition, None)
            elif tp.topic == facts:
                self.side.drop(tp.partition)
                self.last_facts_event.pop(tp.partition, None)
                self.facts_applied.pop(tp.partition, None)
        self.unacked_facts = [e for e in self.unacked_facts if e.message.tp not in revoked]
        self.unacked_events = [e for e in self.unacked_events if e.message.tp not in revoked]
        log.info("partitions revoked: %s", sorted(f"{tp.topic}:{tp.partition}" for tp in revoked))

    # ------------------------------------------------------------------ web

    def not_ready_reason(self) -> str | None:
        if self.app.rebalancing:
            return "rebalancing partitions"
        if not self.app.tables.recovery.completed.is_set():
            return "restoring Tables from their changelogs"
        return None

    async def serve(self) -> None:
        # Faust stalls its consumers whenever more than 100 Table writes wait to be sent
        # (polling every 0.1 s); a checkpoint writes thousands at once. Let them queue.
        self.app.producer.buffer.max_messages = PRODUCER_BUFFER_MESSAGES
        runner = web.AppRunner(make_app(self.view, self.not_ready_reason, self.collector))
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        log.info("serving on http://%s:%d/", self.host, self.port)
