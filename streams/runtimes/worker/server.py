"""The worker's web server: /metrics, /api/v1/board, /healthz and /readyz."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client.registry import Collector

from streams.read.view import ReadView
from streams.runtimes.worker.status import WorkerStatus
from streams.web.server import BoardSource, make_app

log = logging.getLogger("floorwatch.worker")


class WorkerServer:
    """The web application of `streams.web.server` on the worker's address, fed by the
    worker's read view, its status (readiness) and extra collectors."""

    def __init__(
        self,
        host: str,
        port: int,
        view: ReadView,
        status: WorkerStatus,
        collectors: list[Collector],
        board_source: BoardSource | None,
    ) -> None:
        self.host = host
        self.port = port
        app = make_app(view, status.not_ready_reason, *collectors, board_source=board_source)
        self.runner = web.AppRunner(app)

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port)
        await site.start()
        log.info("serving on http://%s:%d/", self.host, self.port)
