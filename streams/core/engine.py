"""One process's engine: intake, de-duplication, contact and queue stages, pipeline stats."""

from __future__ import annotations

from collections.abc import Callable

from streams.core.agents import AgentTracker
from streams.core.clock import Clock
from streams.core.contacts import ContactTracker
from streams.core.contract import AGENT_TYPE
from streams.core.dedup import RecentIds
from streams.core.intake import Event, Rejection, decode
from streams.core.pipeline import PipelineStats
from streams.core.queues import QueueBoard
from streams.core.settings import Settings
from streams.core.targets import TargetBook


class RejectRecord:
    """A rejected message: reason, detail, and the original bytes when still at hand."""

    __slots__ = ("detail", "raw", "reason")

    def __init__(self, reason: str, detail: str, raw: bytes | None) -> None:
        self.reason = reason
        self.detail = detail
        self.raw = raw


class Engine:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        on_reject: Callable[[RejectRecord], None] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.on_reject = on_reject
        self.pipeline = PipelineStats()
        self.targets = TargetBook(settings)
        self.queues = QueueBoard(settings, self.targets)
        self.agents = self.queues.agents
        self.agent_tracker = AgentTracker(self.queues, self.pipeline)
        self.contacts = ContactTracker(
            settings, self.targets, self.queues, self.pipeline, self._orphan
        )
        self.recent_ids = RecentIds(settings.engine.dedup_capacity)
        self.now = float("-inf")

    @property
    def parked_count(self) -> int:
        return self.contacts.parked_count

    @property
    def contacts_tracked(self) -> int:
        return len(self.contacts.contacts)

    def advance(self, now: float) -> None:
        """Move every clock-driven part to `now` (SLA clocks, day rollover, timers)."""
        self.now = now
        self.queues.advance(now)
        self.contacts.advance(now)

    def ingest(self, raw: bytes, wall_now: float) -> bool:
        """Decode, validate and apply one message; False if it was rejected."""
        try:
            event = decode(raw, wall_now)
        except Rejection as rejection:
            self.reject(rejection.reason, rejection.detail, raw)
            return False
        self.apply(event, wall_now)
        return True

    def apply(self, event: Event, wall_now: float) -> None:
        """Apply one validated event (duplicates are counted and dropped)."""
        pipeline = self.pipeline
        if self.recent_ids.seen(event.event_id):
            pipeline.duplicates += 1
            return
        pipeline.wall_now = wall_now
        now = self.clock.observe(event.ts)
        if now > self.now:
            self.advance(now)
        if event.type == AGENT_TYPE:
            pipeline.applied(event)
            self.agent_tracker.apply(event)
        else:
            self.contacts.apply(event)

    def reject(self, reason: str, detail: str, raw: bytes | None) -> None:
        """Count a rejected message and hand it to `on_reject` (it changes no metric)."""
        self.pipeline.rejected[reason] += 1
        if self.on_reject is not None:
            self.on_reject(RejectRecord(reason, detail, raw))

    def _orphan(self, event: Event) -> None:
        """A parked event whose contact never appeared."""
        self.reject(
            "unknown_contact",
            f"{event.type} {event.event_id}: contact {event.contact_id} never queued",
            None,
        )
