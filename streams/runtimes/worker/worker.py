"""The Faust worker: builds the parts of a worker and connects Faust's callbacks to them."""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import time
from collections.abc import Mapping
from typing import Any

import faust
from faust.types import TP

from streams.control.follower import TargetFollower
from streams.control.status import RedisStatus
from streams.control.store import RedisPlane
from streams.core.clock import WallClock
from streams.core.pipeline import PipelineStats
from streams.core.queue_stage import QueueStage
from streams.core.settings import Settings
from streams.core.targets import TargetBook
from streams.kafka_client import client_options
from streams.runtimes.worker import faust_internals
from streams.runtimes.worker.checkpoint import Checkpointer
from streams.runtimes.worker.collector import WorkerCollector
from streams.runtimes.worker.contact_partitions import ContactPartitions
from streams.runtimes.worker.offsets import OffsetGate
from streams.runtimes.worker.publisher import BoardPublisher, ClusterBoard
from streams.runtimes.worker.queue_partitions import QueuePartitions
from streams.runtimes.worker.read_view import WorkerView
from streams.runtimes.worker.server import WorkerServer
from streams.runtimes.worker.status import CONTACT_STAGE, QUEUE_STAGE, WorkerStatus
from streams.runtimes.worker.tables import BulkTable

log = logging.getLogger("floorwatch.worker")

CONTACTS_TABLE = "floorwatch-contacts"
QUEUES_TABLE = "floorwatch-queues"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # a busy queue's Table value can pass Kafka's 1 MiB
# Read ahead per partition. aiokafka buffers one fetch response per partition, and its
# thread competes with the worker for the interpreter: with Faust's 1 MiB a caught-up
# buffer left the worker waiting for records a third of the time (about 55,000 events/s
# instead of 65,000 here). The raw consumer of the benchmark reads with the same size.
FETCH_BYTES_PER_PARTITION = 8 * 1024 * 1024
GAP_PATIENCE_SECONDS = 10.0  # after seeking back, how long a gap may take to refill


