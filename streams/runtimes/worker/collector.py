"""Pipeline metrics only a worker has: lag, owned partitions, dead letters, Kafka up."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from streams.runtimes.worker.status import WorkerStatus

P = "contactcenter_"


class WorkerCollector(Collector):
    """Renders a `WorkerStatus` on every scrape (fresh families each time, no state of
    its own)."""

    def __init__(self, status: WorkerStatus) -> None:
        self.status = status

    def collect(self) -> Iterator[Metric]:
        status = self.status
        lag = GaugeMetricFamily(
            P + "consumer_lag_messages",
            "Messages of an owned partition not applied yet (high-water mark - next), for "
            "the input topic (contact stage) and the facts topic (queue stage).",
            labels=("topic", "partition"),
        )
        for (topic, partition), messages in sorted(status.lags.items()):
            lag.add_metric([topic, str(partition)], messages)
        yield lag
        owned = GaugeMetricFamily(
            P + "worker_partitions",
            "Partitions this worker owns, by stage (1: contacts, 2: queues).",
            labels=("stage",),
        )
        for stage, count in sorted(status.partitions.items()):
            owned.add_metric([stage], count)
        yield owned
        yield CounterMetricFamily(
            P + "dead_letters_total",
            "Rejected messages sent to the dead-letter topic by this worker.",
            value=status.dead_letters,
        )
        yield GaugeMetricFamily(
            P + "kafka_up",
            "1 if the Kafka cluster answered this worker's last metadata request (one "
            "every few seconds, from process start), else 0.",
            value=1.0 if status.kafka_up else 0.0,
        )
