"""The Faust app of a worker: its settings, its topics and its bytes Tables."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import faust

from streams.core.settings import Settings
from streams.kafka_client import client_options

CONTACTS_TABLE = "floorwatch-contacts"
QUEUES_TABLE = "floorwatch-queues"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # a busy queue's Table value can pass Kafka's 1 MiB
# Read ahead per partition. aiokafka buffers one fetch response per partition, and its
# thread competes with the worker for the interpreter: with Faust's 1 MiB a caught-up
# buffer left the worker waiting for records a third of the time (about 55,000 events/s
# instead of 65,000 here). The raw consumer of the benchmark reads with the same size.
FETCH_BYTES_PER_PARTITION = 8 * 1024 * 1024
# What Faust adds to a Table's changelog topic config (`extra_topic_configs`), and the
# whole config it creates the topic with: compacted (`Table._changelog_compacting`,
# no retention), plus the extra.
CHANGELOG_EXTRA_CONFIG = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
CHANGELOG_CONFIG = {"cleanup.policy": "compact", **CHANGELOG_EXTRA_CONFIG}


@dataclass(frozen=True)
class TopicSpec:
    """A topic the worker needs, as the worker creates it when it is missing: its name,
    partition count and topic configs (Kafka's names and string values)."""

    name: str
    partitions: int
    config: Mapping[str, str] = field(default_factory=dict)


def changelog_topic_name(app_id: str, table: str) -> str:
    """Faust's name for a Table's changelog topic (`Table._changelog_topic_name`); the
    app id is the consumer group."""
    return f"{app_id}-{table}-changelog"


def worker_topics(settings: Settings) -> list[TopicSpec]:
    """Every topic a worker reads or writes: the input, facts and dead-letter topics,
    and both Tables' changelogs (as Faust declares them), all with `[kafka] partitions`."""
    kafka = settings.kafka
    partitions = kafka.partitions
    plain = [
        TopicSpec(name, partitions) for name in (kafka.topic, kafka.facts_topic, kafka.dlq_topic)
    ]
    changelogs = [
        TopicSpec(changelog_topic_name(kafka.consumer_group, table), partitions, CHANGELOG_CONFIG)
        for table in (CONTACTS_TABLE, QUEUES_TABLE)
    ]
    return plain + changelogs


def faust_settings(settings: Settings, replication_factor: int = 1) -> dict[str, Any]:
    """The Faust app's settings from ours (security, store, sizes, timeouts, logs), and
    the replication factor of the topics Faust creates (its leader topic; the others
    exist before it starts)."""
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
        "topic_replication_factor": replication_factor,
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


def make_app(settings: Settings, replication_factor: int = 1) -> Any:
    """The app of the consumer group (Faust's annotations disagree with its runtime API
    in places, so it is Any)."""
    return faust.App(settings.kafka.consumer_group, **faust_settings(settings, replication_factor))


def raw_topic(app: Any, name: str, partitions: int) -> Any:
    """A topic of bytes keys and values (the worker encodes and decodes them itself)."""
    return app.topic(name, partitions=partitions, key_serializer="raw", value_serializer="raw")


def bytes_table(app: Any, name: str, partitions: int) -> Any:
    """Keys and values are bytes (orjson inside); values may be large (whole queues)."""
    return app.Table(
        name,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        extra_topic_configs=dict(CHANGELOG_EXTRA_CONFIG),
    )
