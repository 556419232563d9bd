"""The Faust worker: builds the parts of a worker and connects Faust's callbacks to them."""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import time
from collections.abc import Coroutine, Mapping
from typing import Any

from faust.types import TP

from streams.control.follower import TargetFollower
from streams.control.status import RedisStatus
from streams.control.store import RedisPlane
from streams.core.clock import WallClock
from streams.core.pipeline import PipelineStats
from streams.core.queue_stage import QueueStage
from streams.core.settings import Settings
from streams.core.targets import TargetBook
from streams.kafka_client import ClusterProbe
from streams.runtimes.worker import faust_app, faust_internals
from streams.runtimes.worker.checkpoint import Checkpointer
from streams.runtimes.worker.collector import WorkerCollector
from streams.runtimes.worker.contact_partitions import ContactPartitions
from streams.runtimes.worker.faust_app import CONTACTS_TABLE, QUEUES_TABLE
from streams.runtimes.worker.offsets import OffsetGate
from streams.runtimes.worker.publisher import BoardPublisher, ClusterBoard, ClusterFloor
from streams.runtimes.worker.queue_partitions import QueuePartitions
from streams.runtimes.worker.read_view import WorkerView
from streams.runtimes.worker.server import KafkaWatch, WorkerServer
from streams.runtimes.worker.status import CONTACT_STAGE, QUEUE_STAGE, WorkerStatus
from streams.runtimes.worker.tables import BulkTable

log = logging.getLogger("floorwatch.worker")

GAP_PATIENCE_SECONDS = 10.0  # after seeking back, how long a gap may take to refill
KAFKA_PROBE_SECONDS = 2.0  # contactcenter_kafka_up: how often the cluster is asked
KAFKA_PROBE_TIMEOUT_SECONDS = 5.0  # and how long an answer may take


class Worker:
    """One worker process: the Faust app (group membership, Tables, producer) wired to
    the contact and queue stages, the checkpointer, the Redis board and the web server.
    Fetches, checkpoints, clock ticks and rebalances run one at a time under one lock
    (the equivalent of an agent with concurrency 1). `replication_factor` is that of
    the topics Faust creates itself."""

    def __init__(
        self, settings: Settings, host: str, port: int, replication_factor: int = 1
    ) -> None:
        self.settings = settings
        kafka = settings.kafka
        self.events_topic, self.facts_topic = kafka.topic, kafka.facts_topic
        partitions = kafka.partitions
        self.app: Any = faust_app.make_app(settings, replication_factor)
        events, facts, dead_letters = (
            faust_app.raw_topic(self.app, name, partitions)
            for name in (kafka.topic, kafka.facts_topic, kafka.dlq_topic)
        )
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
            BulkTable(faust_app.bytes_table(self.app, CONTACTS_TABLE, partitions), self.app),
            pipeline,
            self.targets,
            OffsetGate(GAP_PATIENCE_SECONDS),
            send_fact,
            send_dead_letter,
            seek,
            functools.partial(self.assigned, kafka.topic),
        )
        self.queues = QueuePartitions(
            kafka.facts_topic,
            QueueStage(settings, partitions, partitions, self.targets),
            BulkTable(faust_app.bytes_table(self.app, QUEUES_TABLE, partitions), self.app),
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
        self.joined = False  # partitions assigned once: the group is joined
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
            ClusterFloor(plane, self.redis_status) if plane else None,
        )
        probe = ClusterProbe(kafka, KAFKA_PROBE_TIMEOUT_SECONDS)
        # Started by the Faust worker before the app: they run while it joins the group.
        self.services = [self.server, KafkaWatch(probe, self.status, KAFKA_PROBE_SECONDS)]
        self._wire(events, facts)

    # ------------------------------------------------------------------ Faust's state

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
        if not self.joined:
            return "joining the consumer group"
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
            await whole(self._tick_and_checkpoint())

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

        @app.on_partitions_assigned.connect
        async def on_assigned(sender: Any, *args: Any, **_: Any) -> None:
            self.joined = True

    async def _tick_and_checkpoint(self) -> None:
        async with self.lock:
            await self.tick()
            await self.checkpointer.maybe_checkpoint(time.time())  # traffic may stop

    async def on_fetch(self, records: Mapping[TP, list[Any]], generation: int) -> None:
        """One fetch of the input topics (aiokafka records per partition), applied whole
        even if Faust cancels the call (see `whole`)."""
        await whole(self._apply_fetch(records, generation))

    async def _apply_fetch(self, records: Mapping[TP, list[Any]], generation: int) -> None:
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
        highwater = self.app.consumer.highwater
        contact_lags = await self.contacts.mark_progress(highwater, wall)
        self.queues.load(wall)
        self.queues.stage.tick(wall)
        measured = {(self.events_topic, p): lag for p, lag in contact_lags.items()}
        measured |= {(self.facts_topic, p): lag for p, lag in self.queues.lags(highwater).items()}
        known = self.status.lags  # a lag not known now keeps its last value
        self.status.lags = {
            key: lag if lag is not None else known[key]
            for key, lag in measured.items()
            if lag is not None or key in known
        }
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


async def whole(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` to its end even if the caller is cancelled; the caller still sees the
    cancellation at once. Faust cancels the task of its fetcher whenever it stops it (on
    a rebalance, and at a stop): cancelled halfway, a fetch would leave facts unsent
    after their events were applied, or a checkpoint half written while its dirty
    marks were cleared, and the worker would go on with that state lost."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_report_failure)
        raise


def _report_failure(task: asyncio.Future[None]) -> None:
    """A whole piece of work whose caller was cancelled: say if it failed (at a stop the
    producer may be gone before it ends; nothing is committed past it, so a restart
    applies it again)."""
    if not task.cancelled() and task.exception() is not None:
        log.warning(
            "a fetch or tick that Faust cancelled failed while finishing: %r", task.exception()
        )
