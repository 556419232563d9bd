"""Whether Redis answers, for logs and `/metrics` (`contactcenter_redis_up`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger("floorwatch.redis")


class RedisStatus:
    """Whether Redis answered the last time; logs each change once (not every retry) and
    exports it as `contactcenter_redis_up`, with the live targets in force as
    `contactcenter_live_targets_version` (a Prometheus collector)."""

    def __init__(self) -> None:
        self.up: bool | None = None  # None: not tried yet
        self.targets_version = 0  # of the live targets applied (0: none yet)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "contactcenter_redis_up",
            "1 if Redis (live targets, cluster board) answered the last request, else 0.",
            value=1.0 if self.up else 0.0,
        )
        yield GaugeMetricFamily(
            "contactcenter_live_targets_version",
            "Version of the live targets this process applies (equal on every worker once "
            "a change has reached them all; 0 before the first).",
            value=float(self.targets_version),
        )

    def ok(self) -> None:
        if self.up is False:
            log.info("redis reachable again")
        self.up = True

    def failed(self, error: BaseException) -> None:
        if self.up is not False:
            log.warning(
                "redis unreachable: going on with the last known targets",
                extra={"error": type(error).__name__, "detail": str(error)},
            )
        self.up = False
