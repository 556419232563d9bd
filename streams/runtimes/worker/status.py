"""What a worker reports about itself: partitions, lags, dead letters, readiness."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

CONTACT_STAGE, QUEUE_STAGE = "1", "2"  # label values of contactcenter_worker_partitions


@dataclass
class WorkerStatus:
    """The worker's health as the worker last set it, read by /readyz and the metrics
    collector (which never see the worker itself). `readiness()` returns None when
    ready, else the reason; `lags` maps (topic, partition) of an owned partition to its
    messages not applied yet; `partitions` maps a stage to the partitions it serves;
    `kafka_up` says whether the cluster answered the last probe."""

    readiness: Callable[[], str | None]
    lags: dict[tuple[str, int], int] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=lambda: {CONTACT_STAGE: 0, QUEUE_STAGE: 0})
    dead_letters: int = 0
    kafka_up: bool = False

    def not_ready_reason(self) -> str | None:
        return self.readiness()
