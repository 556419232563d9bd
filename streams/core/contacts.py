"""The contact state machine (contact stage): contact events in arrival order to facts,
with out-of-order events applied where they fit (rules in `ContactTracker`).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from sys import intern
from typing import Any

from streams.core.agent_activity import AgentActivity
from streams.core.contract import LIVE_CHANNELS
from streams.core.facts import FactSink
from streams.core.intake import Event, event_from_tuple, event_to_tuple
from streams.core.pipeline import PipelineStats
from streams.core.settings import Settings
from streams.core.sla import (
    ANSWER,
    FIRST_RESPONSE,
    RESOLUTION,
    due_at,
    sla_applies,
    sla_target,
)
from streams.core.targets import TargetBook
from streams.core.windows import day_bounds

HANDLE_FALLBACK_SECONDS = 1800.0
ALL_SLAS = 1 << ANSWER | 1 << FIRST_RESPONSE | 1 << RESOLUTION

# Contact flags.
OUTCOME = 1  # answered or abandoned in the current queue entry
IN_CONVERSATION = 2  # answered, not ended yet
ENDED = 4  # the current conversation ended
WRAPPED = 8  # the current conversation was wrapped up
HANDLED = 16  # handle time of the current conversation was emitted
FIRST_RESPONDED = 32
ANSWERED_EVER = 64
RESOLVED = 128
REOPENED = 256
CLOSED = 512


class Contact:
    """One contact's lifecycle as the contact stage remembers it: queue, channel, priority,
    team, entry times, answer and end times, hold, state flags, interactions and the agent
    it is assigned to (who answered or last replied in its current queue)."""

    __slots__ = (
        "agent_id",
        "answered_at",
        "channel",
        "contact_id",
        "ended_at",
        "entry",
        "first_entry",
        "flags",
        "hold",
        "interactions",
        "last_ts",
        "offset",
        "priority",
        "queue",
        "team",
    )

    def __init__(
        self, contact_id: str, queue: str, channel: str, priority: str, team: str | None, ts: float
    ) -> None:
        self.contact_id = contact_id
        self.queue = queue
        self.channel = channel
        self.priority = priority
        self.team = team
        self.first_entry = ts
        self.entry = ts
        self.last_ts = ts
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.hold: float | None = None
        self.flags = 0
        self.interactions = 0
        self.offset = -1  # source offset of the last event applied (-1 outside Kafka)
        self.agent_id: str | None = None


def _queue_and_channel(event: Event) -> tuple[str, str]:
    """Queue and channel of a contact.queued (intake guarantees both). The queue name is
    interned: hundreds of thousands of open contacts then share a few hundred strings
    instead of each keeping its own copy from the decoder (about 55 bytes each)."""
    if event.queue is None or event.channel is None:
        raise ValueError(f"{event.type} {event.event_id}: queue and channel are required")
    return intern(event.queue), event.channel


class ContactTracker:
    """Every contact's state, turning its events into facts on a `FactSink`. Durations come
    from `occurred_at` and are never negative; a late event is applied where it fits, one
    that does not fit changes nothing (counted ignored); events of an unknown contact are
    parked until it queues or `orphan_hold` passes (then `unknown_contact`). Closed contacts
    are remembered for late surveys and reopens, bounded by time and count."""

    def __init__(
        self,
        settings: Settings,
        targets: TargetBook,
        sink: FactSink,
        pipeline: PipelineStats,
        on_orphan: Callable[[Event], None],
    ) -> None:
        engine = settings.engine
        self.targets = targets
        self.sink = sink
        self.pipeline = pipeline
        self.on_orphan = on_orphan
        self.retention = float(engine.closed_contact_retention_seconds)
        self.max_closed = engine.max_closed_contacts
        self.orphan_hold = float(engine.orphan_hold_seconds)
        self.max_parked = engine.max_parked_events
        self.contacts: dict[str, Contact] = {}
        self.closed: dict[str, float] = {}  # contact id -> close time
        self._closed_order: deque[tuple[float, str]] = deque()  # in closing order
        self.parked: dict[str, list[Event]] = {}
        self.parked_offset: dict[str, int] = {}  # contact id -> source offset of its last
        self.parked_count = 0
        self._parked_expiry: list[tuple[float, str]] = []
        self._fallbacks: list[tuple[float, str]] = []  # (ended + 30 min, contact id)
        self.now = float("-inf")
        self._next_sweep = float("-inf")  # remembered contacts are swept once a clock second
        # Agents' activity from contact events, per agent id, for the floor's day.
        self.activity: dict[str, AgentActivity] = {}
        self.zone = settings.zone
        self.day_starts_at = settings.day_starts_at_minutes
        self.day_start = float("-inf")
        self.day_end = float("-inf")
        # The distributed runtime persists what changed: it sets `offset` to the source
        # offset of each event before applying it and collects `touched` contact ids.
        self.offset = -1
        self.touched: set[str] | None = None
        self.touched_activity: set[str] | None = None  # agent ids whose activity changed

    # ------------------------------------------------------------------ stored state

    def snapshot(self, contact_id: str) -> list[Any] | None:
        """The stored value of one contact id: its state, its parked events, or None."""
        contact = self.contacts.get(contact_id)
        if contact is not None:
            return [
                "contact",
                contact.offset,
                contact.queue,
                contact.channel,
                contact.priority,
                contact.team,
                contact.first_entry,
                contact.entry,
                contact.last_ts,
                contact.answered_at,
                contact.ended_at,
                contact.hold,
                contact.flags,
                contact.interactions,
                self.closed.get(contact_id),
                contact.agent_id,
            ]
        parked = self.parked.get(contact_id)
        if parked:
            return ["parked", self.parked_offset[contact_id], [event_to_tuple(e) for e in parked]]
        return None

    def restore(self, contact_id: str, value: list[Any]) -> None:
        """Put a stored contact (or its parked events) back; call `restored` after the last.

        Parked events wait `orphan_hold` from the newest of them (their parking time is not
        stored); the handle-time fallback and remembered-contact expiry keep their own times.
        """
        if value[0] == "parked":
            events = [event_from_tuple(tuple(item)) for item in value[2]]
            self.parked[contact_id] = events
            self.parked_offset[contact_id] = value[1]
            self.parked_count += len(events)
            expires = max(e.ts for e in events) + self.orphan_hold
            heapq.heappush(self._parked_expiry, (expires, contact_id))
            return
        (
            _,
            offset,
            queue,
            channel,
            priority,
            team,
            first_entry,
            entry,
            last_ts,
            answered_at,
            ended_at,
            hold,
            flags,
            interactions,
            closed_at,
        ) = value[:15]
        contact = Contact(
            contact_id,
            intern(queue),
            channel,
            priority,
            None if team is None else intern(team),
            first_entry,
        )
        contact.agent_id = value[15] if len(value) > 15 else None  # stored before it was kept
        contact.entry = entry
        contact.last_ts = last_ts
        contact.answered_at = answered_at
        contact.ended_at = ended_at
        contact.hold = hold
        contact.flags = flags
        contact.interactions = interactions
        contact.offset = offset
        self.contacts[contact_id] = contact
        if closed_at is not None:
            self.closed[contact_id] = closed_at
            self._closed_order.append((closed_at, contact_id))
        if ended_at is not None and answered_at is not None and not flags & (HANDLED | WRAPPED):
            heapq.heappush(self._fallbacks, (ended_at + HANDLE_FALLBACK_SECONDS, contact_id))

    def restored(self) -> None:
        """After restoring many contacts: keep the remembered ones in closing order."""
        self._closed_order = deque(sorted(self._closed_order))

    def snapshot_activity(self, agent_id: str) -> list[Any] | None:
        """The stored value of one agent's activity in this partition (None: none)."""
        record = self.activity.get(agent_id)
        return None if record is None else record.snapshot()

    def restore_activity(self, agent_id: str, value: list[Any]) -> None:
        self.activity[agent_id] = AgentActivity.restore(value)

    # ------------------------------------------------------------------ agents' activity

    def _activity(self, agent_id: str, ts: float) -> AgentActivity | None:
        """The agent's record for counting an event at `ts`; None when `ts` falls before
        the current floor's day (a late event of a day already over counts nowhere)."""
        if ts >= self.day_end:
            self.day_start, self.day_end = day_bounds(ts, self.zone, self.day_starts_at)
        if ts < self.day_start:
            return None
        record = self.activity.get(agent_id)
        if record is None:
            record = self.activity[agent_id] = AgentActivity(self.day_start)
        else:
            record.roll(self.day_start)
        if self.touched_activity is not None:
            self.touched_activity.add(agent_id)
        return record

    def _on_contact(self, contact: Contact, ts: float) -> None:
        """The contact's agent is on it from `ts` (a live contact was answered)."""
        agent_id = contact.agent_id
        if agent_id is None:
            return
        record = self.activity.get(agent_id)
        if record is None:
            record = self.activity[agent_id] = AgentActivity(self.day_start)
        record.current[contact.contact_id] = (contact.queue, contact.channel, ts)
        if self.touched_activity is not None:
            self.touched_activity.add(agent_id)

    def _off_contact(self, contact: Contact) -> None:
        """The contact's agent is no longer on it (ended, handled, transferred)."""
        agent_id = contact.agent_id
        if agent_id is None:
            return
        record = self.activity.get(agent_id)
        if (
            record is not None
            and record.current.pop(contact.contact_id, None) is not None
            and self.touched_activity is not None
        ):
            self.touched_activity.add(agent_id)

    # ------------------------------------------------------------------ clock

    def advance(self, now: float) -> None:
        """Timers: handle-time fallback, expiry of parked events and remembered contacts."""
        if now <= self.now:
            return
        self.now = now
        if now >= self.day_end:
            self.day_start, self.day_end = day_bounds(now, self.zone, self.day_starts_at)
        fallbacks = self._fallbacks
        while fallbacks and fallbacks[0][0] <= now:
            due, contact_id = heapq.heappop(fallbacks)
            contact = self.contacts.get(contact_id)
            if (
                contact is not None
                and contact.ended_at is not None
                and contact.ended_at + HANDLE_FALLBACK_SECONDS == due
            ):
                self._emit_handle(contact, contact.ended_at, due)
        expiry = self._parked_expiry
        while expiry and expiry[0][0] <= now:
            _, contact_id = heapq.heappop(expiry)
            self.parked_offset.pop(contact_id, None)
            for event in self.parked.pop(contact_id, ()):
                self.parked_count -= 1
                self.on_orphan(event)
            self._touch(contact_id)
        if now < self._next_sweep:
            return
        self._next_sweep = now + 1.0
        closed = self.closed
        order = self._closed_order
        horizon = now - self.retention
        while order and (order[0][0] <= horizon or len(closed) > self.max_closed):
            closed_at, contact_id = order.popleft()
            if closed.get(contact_id) == closed_at:  # not reopened or closed again since
                del closed[contact_id]
                self.contacts.pop(contact_id, None)
                self._touch(contact_id)

    def release_parked(self) -> None:
        """The input is over: every parked event's contact will never queue now, so each
        leaves through `on_orphan` (`unknown_contact`), in the order it would have expired."""
        for _, contact_id in sorted(self._parked_expiry):
            self.parked_offset.pop(contact_id, None)
            for event in self.parked.pop(contact_id, ()):
                self.parked_count -= 1
                self.on_orphan(event)
            self._touch(contact_id)
        self._parked_expiry = []

    # ------------------------------------------------------------------ events

    def _touch(self, contact_id: str) -> None:
        if self.touched is not None:
            self.touched.add(contact_id)

    def apply(self, event: Event) -> None:
        """Apply one validated contact or survey event (counted as processed unless parked)."""
        self._touch(event.contact_id)
        contact = self.contacts.get(event.contact_id)
        if contact is None:
            if event.type == "contact.queued":
                self.pipeline.applied(event)
                self._new_contact(event)
            elif event.type == "survey.responded" and event.queue and event.channel:
                self.pipeline.applied(event)
                self.sink.surveyed(
                    event.queue, event.channel, event.ts, event.csat, event.ces, event.nps
                )
            else:
                self._park(event)
            return
        self.pipeline.applied(event)
        contact.offset = self.offset
        if event.ts < contact.last_ts:
            self.pipeline.late += 1
        else:
            contact.last_ts = event.ts
        kind = event.type
        if kind == "contact.answered":
            self._answered(contact, event)
        elif kind == "contact.responded":
            self._responded(contact, event)
        elif kind == "contact.ended":
            self._ended(contact, event)
        elif kind == "contact.wrapped":
            self._wrapped(contact, event)
        elif kind == "contact.resolved":
            self._resolved(contact, event)
        elif kind == "contact.abandoned":
            self._abandoned(contact, event)
        elif kind == "contact.queued":
            self._queued(contact, event)
        elif kind == "contact.reopened":
            self._reopened(contact, event)
        elif kind == "contact.missed":
            self.sink.missed(contact.queue, contact.channel, event.ts)
            record = self._activity(event.agent_id, event.ts) if event.agent_id else None
            if record is not None:
                record.missed += 1
        else:
            self._surveyed(contact, event)

    def _park(self, event: Event) -> None:
        """Hold an event whose contact is not known yet; it may have overtaken its queued."""
        if self.parked_count >= self.max_parked:
            self.on_orphan(event)
            return
        waiting = self.parked.get(event.contact_id)
        if waiting is None:
            waiting = self.parked[event.contact_id] = []
            expires = self.now + self.orphan_hold
            heapq.heappush(self._parked_expiry, (expires, event.contact_id))
        waiting.append(event)
        self.parked_count += 1
        self.parked_offset[event.contact_id] = self.offset

    def _new_contact(self, event: Event) -> None:
        queue, channel = _queue_and_channel(event)
        team = None if event.team is None else intern(event.team)
        contact = Contact(
            event.contact_id, queue, channel, event.priority or "normal", team, event.ts
        )
        contact.offset = self.offset
        self.contacts[contact.contact_id] = contact
        self.sink.entered(
            contact.queue,
            contact.channel,
            contact.contact_id,
            event.ts,
            event.ts,
            contact.priority,
            contact.team,
            0,
            0,
        )
        parked = self.parked.pop(contact.contact_id, None)
        self.parked_offset.pop(contact.contact_id, None)
        if parked:
            self.parked_count -= len(parked)
            for later in sorted(parked, key=lambda e: e.ts):
                self.apply(later)

    def _ignore(self, reason: str) -> None:
        ignored = self.pipeline.ignored
        ignored[reason] = ignored.get(reason, 0) + 1

    def _close(self, contact: Contact, ts: float) -> None:
        if contact.flags & CLOSED:
            return
        contact.flags |= CLOSED
        self.closed[contact.contact_id] = ts
        self._closed_order.append((ts, contact.contact_id))
        self.sink.closed(contact.queue, contact.channel, contact.contact_id, ts)

    def _reopen_record(self, contact: Contact) -> None:
        contact.flags &= ~CLOSED
        self.closed.pop(contact.contact_id, None)

    def _queued(self, contact: Contact, event: Event) -> None:
        """A transfer or re-queue: a new entry in the (new) queue."""
        queue, channel = _queue_and_channel(event)
        flags = contact.flags
        if (
            queue == contact.queue
            and channel == contact.channel
            and not flags & OUTCOME
            and not flags & CLOSED
        ):
            self._ignore("already_queued")
            return
        closed_at = self.closed.get(contact.contact_id) if flags & CLOSED else None
        met, breached = self._sla_masks(contact, event.ts if closed_at is None else closed_at)
        if flags & CLOSED:
            self._reopen_record(contact)
        elif queue == contact.queue and channel == contact.channel:  # re-queued, not moved
            self.sink.closed(contact.queue, contact.channel, contact.contact_id, event.ts)
        else:
            self.sink.left(contact.queue, contact.channel, contact.contact_id, event.ts)
        contact.queue, contact.channel = queue, channel
        if event.priority is not None:
            contact.priority = event.priority
        if event.team is not None:
            contact.team = intern(event.team)
        contact.entry = event.ts
        contact.flags = flags & (FIRST_RESPONDED | ANSWERED_EVER | REOPENED)
        contact.answered_at = contact.ended_at = contact.hold = None
        self._off_contact(contact)
        contact.agent_id = None  # assigned again when answered or replied to in the new queue
        self.sink.entered(
            queue,
            channel,
            contact.contact_id,
            event.ts,
            contact.first_entry,
            contact.priority,
            contact.team,
            met,
            breached,
        )

    def _sla_masks(self, contact: Contact, open_until: float) -> tuple[int, int]:
        """Which SLAs the contact met already, and which it breached (and was counted) already.

        An SLA was breached in the previous entry if the contact was still open past its due
        time: up to the transfer for a transfer, up to its close for a contact queued again
        after closing. After a reopen no SLA is re-armed, as for the reopen itself.
        """
        flags = contact.flags
        if flags & REOPENED:
            return ALL_SLAS, 0
        met = 0
        if flags & ANSWERED_EVER:
            met |= 1 << ANSWER
        if flags & FIRST_RESPONDED:
            met |= 1 << FIRST_RESPONSE
        if flags & RESOLVED:
            met |= 1 << RESOLUTION
        breached = 0
        targets = self.targets.get(contact.queue, contact.channel, contact.priority)
        calendar = self.targets.calendar(targets)
        for kind in (ANSWER, FIRST_RESPONSE, RESOLUTION):
            if met & (1 << kind) or not sla_applies(kind, contact.channel):
                continue
            due = due_at(contact.first_entry, sla_target(targets, kind), calendar)
            if open_until > due:
                breached |= 1 << kind
        return met, breached

    def _answered(self, contact: Contact, event: Event) -> None:
        if contact.flags & OUTCOME:
            self._ignore("not_waiting")
            return
        ts = event.ts
        wait = max(0.0, ts - contact.entry)
        first_response = None
        if contact.channel == "voice" and not contact.flags & FIRST_RESPONDED:
            first_response = max(0.0, ts - contact.first_entry)
            contact.flags |= FIRST_RESPONDED
        contact.flags |= OUTCOME | ANSWERED_EVER
        if not contact.flags & ENDED:
            contact.flags |= IN_CONVERSATION
        contact.answered_at = ts
        contact.interactions += 1
        if event.agent_id:
            contact.agent_id = event.agent_id
        if not contact.flags & ENDED:
            self._on_contact(contact, ts)
        self.sink.answered(
            contact.queue,
            contact.channel,
            contact.contact_id,
            ts,
            contact.priority,
            wait,
            first_response,
        )

    def _abandoned(self, contact: Contact, event: Event) -> None:
        if contact.flags & OUTCOME:
            self._ignore("not_waiting")
            return
        contact.flags |= OUTCOME
        self.sink.abandoned(
            contact.queue,
            contact.channel,
            contact.contact_id,
            event.ts,
            contact.priority,
            max(0.0, event.ts - contact.entry),
        )
        self._close(contact, event.ts)

    def _responded(self, contact: Contact, event: Event) -> None:
        if not contact.flags & IN_CONVERSATION:
            contact.interactions += 1
        first_response = None
        if contact.channel != "voice" and not contact.flags & FIRST_RESPONDED:
            first_response = max(0.0, event.ts - contact.first_entry)
            contact.flags |= FIRST_RESPONDED
        if event.agent_id:
            if contact.agent_id != event.agent_id and contact.flags & IN_CONVERSATION:
                self._off_contact(contact)  # another agent took over the conversation
                contact.agent_id = event.agent_id
                self._on_contact(contact, event.ts)
            else:
                contact.agent_id = event.agent_id
            record = self._activity(event.agent_id, event.ts)
            if record is not None:
                record.replies += 1
        self.sink.responded(
            contact.queue, contact.channel, contact.contact_id, event.ts, first_response
        )

    def _ended(self, contact: Contact, event: Event) -> None:
        if contact.flags & ENDED:
            self._ignore("already_ended")
            return
        contact.flags = (contact.flags | ENDED) & ~IN_CONVERSATION
        contact.ended_at = event.ts
        self._off_contact(contact)
        contact.hold = event.hold_seconds
        if contact.answered_at is not None and not contact.flags & (HANDLED | WRAPPED):
            heapq.heappush(
                self._fallbacks, (event.ts + HANDLE_FALLBACK_SECONDS, contact.contact_id)
            )
        if contact.channel in LIVE_CHANNELS and not contact.flags & REOPENED:
            self._close(contact, event.ts)

    def _wrapped(self, contact: Contact, event: Event) -> None:
        if contact.flags & (WRAPPED | HANDLED):
            self._ignore("already_wrapped")
            return
        if contact.answered_at is None:  # handle time then follows the no-wrap-up rule
            self._ignore("not_answered")
            return
        contact.flags |= WRAPPED
        self._emit_handle(contact, event.ts, event.ts)

    def _emit_handle(self, contact: Contact, end: float, at: float) -> None:
        """Handle time = end - answered (end: wrap-up, or ended for the no-wrap-up rule)."""
        if contact.flags & HANDLED or contact.answered_at is None:
            return
        contact.flags |= HANDLED
        acw = None
        if contact.ended_at is not None and contact.flags & WRAPPED:
            acw = max(0.0, end - contact.ended_at)
        handle = max(0.0, end - contact.answered_at)
        self.sink.handled(contact.queue, contact.channel, at, handle, contact.hold, acw)
        self._off_contact(contact)
        if contact.agent_id is not None:
            record = self._activity(contact.agent_id, at)
            if record is not None:
                record.handled += 1
                record.handle_sum += handle

    def _resolved(self, contact: Contact, event: Event) -> None:
        if contact.flags & RESOLVED:
            self._ignore("already_resolved")
            return
        contact.flags |= RESOLVED
        if event.first_contact is not None:
            first_contact = event.first_contact
        else:
            first_contact = contact.interactions == 1 and not contact.flags & REOPENED
        self.sink.resolved(
            contact.queue,
            contact.channel,
            contact.contact_id,
            event.ts,
            max(0.0, event.ts - contact.first_entry),
            first_contact,
        )
        if contact.ended_at is not None and not contact.flags & WRAPPED:
            self._emit_handle(contact, contact.ended_at, event.ts)
        if contact.channel not in LIVE_CHANNELS or contact.flags & REOPENED:
            self._close(contact, event.ts)

    def _reopened(self, contact: Contact, event: Event) -> None:
        if not contact.flags & RESOLVED:
            self._ignore("not_resolved")
            return
        contact.flags = (contact.flags & ~RESOLVED) | REOPENED
        if contact.flags & CLOSED:
            self._reopen_record(contact)
        self.sink.reopened(
            contact.queue,
            contact.channel,
            contact.contact_id,
            event.ts,
            contact.first_entry,
            contact.priority,
        )

    def _surveyed(self, contact: Contact, event: Event) -> None:
        if event.queue and event.channel:
            queue, channel = event.queue, event.channel
        else:
            queue, channel = contact.queue, contact.channel
        self.sink.surveyed(queue, channel, event.ts, event.csat, event.ces, event.nps)
