"""The contact stage of one input partition in distributed mode: its messages in offset
order to facts, rejects and Table values (pure; the worker does the I/O).
"""

from __future__ import annotations

from typing import Any

from streams.core import table_keys
from streams.core.agents import AgentTracker
from streams.core.contacts import ContactTracker
from streams.core.contract import AGENT_TYPE
from streams.core.event_ids import StoredIds
from streams.core.fact_messages import FactRecorder
from streams.core.ingest import Ingest
from streams.core.intake import Event, Rejection
from streams.core.pipeline import PipelineStats
from streams.core.settings import Settings
from streams.core.targets import TargetBook


class ContactStage:
    """One input partition's contacts and agents. The runtime sends `recorder.take()` to the
    facts topic and `take_rejects()` to the dead-letter topic after each batch and, once
    those are delivered, writes `changed()` to the Table before committing offsets. Each
    contact and agent remembers the source offset last applied, so redelivered events
    (at or below it) are skipped; the remembered event ids are in the Table too."""

    def __init__(
        self,
        partition: int,
        settings: Settings,
        pipeline: PipelineStats,
        facts_partitions: int,
        targets: TargetBook | None = None,  # the worker's, with live targets
    ) -> None:
        self.partition = partition
        self.pipeline = pipeline
        self.recorder = FactRecorder(facts_partitions)
        self.contacts = ContactTracker(
            settings, targets or TargetBook(settings), self.recorder, pipeline, self._orphan
        )
        self.contacts.touched = set()
        self.contacts.touched_activity = set()
        self.agents = AgentTracker(self.recorder, pipeline)
        self.touched_agents: set[str] = set()
        self.event_ids = StoredIds(partition, settings.engine.dedup_capacity)
        self.rejects: list[Rejection] = []
        self.intake = Ingest(pipeline, self.event_ids, self.contacts, self.agents, self._keep)
        self.now = float("-inf")  # the partition's event time: the largest occurred_at seen
        self.last_offset = -1
        # What queue stage may rely on: event time and offset whose facts are on their way.
        self.published_now = float("-inf")
        self.published_offset = -1
        self.orphans = 0
        # Where each parked event came from, so an orphan reaches the dead-letter topic
        # with its original key and bytes: contact id -> [[event id, offset, key, raw]]
        # (key and raw as latin-1 text, which keeps any byte, for the Table value).
        self.parked_sources: dict[str, list[list[Any]]] = {}
        self._applying: tuple[int, bytes | None, bytes] = (-1, None, b"")  # offset, key, raw

    def restore(self, key: str, value: list[Any]) -> None:
        kind = table_keys.kind_of(key)
        if kind == table_keys.EVENT_IDS:
            self.event_ids.restore(key, value)
            return
        if kind == table_keys.AGENT:
            self.agents.restore(table_keys.subject(key), value)
            return
        if kind == table_keys.ACTIVITY:
            self.contacts.restore_activity(table_keys.activity_position(key)[1], value)
            return
        contact_id = table_keys.subject(key)
        self.contacts.restore(contact_id, value)
        if value[0] == "parked":
            self.parked_sources[contact_id] = value[3]

    def restored(self) -> None:
        self.contacts.restored()
        self.event_ids.restored()

    def _guard(self, event: Event) -> int:
        """Source offset of the last event applied to this event's contact or agent."""
        if event.type == AGENT_TYPE:
            agent = self.agents.agents.get(event.agent_id or "")
            return agent.offset if agent is not None else -1
        contact = self.contacts.contacts.get(event.contact_id)
        if contact is not None:
            return contact.offset
        return self.contacts.parked_offset.get(event.contact_id, -1)

    def apply(self, offset: int, key: bytes | None, raw: bytes, wall: float) -> None:
        """Apply one message of this partition (offsets ascending)."""
        self.last_offset = offset
        self.recorder.start_event(offset)
        intake = self.intake
        event = intake.decode(raw, wall, key, offset)
        if event is None:
            return
        if offset <= self._guard(event):
            return  # applied before a restart or a rebalance
        if not intake.admit(event, wall):
            return
        self._applying = (offset, key, raw)
        if event.ts > self.now:
            self.now = event.ts
            self.contacts.advance(event.ts)
        self.contacts.offset = offset
        self.agents.offset = offset
        intake.route(event)
        if event.type == AGENT_TYPE:
            self.touched_agents.add(event.agent_id)
            return
        contact_id = event.contact_id
        waiting = self.contacts.parked.get(contact_id)
        if waiting and waiting[-1] is event:  # parked: its contact is not known yet
            self.parked_sources.setdefault(contact_id, []).append(
                [
                    event.event_id,
                    offset,
                    None if key is None else key.decode("latin-1"),
                    raw.decode("latin-1"),
                ]
            )
        elif waiting is None:  # its parked events (if any) were applied
            self.parked_sources.pop(contact_id, None)

    def changed(self) -> list[tuple[str, list[Any] | None]]:
        """Table keys changed since the last call and their values (None: delete)."""
        out: list[tuple[str, list[Any] | None]] = []
        touched = self.contacts.touched
        assert touched is not None
        for contact_id in touched:
            value = self.contacts.snapshot(contact_id)
            if value is not None and value[0] == "parked":
                value.append(self.parked_sources.get(contact_id, []))
            out.append((table_keys.contact_key(contact_id), value))
        touched.clear()
        for agent_id in self.touched_agents:
            out.append((table_keys.agent_key(agent_id), self.agents.snapshot(agent_id)))
        self.touched_agents.clear()
        activity = self.contacts.touched_activity
        assert activity is not None
        for agent_id in activity:
            out.append(
                (
                    table_keys.activity_key(self.partition, agent_id),
                    self.contacts.snapshot_activity(agent_id),
                )
            )
        activity.clear()
        out += self.event_ids.changed()
        return out

    def published(self) -> None:
        """The facts of everything applied so far are sent: progress may say so."""
        self.published_now = self.now
        self.published_offset = self.last_offset

    def _keep(self, rejection: Rejection) -> None:
        self.rejects.append(rejection)

    def take_rejects(self) -> list[Rejection]:
        rejects, self.rejects = self.rejects, []
        return rejects

    def _orphan(self, event: Event) -> None:
        """A parked event whose contact never appeared (or one beyond the parking limit):
        a dead letter, with the key, bytes and offset it came with."""
        self.orphans += 1
        contact_id = event.contact_id
        sources = self.parked_sources.get(contact_id, [])
        stored = next((s for s in sources if s[0] == event.event_id), None)
        if stored is None:  # not parked: the one being applied found the parking full
            offset, key, raw = self._applying
        else:
            sources.remove(stored)
            if not sources:
                del self.parked_sources[contact_id]
            offset = stored[1]
            key = None if stored[2] is None else stored[2].encode("latin-1")
            raw = stored[3].encode("latin-1")
        detail = f"{event.type} {event.event_id}: contact {contact_id} never queued"
        self.intake.reject(Rejection("unknown_contact", detail, raw, key, offset))

    @property
    def parked_count(self) -> int:
        return self.contacts.parked_count

    @property
    def tracked_count(self) -> int:
        return len(self.contacts.contacts)
