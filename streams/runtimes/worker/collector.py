"""Pipeline metrics only a worker has: consumer lag, owned partitions, dead letters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from streams.runtimes.worker.worker import Worker

P = "contactcenter_"


class WorkerCollector(Collector):
    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    def collect(self) -> Iterator[Metric]:
        worker = self.worker
        topic = worker.settings.kafka.topic
        lag = GaugeMetricFamily(
            P + "consumer_lag_messages",
            "Messages of an owned input partition not applied yet (high-water mark - next).",
            labels=("topic", "partition"),
        )
        for partition in sorted(worker.lags):
            lag.add_metric([topic, str(partition)], worker.lags[partition])
        yield lag
        owned = GaugeMetricFamily(
            P + "worker_partitions",
            "Partitions this worker owns, by stage (1: contacts, 2: queues).",
            labels=("stage",),
        )
        owned.add_metric(["1"], len(worker.contact_stages))
        owned.add_metric(["2"], len(worker.queue_stage.owned))
        yield owned
        yield CounterMetricFamily(
            P + "dead_letters_total",
            "Rejected messages sent to the dead-letter topic by this worker.",
            value=worker.dead_letters,
        )
