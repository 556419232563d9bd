"""The worker's own metrics, rendered from a status set by hand, on a fresh registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from streams.runtimes.worker.collector import WorkerCollector
from streams.runtimes.worker.status import CONTACT_STAGE, QUEUE_STAGE, WorkerStatus


def samples(status: WorkerStatus) -> list[str]:
    registry = CollectorRegistry()
    registry.register(WorkerCollector(status))
    text = generate_latest(registry).decode()
    return [line for line in text.splitlines() if not line.startswith("#")]


def test_lags_partitions_dead_letters_and_kafka_up_as_set() -> None:
    status = WorkerStatus(readiness=lambda: None)
    status.lags = {("events", 3): 12, ("events", 0): 0, ("facts", 3): 4}
    status.partitions = {CONTACT_STAGE: 2, QUEUE_STAGE: 1}
    status.dead_letters = 5
    status.kafka_up = True
    assert samples(status) == [
        'contactcenter_consumer_lag_messages{partition="0",topic="events"} 0.0',
        'contactcenter_consumer_lag_messages{partition="3",topic="events"} 12.0',
        'contactcenter_consumer_lag_messages{partition="3",topic="facts"} 4.0',
        'contactcenter_worker_partitions{stage="1"} 2.0',
        'contactcenter_worker_partitions{stage="2"} 1.0',
        "contactcenter_dead_letters_total 5.0",
        "contactcenter_kafka_up 1.0",
    ]


def test_a_new_status_exports_zeros_not_nothing() -> None:
    assert samples(WorkerStatus(readiness=lambda: "starting")) == [
        'contactcenter_worker_partitions{stage="1"} 0.0',
        'contactcenter_worker_partitions{stage="2"} 0.0',
        "contactcenter_dead_letters_total 0.0",
        "contactcenter_kafka_up 0.0",
    ]
