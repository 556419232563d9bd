"""Start a worker: make sure the topics exist, then hand the loop to Faust's Worker."""

from __future__ import annotations

import asyncio
import logging

from streams.core.settings import Settings
from streams.kafka_client import ensure_topic
from streams.runtimes.worker.faust_internals import StoppingWorker, pace_failed_metadata_updates
from streams.runtimes.worker.worker import Worker

log = logging.getLogger("floorwatch.worker")


async def _ensure_topics(settings: Settings) -> None:
    kafka = settings.kafka
    for name in (kafka.topic, kafka.facts_topic, kafka.dlq_topic):
        await ensure_topic(kafka, name, kafka.partitions)


def run_worker(settings: Settings, host: str, port: int, log_level: str) -> int:
    """Run until SIGINT/SIGTERM; returns the exit code."""
    pace_failed_metadata_updates()  # before any client: no busy loop while Kafka is down
    asyncio.run(_ensure_topics(settings))
    worker = Worker(settings, host, port)
    asyncio.run(worker.first_targets())  # before the first event is applied
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    faust_worker = StoppingWorker(
        worker.app,
        *worker.services,  # started before the app
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
