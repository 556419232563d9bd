"""Pipeline health counters (no queue labels)."""

from __future__ import annotations

from streams.core.contract import EVENT_TYPES, REJECT_REASONS
from streams.core.histogram import Histogram
from streams.core.intake import Event

LAG_BOUNDS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 86400)


class PipelineStats:
    """Pipeline health counters without queue labels: events processed, rejected by reason,
    ignored, duplicate and late, the newest event time and the processing lag."""

    __slots__ = (
        "duplicates",
        "ignored",
        "lag",
        "last_event_ts",
        "late",
        "processed",
        "rejected",
        "wall_now",
    )

    def __init__(self) -> None:
        self.processed: dict[str, int] = dict.fromkeys(EVENT_TYPES, 0)
        self.rejected: dict[str, int] = dict.fromkeys(REJECT_REASONS, 0)
        self.ignored: dict[str, int] = {}
        self.duplicates = 0
        self.late = 0
        self.last_event_ts: float | None = None
        self.lag = Histogram(LAG_BOUNDS)
        self.wall_now = 0.0  # processing time of the message in hand

    def applied(self, event: Event) -> None:
        """An event was applied: count it, note its time and its processing lag."""
        self.processed[event.type] += 1
        if self.last_event_ts is None or event.ts > self.last_event_ts:
            self.last_event_ts = event.ts
        lag = self.wall_now - event.ts
        self.lag.observe(lag if lag > 0 else 0.0)
