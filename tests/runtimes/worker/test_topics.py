"""The topics a worker creates before Faust starts: the three topics and both Tables'
changelogs, as Faust would declare them."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from streams import kafka_client
from streams.config import apply_env, settings_from_mapping
from streams.core.settings import KafkaSettings
from streams.runtimes.worker.faust_app import TopicSpec, worker_topics
from streams.runtimes.worker.runner import prepare_topics
from streams.runtimes.worker.worker import Worker
from tests.support.kafka_broker import Broker
from tests.support.live import wait_for
from tests.support.worker_cluster import PARTITIONS, Cluster, converge, day_events, keyed, reference

COMPACTED = {"cleanup.policy": "compact", "max.message.bytes": "16777216"}  # 16 MiB


def test_worker_topics_by_default() -> None:
    assert worker_topics(settings_from_mapping({})) == [
        TopicSpec("contact-events", 6),
        TopicSpec("floorwatch-facts", 6),
        TopicSpec("contact-events-dlq", 6),
        TopicSpec("floorwatch-floorwatch-contacts-changelog", 6, COMPACTED),
        TopicSpec("floorwatch-floorwatch-queues-changelog", 6, COMPACTED),
    ]


def test_changelogs_are_those_faust_declares() -> None:
    """Name, partitions and config of each Table's changelog as Faust would create it
    (`_really_create_topic`: the transport's config for the topic's cleanup flags and
    retention, then the Table's extra configs), and Faust's replication factor."""
    settings = settings_from_mapping(
        {"kafka": {"consumer_group": "g", "partitions": 3, "topic": "in", "facts_topic": "f"}}
    )
    worker = Worker(settings, "127.0.0.1", 0, replication_factor=2)
    declared = []
    for table in (worker.contacts.table.table, worker.queues.table.table):
        topic = table.changelog_topic
        config = worker.app.transport._topic_config(
            topic.retention, topic.compacting, topic.deleting
        )
        declared.append(TopicSpec(topic.get_topic_name(), topic.partitions, config | topic.config))
    assert declared == [
        TopicSpec("g-floorwatch-contacts-changelog", 3, COMPACTED),
        TopicSpec("g-floorwatch-queues-changelog", 3, COMPACTED),
    ]
    assert worker_topics(settings)[3:] == declared
    assert worker.app.conf.topic_replication_factor == 2


# ---------------------------------------------------------------- against a broker


async def describe(kafka: KafkaSettings, names: list[str]) -> dict[str, tuple[int, dict[str, str]]]:
    """Topic -> (partitions, cleanup.policy and max.message.bytes) of the existing ones."""
    admin = AIOKafkaAdminClient(**kafka_client.client_options(kafka))
    await admin.start()
    try:
        partitions = {
            t["topic"]: len(t["partitions"])
            for t in await admin.describe_topics(names)
            if t["error_code"] == 0
        }
        wanted = {"cleanup.policy": None, "max.message.bytes": None}
        resources = [
            ConfigResource(ConfigResourceType.TOPIC, n, configs=wanted) for n in partitions
        ]
        configs = {}
        for response in await admin.describe_configs(resources) if resources else []:
            for _, _, _, name, entries in response.resources:
                configs[name] = {entry[0]: entry[1] for entry in entries}
    finally:
        await admin.close()
    return {name: (count, configs[name]) for name, count in partitions.items()}


@pytest.fixture
def cluster(kafka_broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    made = Cluster(kafka_broker.bootstrap, tmp_path)
    yield made
    made.stop()


def changelogs(cluster: Cluster) -> list[str]:
    group = cluster.kafka.consumer_group
    return [f"{group}-floorwatch-contacts-changelog", f"{group}-floorwatch-queues-changelog"]


@pytest.mark.kafka
@pytest.mark.slow
def test_changelogs_exist_compacted_before_the_first_assignment(cluster: Cluster) -> None:
    """On a fresh topic set, with Faust's own topic creation turned off (its
    TOPIC_ALLOW_DECLARE variable), so that only the worker's start can have created
    them: the changelogs exist, compacted, once the web server answers (it starts after
    the topics are made, before the Faust app), and the log says they were made before
    Faust's first assignment, which found every changelog."""
    events = day_events(seed=39, contacts=100)
    cluster.produce(keyed(events))
    cluster.env["TOPIC_ALLOW_DECLARE"] = "false"
    worker = cluster.start("a", wait_ready=False)
    wait_for(lambda: worker.get("/healthz")[0] == 200, 60, "the worker's web server", 0.2)
    names = changelogs(cluster)
    found = asyncio.run(describe(cluster.kafka, names))
    assert found == {name: (PARTITIONS, COMPACTED) for name in names}
    wait_for(worker.ready, 60, "the worker ready", 0.2)
    converge(cluster, reference(events))
    messages = [
        json.loads(line)["msg"] for line in worker.log.read_bytes().splitlines() if line[:1] == b"{"
    ]
    created = messages.index("topics created")
    assert created < messages.index("Executing _on_partitions_assigned")
    assert not [m for m in messages if m.startswith("Ignoring missing topic") and "changelog" in m]


@pytest.mark.kafka
def test_existing_topics_kept_and_a_changelog_not_compacted_reported(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    """An existing topic is left as it is (here the queues' changelog, not compacted,
    as a broker's automatic topic creation makes it: a warning says so); the missing
    ones are created with replication 1 on one broker."""
    kafka = cluster.kafka
    contacts, queues = changelogs(cluster)

    async def create_plain() -> None:
        admin = AIOKafkaAdminClient(**kafka_client.client_options(kafka))
        await admin.start()
        try:
            await admin.create_topics([NewTopic(queues, PARTITIONS, 1)])
        finally:
            await admin.close()

    asyncio.run(create_plain())
    settings = settings_from_mapping(apply_env({}, cluster.env))
    with caplog.at_level(logging.INFO, logger="floorwatch.worker"):
        assert asyncio.run(prepare_topics(settings)) == 1
    names = [kafka.topic, kafka.facts_topic, kafka.dlq_topic, contacts, queues]
    found = asyncio.run(describe(kafka, names))
    plain = {"cleanup.policy": "delete", "max.message.bytes": "1048588"}  # the broker's defaults
    assert found == {
        kafka.topic: (PARTITIONS, plain),
        kafka.facts_topic: (PARTITIONS, plain),
        kafka.dlq_topic: (PARTITIONS, plain),
        contacts: (PARTITIONS, COMPACTED),
        queues: (PARTITIONS, plain),
    }
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"changelog topic {queues} has cleanup.policy=delete, not compact: Table values "
        "older than its retention are lost at a restore (set cleanup.policy=compact)"
    ]
