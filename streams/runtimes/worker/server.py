"""The worker's web server and Kafka probe, both running from process start."""

from __future__ import annotations

import logging

from aiohttp import web
from mode import Service
from prometheus_client.registry import Collector

from streams.kafka_client import ClusterProbe
from streams.read.view import ReadView
from streams.runtimes.worker.status import WorkerStatus
from streams.web.server import BoardSource, FloorSource, make_app

log = logging.getLogger("floorwatch.worker")


class WorkerServer(Service):
    """/metrics, /api/v1/board (and the agents, contacts and moves lists), /healthz and
    /readyz on the worker's address, fed by its read view (or the cluster's board and
    floor in Redis), its status (readiness) and extra collectors. A service the Faust worker
    starts before the app, so probes answer while the worker joins its group and
    restores its Tables (/readyz says which)."""

    def __init__(
        self,
        host: str,
        port: int,
        view: ReadView,
        status: WorkerStatus,
        collectors: list[Collector],
        board_source: BoardSource | None,
        floor_source: FloorSource | None = None,
    ) -> None:
        super().__init__()
        self.host = host
        self.port = port
        app = make_app(
            view,
            status.not_ready_reason,
            *collectors,
            board_source=board_source,
            floor_source=floor_source,
        )
        self.runner = web.AppRunner(app)

    async def on_start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port)
        await site.start()
        log.info("serving on http://%s:%d/", self.host, self.port)

    async def on_stop(self) -> None:
        await self.runner.cleanup()


class KafkaWatch(Service):
    """Probes the Kafka cluster every `every_seconds` from process start and keeps
    `status.kafka_up`; logs each change once, not every failed probe."""

    def __init__(self, probe: ClusterProbe, status: WorkerStatus, every_seconds: float) -> None:
        super().__init__()
        self.probe = probe
        self.status = status
        self.every_seconds = every_seconds
        self.answered: bool | None = None  # by the last probe (None: none yet)

    @Service.task
    async def _watch(self) -> None:
        while not self.should_stop:
            up = await self.probe.answers()
            if up and self.answered is False:
                log.info("kafka reachable again")
            elif not up and self.answered is not False:
                log.warning("kafka unreachable: no answer to a metadata request")
            self.answered = self.status.kafka_up = up
            await self.sleep(self.every_seconds)

    async def on_stop(self) -> None:
        await self.probe.close()
