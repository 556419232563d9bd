"""One process's engine: intake, de-duplication, contact and queue stages, pipeline stats."""

from __future__ import annotations

from collections.abc import Callable

from streams.core.agents import AgentTracker
from streams.core.clock import Clock
from streams.core.contacts import ContactTracker
from streams.core.dedup import RecentIds
from streams.core.ingest import Ingest
from streams.core.intake import Event, Rejection
from streams.core.pipeline import PipelineStats
from streams.core.queues import QueueBoard
from streams.core.settings import Settings
from streams.core.targets import TargetBook


class Engine:
    """The whole pipeline in one process (replay and `floorwatch run`): ingestion, the
    contact stage, the queue stage and agents, driven by one `Clock`. `ingest` takes raw
    messages, `apply` decoded events; `on_reject` receives every rejection."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        on_reject: Callable[[Rejection], None] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.pipeline = PipelineStats()
        self.targets = TargetBook(settings)
        self.queues = QueueBoard(settings, self.targets)
        self.agents = self.queues.agents
        self.agent_tracker = AgentTracker(self.queues, self.pipeline)
        self.contacts = ContactTracker(
            settings, self.targets, self.queues, self.pipeline, self._orphan
        )
        self.intake = Ingest(
            self.pipeline,
            RecentIds(settings.engine.dedup_capacity),
            self.contacts,
            self.agent_tracker,
            on_reject if on_reject is not None else _ignore,
        )
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
        event = self.intake.decode(raw, wall_now)
        if event is None:
            return False
        self.apply(event, wall_now)
        return True

    def apply(self, event: Event, wall_now: float) -> None:
        """Apply one validated event (duplicates are counted and dropped)."""
        intake = self.intake
        if not intake.admit(event, wall_now):
            return
        now = self.clock.observe(event.ts)
        if now > self.now:
            self.advance(now)
        intake.route(event)

    def finish(self) -> None:
        """The input is over (end of a replayed file): parked events whose contact never
        queued are rejected as `unknown_contact` now rather than left parked."""
        self.contacts.release_parked()

    def _orphan(self, event: Event) -> None:
        """A parked event whose contact never appeared."""
        self.intake.reject(
            Rejection(
                "unknown_contact",
                f"{event.type} {event.event_id}: contact {event.contact_id} never queued",
            )
        )


def _ignore(rejection: Rejection) -> None:
    """The default `on_reject`: counted already, nothing more to do."""
