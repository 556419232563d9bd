"""Start a worker: make sure the topics exist, then hand the loop to Faust's Worker."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaTimeoutError, TopicAlreadyExistsError, for_code

from streams.core.settings import Settings
from streams.kafka_client import client_options
from streams.runtimes.worker.faust_app import TopicSpec, worker_topics
from streams.runtimes.worker.faust_internals import StoppingWorker, pace_failed_metadata_updates
from streams.runtimes.worker.worker import Worker

log = logging.getLogger("floorwatch.worker")

MAX_REPLICATION_FACTOR = 3
TOPICS_READY_SECONDS = 30.0  # how long new topics may take to have a leader everywhere
LEADER_POLL_SECONDS = 0.1


async def prepare_topics(settings: Settings) -> int:
    """Create the worker's topics that are missing (`faust_app.worker_topics`: the input,
    facts and dead-letter topics and both Tables' changelogs), with a replication factor
    of 3, or the number of brokers if fewer, and wait until every partition of each has
    a leader. Returns that replication factor (for the topics Faust creates itself).

    Faust declares a Table's changelog itself, but only once the Table starts, a moment
    before the consumer joins the group: on a fresh broker the consumer's metadata
    sometimes lacked the new changelog at the first assignment (Faust's assignor logs
    "Ignoring missing topic"), so its partitions were neither assigned nor restored and
    the queue state was lost at the next rebalance. Created here, before Faust starts,
    they are in the metadata from the first join. Existing changelogs are left as they
    are, with a warning when they are not compacted."""
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await admin.start()
    try:
        brokers = len((await admin.describe_cluster())["brokers"])
        replication = min(MAX_REPLICATION_FACTOR, brokers)
        existing = set(await admin.list_topics())
        wanted = worker_topics(settings)
        missing = [spec for spec in wanted if spec.name not in existing]
        if missing:
            await _create(admin, missing, replication)
            log.info(
                "topics created",
                extra={"topics": [spec.name for spec in missing], "replication": replication},
            )
        compacted = [s.name for s in wanted if s.name in existing and "cleanup.policy" in s.config]
        await _warn_unless_compacted(admin, compacted)
    finally:
        await admin.close()
    return replication


async def _create(admin: AIOKafkaAdminClient, specs: Sequence[TopicSpec], replication: int) -> None:
    """Create `specs` (one created meanwhile by another worker is fine) and wait until
    every partition of each has a leader."""
    response = await admin.create_topics(
        [
            NewTopic(spec.name, spec.partitions, replication, topic_configs=dict(spec.config))
            for spec in specs
        ]
    )
    for name, code, *message in response.topic_errors:
        error = for_code(code) if code else None
        if error is not None and error is not TopicAlreadyExistsError:
            raise error(f"creating topic {name!r}: {message[0] if message else ''}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TOPICS_READY_SECONDS
    partitions = {spec.name: spec.partitions for spec in specs}
    while True:
        led = {
            topic["topic"]: sum(
                1 for p in topic["partitions"] if p["error_code"] == 0 and p["leader"] >= 0
            )
            for topic in await admin.describe_topics(list(partitions))
            if topic["error_code"] == 0
        }
        waiting = sorted(name for name, count in partitions.items() if led.get(name, 0) < count)
        if not waiting:
            return
        if loop.time() >= deadline:
            raise KafkaTimeoutError(
                f"topics {waiting} without a leader for every partition after "
                f"{TOPICS_READY_SECONDS:g} s"
            )
        await asyncio.sleep(LEADER_POLL_SECONDS)


async def _warn_unless_compacted(admin: AIOKafkaAdminClient, names: Sequence[str]) -> None:
    """A changelog that is not compacted loses the Table values its retention expires."""
    if not names:
        return
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, name, configs={"cleanup.policy": None})
        for name in names
    ]
    for response in await admin.describe_configs(resources):
        for code, _, _, name, entries in response.resources:
            policy = next((entry[1] for entry in entries if entry[0] == "cleanup.policy"), None)
            if code == 0 and policy is not None and "compact" not in policy.split(","):
                log.warning(
                    "changelog topic %s has cleanup.policy=%s, not compact: Table values older "
                    "than its retention are lost at a restore (set cleanup.policy=compact)",
                    name,
                    policy,
                )


def run_worker(settings: Settings, host: str, port: int, log_level: str) -> int:
    """Run until SIGINT/SIGTERM; returns the exit code."""
    pace_failed_metadata_updates()  # before any client: no busy loop while Kafka is down
    replication = asyncio.run(prepare_topics(settings))
    worker = Worker(settings, host, port, replication)
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
