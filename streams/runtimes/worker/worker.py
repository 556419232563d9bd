"""The Faust worker: two input topics, two Tables, a dead-letter topic and a web server.

Contact stage reads `contact-events` (keyed by contact or agent id), keeps each contact's and
agent's state in the `floorwatch-contacts` Table and sends facts to the facts topic,
partitioned by queue. Queue stage reads the facts, keeps every queue's state in the
`floorwatch-queues` Table and serves /metrics for the queues it owns. Both read whole
fetches (`consumer.BatchConsumer`), one at a time under one lock, so a fetch, a
checkpoint, a progress tick and a rebalance never interleave (concurrency 1).

Order of effects at each checkpoint — facts and dead letters delivered, then Table writes
(each partition's applied offset last), then the producer flushed and the offsets
committed — makes each effect durable before the offset that caused it is committed.
Each partition's applied offset (Table key `o:<partition>`) and the offsets inside Table
values skip what a restart delivers again (at-least-once delivery, exactly-once effect;
no Kafka transactions, see the design notes); `offsets.OffsetGate` refills the gap when a
partition resumes beyond what was applied.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import socket
import time
from collections.abc import Collection, Mapping
from typing import Any

import faust
import orjson
from aiohttp import web
from faust.types import TP

from streams.control.follower import TargetFollower
from streams.control.status import RedisStatus
from streams.control.store import UNREACHABLE, RedisPlane
from streams.core import table_keys
from streams.core.clock import WallClock
from streams.core.contact_stage import ContactStage
from streams.core.fact_messages import FactsMessage
from streams.core.pipeline import PipelineStats
from streams.core.queue_stage import QueueStage
from streams.core.settings import Settings
from streams.core.targets import TargetBook
from streams.kafka_client import client_options, key_partition
from streams.read.board import board_snapshot, merge_boards
from streams.runtimes.worker.collector import WorkerCollector
from streams.runtimes.worker.consumer import BatchConsumer
from streams.runtimes.worker.offsets import ACCEPT_GAP, APPLY, SEEK, OffsetGate
from streams.runtimes.worker.read_view import WorkerView
from streams.runtimes.worker.tables import BulkTable
from streams.web.server import BoardUnavailable, make_app

log = logging.getLogger("floorwatch.worker")

CONTACTS_TABLE = "floorwatch-contacts"
QUEUES_TABLE = "floorwatch-queues"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # a busy queue's Table value can pass Kafka's 1 MiB
# Read ahead per partition. aiokafka buffers one fetch response per partition, and its
# thread competes with the worker for the interpreter: with Faust's 1 MiB a caught-up
# buffer left the worker waiting for records a third of the time (about 55,000 events/s
# instead of 65,000 here). The raw consumer of the benchmark reads with the same size.
FETCH_BYTES_PER_PARTITION = 8 * 1024 * 1024
FACTS_PER_MESSAGE = 5_000  # keeps a facts message well under the topic's 1 MiB limit
GAP_PATIENCE_SECONDS = 10.0  # after seeking back, how long a gap may take to refill


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
        "consumer_max_fetch_size": FETCH_BYTES_PER_PARTITION,
        "producer_acks": -1,
        "table_standby_replicas": 0,
        "web_enabled": False,
        "stream_wait_empty": False,
        "broker_max_poll_records": worker.batch_size,
        "broker_session_timeout": worker.session_timeout_seconds,
        "broker_heartbeat_interval": worker.session_timeout_seconds / 3,  # Kafka's advice
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
        self.events_name = kafka.topic
        self.facts_name = kafka.facts_topic
        transport: Any = self.app.transport  # its consumer is created at start
        transport.Consumer = functools.partial(
            BatchConsumer,
            on_fetch=self.on_fetch,
            batch_topics=(self.events_name, self.facts_name),
        )
        self.contacts_table = BulkTable(self._table(CONTACTS_TABLE), self.app)
        self.queues_table = BulkTable(self._table(QUEUES_TABLE), self.app)
        self.pipeline = PipelineStats()
        self.targets = TargetBook(settings)  # one for both stages; live targets update it
        self.contact_stages: dict[int, ContactStage] = {}
        self.queue_stage = QueueStage(settings, self.partitions, self.partitions, self.targets)
        self.view = WorkerView(
            settings, WallClock(), self.pipeline, self.queue_stage, self.contact_stages
        )
        self.collector = WorkerCollector(self)
        self.dead_letters = 0
        self.lags: dict[int, int] = {}  # source partition -> messages not applied yet
        self.facts_applied: dict[int, int] = {}  # facts partition -> last offset applied
        self.gate = OffsetGate(GAP_PATIENCE_SECONDS)
        self.lock = asyncio.Lock()  # one fetch, checkpoint, tick or rebalance at a time
        self.next_checkpoint = 0.0
        self.pending_sends: list[Any] = []  # facts and dead letters not confirmed yet
        self.contact_dirty: set[int] = set()  # partitions applied since the checkpoint
        self.queue_dirty: set[int] = set()
        self.to_commit: dict[TP, int] = {}  # next offset to read, per partition
        self.to_deliver: list[tuple[BulkTable, TP, asyncio.Future[int]]] = []  # changelogs
        self.commit_wanted = asyncio.Event()
        self.plane = RedisPlane(settings.redis) if settings.redis.url else None
        self.redis_status = RedisStatus()
        self.follower = (
            TargetFollower(self.plane, self.targets, settings, self.redis_status)
            if self.plane is not None
            else None
        )
        self.worker_id = f"{socket.gethostname()}:{port}"
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

        # The agents subscribe the input topics (Faust assigns partitions, with the
        # Tables' changelogs, to the agents' topics); their streams stay empty, since
        # BatchConsumer hands every fetch of those topics to on_fetch.
        async def subscribed(stream: Any) -> None:
            async for _ in stream:
                raise RuntimeError("BatchConsumer delivered a message one at a time")

        app.agent(self.events_topic, concurrency=1, name="floorwatch-contact-stage")(subscribed)
        app.agent(self.facts_topic, concurrency=1, name="floorwatch-queue-stage")(subscribed)

        @app.timer(interval=self.settings.worker.tick_seconds)
        async def progress_tick() -> None:
            async with self.lock:
                await self.send_progress()
                await self.maybe_checkpoint()  # traffic may have stopped

        @app.task
        async def serve_web() -> None:
            await self.serve()

        @app.task
        async def committer() -> None:
            await self.commit_forever()

        plane, follower = self.plane, self.follower
        if plane is not None and follower is not None:

            @app.task
            async def live_targets() -> None:
                await follower.run()

            @app.task
            async def board_to_redis() -> None:
                await self.publish_board_forever(plane)

        @app.on_partitions_revoked.connect
        async def on_revoked(sender: Any, *args: Any, **_: Any) -> None:
            async with self.lock:
                self.revoke(args[0])

    async def on_fetch(self, records: Mapping[TP, list[Any]], generation: int) -> None:
        """One fetch of the input topics (aiokafka records per partition)."""
        async with self.lock:
            consumer = self.app.consumer
            if not consumer.flow_active or self.app.consumer_generation_id != generation:
                return  # a rebalance since the fetch: the records come again
            if self.not_ready_reason() is not None:
                # Tables not restored yet: never load a partition from them early. Faust
                # seeks to the committed offsets just before it says so, and these records
                # may come from after that seek: read them again once it has.
                for tp, batch in records.items():
                    await consumer.seek(tp, batch[0].offset)
                return
            wall = time.time()
            for tp, batch in records.items():
                if tp.topic == self.events_name:
                    await self.event_records(tp, batch, wall)
                else:
                    await self.fact_records(tp, batch, wall)
            await self.maybe_checkpoint()

    async def in_order(self, tp: TP, records: list[Any]) -> list[Any]:
        """The records the offset gate admits; seeks back where it finds a gap."""
        gate = self.gate
        if records and gate.admit_run(tp, records[0].offset, records[-1].offset, len(records)):
            return records
        out = []
        now = time.monotonic()
        for record in records:
            offset = record.offset
            expected = gate.expected.get(tp)
            decision = gate.admit(tp, offset, now)
            if decision == APPLY:
                out.append(record)
            elif decision == SEEK:
                log.info("refilling %s: offsets %s to %d", tp, expected, offset - 1)
                await self.app.consumer.seek(tp, expected)
            elif decision == ACCEPT_GAP:
                log.warning("offsets %s to %d of %s are gone; going on", expected, offset - 1, tp)
                out.append(record)
        return out

    def assigned(self, topic: str) -> set[int]:
        """The partitions of `topic` assigned to this worker now."""
        return {tp.partition for tp in self.app.consumer.assignment() if tp.topic == topic}

    # ------------------------------------------------------------------ contact stage

    def contact_stage(self, partition: int) -> ContactStage:
        """A partition's contact stage, loaded from the Table on first use — together with
        every other assigned partition not loaded yet: one pass over the Table."""
        found = self.contact_stages.get(partition)
        if found is None:
            assigned = self.assigned(self.events_name)
            self._load_contacts((assigned | {partition}) - set(self.contact_stages))
            found = self.contact_stages[partition]
        return found

    def _load_contacts(self, partitions: set[int]) -> None:
        loading = {
            p: ContactStage(p, self.settings, self.pipeline, self.partitions, self.targets)
            for p in partitions
        }
        for raw_key, value in self.contacts_table.items():
            key = raw_key.decode()
            kind = table_keys.kind_of(key)
            if kind == table_keys.OFFSET:
                part = loading.get(table_keys.offset_partition(key))
                if part is not None:
                    self.gate.resume_at(TP(self.events_name, part.partition), int(value) + 1)
                    part.last_offset = part.published_offset = int(value)
            else:
                partition = (
                    table_keys.event_ids_position(key)[0]
                    if kind == table_keys.EVENT_IDS
                    else key_partition(table_keys.subject(key), self.partitions)
                )
                part = loading.get(partition)
                if part is not None:
                    part.restore(key, orjson.loads(value))
        for partition, part in loading.items():
            part.restored()
            self.contact_stages[partition] = part
            log.info(
                "contact stage partition %d loaded: %d contacts", partition, part.tracked_count
            )

    async def event_records(self, tp: TP, records: list[Any], wall: float) -> None:
        """Apply a partition's records and send their facts and dead letters (Table
        writes wait for the checkpoint, so a contact changed often is written once)."""
        part = self.contact_stage(tp.partition)  # first: it knows where to resume
        records = await self.in_order(tp, records)
        if not records:
            return
        for record in records:
            part.apply(record.offset, record.key, record.value or b"", wall)
        self.contact_dirty.add(tp.partition)
        sends = self.pending_sends
        sends += await self._send_facts(part)
        part.published()
        for reject in part.take_rejects():
            headers = [
                ("reason", reject.reason.encode()),
                ("detail", reject.detail.encode()),
                ("source_topic", self.events_name.encode()),
                ("source_partition", str(tp.partition).encode()),
                ("source_offset", str(reject.offset).encode()),
            ]
            sends.append(
                await self.dlq_topic.send(key=reject.key, value=reject.raw, headers=headers)
            )
            self.dead_letters += 1

    def progress(self, part: ContactStage, caught_up: bool, wall: float) -> float | None:
        """How far a source partition has got: the wall clock once it is caught up."""
        if caught_up:
            return max(wall, part.published_now)
        return part.published_now if math.isfinite(part.published_now) else None

    async def _send_facts(self, part: ContactStage) -> list[Any]:
        """A partition's new facts, in messages of at most FACTS_PER_MESSAGE facts; only
        the last message to each destination carries the progress time (all the facts
        before it are then applied)."""
        mark = part.now if math.isfinite(part.now) else None
        sends = []
        for dest, facts in part.recorder.take().items():
            for start in range(0, len(facts), FACTS_PER_MESSAGE):
                chunk = facts[start : start + FACTS_PER_MESSAGE]
                last = start + FACTS_PER_MESSAGE >= len(facts)
                value = FactsMessage(part.partition, mark if last else None, chunk).encode()
                sends.append(await self.facts_topic.send(partition=dest, value=value))
        return sends

    async def send_progress(self) -> None:
        """Each owned source partition tells every facts partition how far it has got."""
        if self.not_ready_reason() is not None:
            return
        wall = time.time()
        owned = [TP(self.events_name, p) for p in sorted(self.assigned(self.events_name))]
        self.lags = {p: lag for p, lag in self.lags.items() if TP(self.events_name, p) in owned}
        for tp in owned:
            part = self.contact_stage(tp.partition)
            lag = self.lag(tp, part)
            if lag is not None:
                self.lags[tp.partition] = lag
            mark = self.progress(part, lag == 0, wall)
            if mark is None:
                continue
            value = FactsMessage(tp.partition, mark, []).encode()
            for dest in range(self.partitions):
                await self.facts_topic.send(partition=dest, value=value)
        self.load_queue_stage(wall)
        self.queue_stage.tick(wall)

    def lag(self, tp: TP, part: ContactStage) -> int | None:
        """Messages of `tp` not applied yet (None while unknown). Counted from what was
        applied, never from the consumer's position: that runs ahead of it (prefetched
        messages, and positions from before a rebalance)."""
        highwater = self.app.consumer.highwater(tp)
        if highwater is None:
            return None
        return max(0, highwater - part.published_offset - 1)

    # ------------------------------------------------------------------ queue stage

    async def fact_records(self, tp: TP, records: list[Any], wall: float) -> None:
        partition = tp.partition
        side = self.queue_stage
        if partition not in side.owned:
            self.load_queue_stage(wall, {partition})  # first: it knows where to resume
        records = await self.in_order(tp, records)
        for record in records:
            side.apply_message(partition, FactsMessage.decode(record.value or b"{}"), wall)
        if records:
            self.facts_applied[partition] = records[-1].offset
            self.queue_dirty.add(partition)

    def load_queue_stage(self, wall: float, also: Collection[int] = ()) -> None:
        """Every assigned facts partition not loaded yet, in one pass over the Table.
        All of them at once: they share one SLA clock (see `QueueStage.load`)."""
        facts = self.facts_name
        loading = (self.assigned(facts) | set(also)) - self.queue_stage.owned
        if not loading:
            return
        stored: dict[int, list[tuple[str, Any]]] = {p: [] for p in loading}
        for raw_key, value in self.queues_table.items():
            key = raw_key.decode()
            if key.startswith(table_keys.OFFSET):
                partition = table_keys.offset_partition(key)
                if partition in loading:
                    self.facts_applied[partition] = int(value)
                    self.gate.resume_at(TP(facts, partition), int(value) + 1)
            else:
                queues = stored.get(self.queue_stage.partition_of(key))
                if queues is not None:
                    queues.append((key, orjson.loads(value)))
        for partition, queues in sorted(stored.items()):
            self.queue_stage.load(partition, queues, wall)
            log.info("queue stage partition %d loaded: %d queues", partition, len(queues))

    # ------------------------------------------------------------------ checkpoints

    async def maybe_checkpoint(self) -> None:
        if time.time() >= self.next_checkpoint:
            await self.checkpoint()

    async def checkpoint(self) -> None:
        """Facts and dead letters delivered, then what changed written to the Tables
        (each partition's applied offset after what it covers), then the offsets handed
        to the committer."""
        await asyncio.gather(*self.pending_sends)  # delivered before the Table says so
        self.pending_sends = []
        offsets: dict[TP, int] = {}
        for partition in self.contact_dirty:
            part = self.contact_stages[partition]
            source = TP(self.events_name, partition)
            values = [
                (key.encode(), None if value is None else orjson.dumps(value))
                for key, value in part.changed()
            ]
            values.append(
                (table_keys.offset_key(partition).encode(), str(part.last_offset).encode())
            )
            last = await self.contacts_table.write(source, values)
            self.to_deliver.append((self.contacts_table, source, last))
            offsets[source] = part.last_offset + 1
        by_partition: dict[int, list[tuple[bytes, bytes | None]]] = {}
        for partition, queue, stored in self.queue_stage.checkpoint():
            by_partition.setdefault(partition, []).append((queue.encode(), orjson.dumps(stored)))
        for partition in self.queue_dirty:
            source = TP(self.facts_name, partition)
            applied = self.facts_applied[partition]
            values = by_partition.get(partition, [])
            values.append((table_keys.offset_key(partition).encode(), str(applied).encode()))
            last = await self.queues_table.write(source, values)
            self.to_deliver.append((self.queues_table, source, last))
            offsets[source] = applied + 1
        self.contact_dirty.clear()
        self.queue_dirty.clear()
        self.next_checkpoint = time.time() + self.settings.worker.checkpoint_seconds
        if offsets:
            self.to_commit.update(offsets)
            self.commit_wanted.set()

    async def commit_forever(self) -> None:
        """Commit what checkpoints hand over, once their Table writes are delivered
        (Faust flushes the producer first, too, and skips partitions no longer
        assigned). In a task of its own, outside the lock: delivery takes a while under
        load, and a rebalance may be waiting for the lock."""
        while not self.app.should_stop:
            await self.commit_wanted.wait()
            self.commit_wanted.clear()
            offsets, self.to_commit = self.to_commit, {}
            landing, self.to_deliver = self.to_deliver, []
            for table, source, future in landing:
                offset = await future
                if source in self.app.consumer.assignment():  # its store is still open
                    table.delivered(source, offset)
            await self.app.consumer._commit_offsets(offsets)

    # ------------------------------------------------------------------ rebalance

    def revoke(self, revoked: set[TP]) -> None:
        """Partitions moved away: forget their state at once (their series go with it)."""
        for tp in revoked:
            self.gate.forget(tp)
            self.to_commit.pop(tp, None)
            if tp.topic == self.events_name:
                self.contact_stages.pop(tp.partition, None)
                self.contact_dirty.discard(tp.partition)
                self.lags.pop(tp.partition, None)
            elif tp.topic == self.facts_name:
                self.queue_stage.drop(tp.partition)
                self.queue_dirty.discard(tp.partition)
                self.facts_applied.pop(tp.partition, None)
        log.info("partitions revoked: %s", sorted(f"{tp.topic}:{tp.partition}" for tp in revoked))

    # ------------------------------------------------------------------ web

    def not_ready_reason(self) -> str | None:
        if self.app.rebalancing:
            return "rebalancing partitions"
        if not self.app.tables.recovery.completed.is_set():
            return "restoring Tables from their changelogs"
        return None

    async def first_targets(self) -> None:
        """The live targets, before Faust starts consuming (on a loop of its own, so with
        a client of its own). Redis down: the file's targets until it answers."""
        if self.follower is None:
            return
        plane = RedisPlane(self.settings.redis)
        try:
            first = TargetFollower(plane, self.targets, self.settings, self.redis_status)
            await first.check()
            self.follower.seen = first.seen
        finally:
            await plane.close()

    async def publish_board_forever(self, plane: RedisPlane) -> None:
        """This worker's queues to Redis every `board_seconds` (skipped while its
        partitions move: the entry then expires, as a dead worker's does)."""
        while not self.app.should_stop:
            if self.not_ready_reason() is None:
                board = board_snapshot(self.view)
                board["worker"] = self.worker_id
                board["published_at"] = time.time()
                try:
                    await plane.publish_board(self.worker_id, orjson.dumps(board))
                    self.redis_status.ok()
                except UNREACHABLE as error:
                    self.redis_status.failed(error)
                except Exception:  # never stop publishing for good
                    log.exception("board not published")
            await asyncio.sleep(self.settings.redis.board_seconds)

    async def cluster_board(self) -> dict[str, Any]:
        """Every worker's queues, as published to Redis."""
        assert self.plane is not None
        try:
            parts = await self.plane.boards()
        except UNREACHABLE as error:
            self.redis_status.failed(error)
            raise BoardUnavailable(
                f"Redis is unreachable ({type(error).__name__}), so the board of the whole "
                "cluster is unavailable; it comes back by itself when Redis answers. This "
                "worker's own queues are still on /metrics."
            ) from None
        self.redis_status.ok()
        return merge_boards(parts, list(self.settings.windows))

    async def serve(self) -> None:
        collectors: list[Any] = [self.collector]
        if self.plane is not None:
            collectors.append(self.redis_status)
        board_source = self.cluster_board if self.plane is not None else None
        runner = web.AppRunner(
            make_app(self.view, self.not_ready_reason, *collectors, board_source=board_source)
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        log.info("serving on http://%s:%d/", self.host, self.port)
