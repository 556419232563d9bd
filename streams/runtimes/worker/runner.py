"""Start a worker: make sure the topics exist, then hand the loop to Faust's Worker."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from typing import Any

from faust.worker import Worker as FaustWorker

from streams.core.settings import Settings
from streams.kafka_client import ensure_topic
from streams.runtimes.worker.worker import Worker

log = logging.getLogger("floorwatch.worker")
EXIT_STOP_TIMEOUT = 1


class _StoppingWorker(FaustWorker):
    """Faust's Worker, with a deadline on stopping. A stop that waits for an unreachable
    broker (leaving the group, the last commit) takes a minute or more; past
    `stop_timeout_seconds` the process exits at once. Nothing is lost: only what was
    checkpointed counts as done, and the next start resumes from there."""

    def __init__(self, *args: Any, stop_timeout_seconds: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stop_timeout_seconds = stop_timeout_seconds

    def _schedule_shutdown(self, received: signal.Signals) -> None:  # mode's, SIGINT/TERM
        if not self._signal_stop_time:
            deadline = threading.Timer(self.stop_timeout_seconds, self._stop_overdue)
            deadline.daemon = True  # a stop in time exits without waiting for it
            deadline.start()
        super()._schedule_shutdown(received)

    def _stop_overdue(self) -> None:
        log.error(
            "worker not stopped %g s after the signal (is the broker reachable?): exiting "
            "now; the next start resumes from the last checkpoint",
            self.stop_timeout_seconds,
        )
        logging.shutdown()  # flush the log handlers: os._exit skips that
        os._exit(EXIT_STOP_TIMEOUT)


async def _ensure_topics(settings: Settings) -> None:
    kafka = settings.kafka
    for name in (kafka.topic, kafka.facts_topic, kafka.dlq_topic):
        await ensure_topic(kafka, name, kafka.partitions)


def run_worker(settings: Settings, host: str, port: int, log_level: str) -> int:
    """Run until SIGINT/SIGTERM; returns the exit code."""
    asyncio.run(_ensure_topics(settings))
    worker = Worker(settings, host, port)
    asyncio.run(worker.first_targets())  # before the first event is applied
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    faust_worker = _StoppingWorker(
        worker.app,
        loop=loop,
        loglevel=log_level.upper(),
        quiet=True,
        redirect_stdouts=False,
        override_logging=False,
        stop_timeout_seconds=settings.worker.stop_timeout_seconds,
    )
    log.info("worker starting", extra={"group": settings.kafka.consumer_group})
    faust_worker.execute_from_commandline()
    return 0
