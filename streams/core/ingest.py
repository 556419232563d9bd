"""The one ingestion step of both runtimes: decode, de-duplicate, route.

A message that fails the contract becomes a `Rejection` (counted, handed on); a
duplicate is counted and dropped; an event goes to the agent or the contact side.
"""

from __future__ import annotations

from collections.abc import Callable

from streams.core.agents import AgentTracker
from streams.core.contacts import ContactTracker
from streams.core.contract import AGENT_TYPE
from streams.core.dedup import RecentIds
from streams.core.event_ids import StoredIds
from streams.core.intake import Event, Rejection, decode
from streams.core.pipeline import PipelineStats


class Ingest:
    """Decodes messages, drops duplicates and routes events to the contact or agent side.

    The one-process `Engine` and each partition's `ContactStage` own one; what they do
    between its steps (the clock, source offsets) is theirs. `on_reject` receives every
    rejection after it was counted.
    """

    def __init__(
        self,
        pipeline: PipelineStats,
        ids: RecentIds | StoredIds,
        contacts: ContactTracker,
        agents: AgentTracker,
        on_reject: Callable[[Rejection], None],
    ) -> None:
        self.pipeline = pipeline
        self.ids = ids
        self.contacts = contacts
        self.agents = agents
        self.on_reject = on_reject

    def decode(
        self, raw: bytes, wall: float, key: bytes | None = None, offset: int = -1
    ) -> Event | None:
        """The validated event, or None once its rejection was counted and handed on."""
        try:
            return decode(raw, wall)
        except Rejection as rejection:
            rejection.raw = raw
            rejection.key = key
            rejection.offset = offset
            self.reject(rejection)
            return None

    def reject(self, rejection: Rejection) -> None:
        """Count a rejection and hand it on (it changes no metric)."""
        self.pipeline.rejected[rejection.reason] += 1
        self.on_reject(rejection)

    def admit(self, event: Event, wall: float) -> bool:
        """False for a duplicate (counted); else True, with the wall clock noted for lag."""
        if self.ids.seen(event.event_id):
            self.pipeline.duplicates += 1
            return False
        self.pipeline.wall_now = wall
        return True

    def route(self, event: Event) -> None:
        """Apply an admitted event to its side."""
        if event.type == AGENT_TYPE:
            self.pipeline.applied(event)
            self.agents.apply(event)
        else:
            self.contacts.apply(event)