def faust_settings(settings: Settings) -> dict[str, Any]:
    """The Faust app's settings from ours (security, store, sizes, timeouts, logs)."""
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
    """One worker process: the Faust app (group membership, Tables, producer) wired to
    the contact and queue stages, the checkpointer, the Redis board and the web server.
    Fetches, checkpoints, clock ticks and rebalances run one at a time under one lock
    (the equivalent of an agent with concurrency 1)."""

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        self.settings = settings
        kafka = settings.kafka
        self.events_topic, self.facts_topic = kafka.topic, kafka.facts_topic
        # Faust's own annotations disagree with its runtime API in places; keep it Any.
        self.app: Any = faust.App(kafka.consumer_group, **faust_settings(settings))
        events = self._topic(kafka.topic)
        facts = self._topic(kafka.facts_topic)
        dead_letters = self._topic(kafka.dlq_topic)
        transport: Any = self.app.transport  # its consumer is created at start
        transport.Consumer = functools.partial(
            faust_internals.BatchConsumer,
            on_fetch=self.on_fetch,
            batch_topics=(kafka.topic, kafka.facts_topic),
        )
        self.lock = asyncio.Lock()  # one fetch, checkpoint, tick or rebalance at a time
        pipeline = PipelineStats()
        self.targets = TargetBook(settings)  # one for both stages; live targets update it

        async def send_fact(partition: int, value: bytes) -> Any:
            return await facts.send(partition=partition, value=value)

        async def send_dead_letter(
            key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
        ) -> Any:
            return await dead_letters.send(key=key, value=value, headers=headers)

        seek = self._seek
        self.contacts = ContactPartitions(
            settings,
            BulkTable(self._table(CONTACTS_TABLE), self.app),
            pipeline,
            self.targets,
            OffsetGate(GAP_PATIENCE_SECONDS),
            send_fact,
            send_dead_letter,
            seek,
            functools.partial(self.assigned, kafka.topic),
        )
        partitions = kafka.partitions
        self.queues = QueuePartitions(
            kafka.facts_topic,
            QueueStage(settings, partitions, partitions, self.targets),
            BulkTable(self._table(QUEUES_TABLE), self.app),
            OffsetGate(GAP_PATIENCE_SECONDS),
            seek,
            functools.partial(self.assigned, kafka.facts_topic),
        )
        self.checkpointer = Checkpointer(
            [self.contacts, self.queues],
            functools.partial(faust_internals.commit_offsets, self.app),
            self._assignment,
            settings.worker.checkpoint_seconds,
        )
        self.status = WorkerStatus(readiness=self.not_ready_reason)
        view = WorkerView(settings, WallClock(), pipeline, self.queues.stage, self.contacts.stages)
        self.redis_status = RedisStatus()
        plane = RedisPlane(settings.redis) if settings.redis.url else None
        self.follower = (
            TargetFollower(plane, self.targets, settings, self.redis_status)
            if plane is not None
            else None
        )
        self.publisher = (
            BoardPublisher(
                plane,
                view,
                f"{socket.gethostname()}:{port}",
                self.redis_status,
                lambda: self.not_ready_reason() is None,
                time.time,
            )
            if plane is not None
            else None
        )
        self.server = WorkerServer(
            host,
            port,
            view,
            self.status,
            [WorkerCollector(self.status), *([self.redis_status] if plane else [])],
            ClusterBoard(plane, self.redis_status, list(settings.windows)) if plane else None,
        )
        self._wire(events, facts)

    # ------------------------------------------------------------------ Faust's parts

    def _topic(self, name: str) -> Any:
        return self.app.topic(
            name,
            partitions=self.settings.kafka.partitions,
            key_serializer="raw",
            value_serializer="raw",
        )

    def _table(self, name: str) -> Any:
        """Keys and values are bytes (orjson inside); values may be large (whole queues)."""
        return self.app.Table(
            name,
            partitions=self.settings.kafka.partitions,
            key_type=bytes,
            value_type=bytes,
            extra_topic_configs={"max.message.bytes": str(MAX_MESSAGE_BYTES)},
        )

    def _assignment(self) -> set[TP]:
        return set(self.app.consumer.assignment())

    def assigned(self, topic: str) -> set[int]:
        """The partitions of `topic` assigned to this worker now."""
        return {tp.partition for tp in self.app.consumer.assignment() if tp.topic == topic}

    async def _seek(self, tp: TP, offset: int) -> None:
        await self.app.consumer.seek(tp, offset)

    def _stopping(self) -> bool:
        return bool(self.app.should_stop)

    def not_ready_reason(self) -> str | None:
        if self.app.rebalancing:
            return "rebalancing partitions"
        if not self.app.tables.recovery.completed.is_set():
            return "restoring Tables from their changelogs"
        return None

    # ------------------------------------------------------------------ callbacks

    def _wire(self, events: Any, facts: Any) -> None:
        app = self.app

        # The agents subscribe the input topics (Faust assigns partitions, with the
        # Tables' changelogs, to the agents' topics); their streams stay empty, since
        # BatchConsumer hands every fetch of those topics to on_fetch.
        async def subscribed(stream: Any) -> None:
            async for _ in stream:
                raise RuntimeError("BatchConsumer delivered a message one at a time")

        app.agent(events, concurrency=1, name="floorwatch-contact-stage")(subscribed)
        app.agent(facts, concurrency=1, name="floorwatch-queue-stage")(subscribed)

        @app.timer(interval=self.settings.worker.tick_seconds)
        async def progress_tick() -> None:
            async with self.lock:
                await self.tick()
                await self.checkpointer.maybe_checkpoint(time.time())  # traffic may stop

        @app.task
        async def serve_web() -> None:
            await self.server.start()

        @app.task
        async def committer() -> None:
            await self.checkpointer.commit_forever(self._stopping)

        follower, publisher = self.follower, self.publisher
        if follower is not None and publisher is not None:

            @app.task
            async def live_targets() -> None:
                await follower.run()

            @app.task
            async def board_to_redis() -> None:
                await publisher.publish_forever(self._stopping, self.settings.redis.board_seconds)

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
            wall, now = time.time(), time.monotonic()
            for tp, batch in records.items():
                if tp.topic == self.events_topic:
                    sends = await self.contacts.apply(tp, batch, wall, now)
                    if sends is not None:
                        self.checkpointer.sent(sends)
                        self.checkpointer.applied(tp)
                elif await self.queues.apply(tp, batch, wall, now):
                    self.checkpointer.applied(tp)
            self._report()
            await self.checkpointer.maybe_checkpoint(time.time())

    async def tick(self) -> None:
        """Progress marks from each owned input partition, then the queue stage's clock."""
        if self.not_ready_reason() is not None:
            return
        wall = time.time()
        lags = await self.contacts.mark_progress(self.app.consumer.highwater, wall)
        known = self.status.lags
        self.status.lags = {
            (self.events_topic, p): lag if lag is not None else known[(self.events_topic, p)]
            for p, lag in lags.items()
            if lag is not None or (self.events_topic, p) in known
        }
        self.queues.load(wall)
        self.queues.stage.tick(wall)
        self._report()

    def revoke(self, revoked: set[TP]) -> None:
        """Partitions moved away: forget their state at once (their series go with it)."""
        for tp in revoked:
            self.checkpointer.forget(tp)
            self.status.lags.pop((tp.topic, tp.partition), None)
            if tp.topic == self.events_topic:
                self.contacts.drop(tp.partition)
            elif tp.topic == self.facts_topic:
                self.queues.drop(tp.partition)
        self._report()
        log.info("partitions revoked: %s", sorted(f"{tp.topic}:{tp.partition}" for tp in revoked))

    def _report(self) -> None:
        status = self.status
        status.partitions = {
            CONTACT_STAGE: len(self.contacts.stages),
            QUEUE_STAGE: len(self.queues.stage.owned),
        }
        status.dead_letters = self.contacts.dead_letters

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
