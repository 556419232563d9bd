"""Pipeline health counters (no queue labels)."""

from __future__ import annotations

from streams.contract import EVENT_TYPES, REJECT_REASONS
from streams.engine.histogram import Histogram

LAG_BOUNDS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 86400)


class PipelineStats:
    __slots__ = ("duplicates", "ignored", "lag", "last_event_ts", "late", "processed", "rejected")

    def __init__(self) -> None:
        self.processed: dict[str, int] = dict.fromkeys(EVENT_TYPES, 0)
        self.rejected: dict[str, int] = dict.fromkeys(REJECT_REASONS, 0)
        self.ignored: dict[str, int] = {}
        self.duplicates = 0
        self.late = 0
        self.last_event_ts: float | None = None
        self.lag = Histogram(LAG_BOUNDS)
