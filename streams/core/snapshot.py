"""Engine state as plain JSON-ready values, and back (the distributed runtime's Table values).

Contact stage keeps one value per contact (or parked contact) and per agent; queue stage one value
per queue holding every channel of it and its agents. Values are lists and dicts of
numbers and strings (orjson encodes them); derived structures (timer heaps, SLA plans,
due-time index, remembered-contact order) are rebuilt on restore.

A restored value lands in a board whose clocks already run: `today` totals survive only
when they belong to the board's current local day, buckets only while the ring reaches
them, and SLA clocks are re-armed at the board's SLA clock. Histograms keep the bounds
they were stored with, so a restart with new targets never re-bins old counts.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

from streams.core.agents import Agent, AgentTime, AgentTracker, QueueAgentBoard, QueueAgents
from streams.core.contacts import (
    HANDLE_FALLBACK_SECONDS,
    HANDLED,
    WRAPPED,
    Contact,
    ContactTracker,
)
from streams.core.contract import OVERFLOW_QUEUE, PRIORITIES
from streams.core.histogram import Histogram
from streams.core.intake import event_from_tuple, event_to_tuple
from streams.core.queues import QueueBoard, QueueChannel
from streams.core.sla import OpenContact
from streams.core.summary import Summary
from streams.core.windows import BucketRing

SUMMARY_COUNTS = (
    "offered",
    "answered",
    "answered_met",
    "abandoned",
    "abandoned_met",
    "short_abandoned",
    "transferred",
    "wait_sum",
    "frt_count",
    "frt_sum",
    "handle_count",
    "handle_sum",
    "hold_count",
    "hold_sum",
    "acw_count",
    "acw_sum",
    "resolved",
    "resolution_sum",
    "fcr",
    "reopened",
    "csat_count",
    "csat_sum",
    "csat_satisfied",
    "ces_count",
    "ces_sum",
    "nps_count",
    "nps_promoters",
    "nps_detractors",
    "wait_max",
)
QUEUE_TOTALS = (
    "offered_total",
    "answered_total",
    "abandoned_total",
    "short_abandoned_total",
    "answered_within_target_total",
    "resolved_total",
    "reopened_total",
    "transferred_total",
)

# ---------------------------------------------------------------------- contact stage


def contact_value(tracker: ContactTracker, contact_id: str) -> list[Any] | None:
    """The Table value of one contact id: its state, its parked events, or None (gone)."""
    contact = tracker.contacts.get(contact_id)
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
            tracker.closed.get(contact_id),
        ]
    parked = tracker.parked.get(contact_id)
    if parked:
        return ["parked", tracker.parked_offset[contact_id], [event_to_tuple(e) for e in parked]]
    return None


def restore_contact(tracker: ContactTracker, contact_id: str, value: list[Any]) -> None:
    """Put a stored contact (or its parked events) back.

    Parked events wait `orphan_hold` from the newest of them (their parking time is not
    stored); the handle-time fallback and remembered-contact expiry keep their own times.
    """
    if value[0] == "parked":
        events = [event_from_tuple(tuple(item)) for item in value[2]]
        tracker.parked[contact_id] = events
        tracker.parked_offset[contact_id] = value[1]
        tracker.parked_count += len(events)
        expires = max(e.ts for e in events) + tracker.orphan_hold
        heapq.heappush(tracker._parked_expiry, (expires, contact_id))
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
    ) = value
    contact = Contact(contact_id, queue, channel, priority, team, first_entry)
    contact.entry = entry
    contact.last_ts = last_ts
    contact.answered_at = answered_at
    contact.ended_at = ended_at
    contact.hold = hold
    contact.flags = flags
    contact.interactions = interactions
    contact.offset = offset
    tracker.contacts[contact_id] = contact
    if closed_at is not None:
        tracker.closed[contact_id] = closed_at
        tracker._closed_order.append((closed_at, contact_id))
    if ended_at is not None and answered_at is not None and not flags & (HANDLED | WRAPPED):
        heapq.heappush(tracker._fallbacks, (ended_at + HANDLE_FALLBACK_SECONDS, contact_id))


def finish_contact_restore(tracker: ContactTracker) -> None:
    """After restoring many contacts: keep the remembered ones in closing order."""
    tracker._closed_order = type(tracker._closed_order)(sorted(tracker._closed_order))


def agent_value(tracker: AgentTracker, agent_id: str) -> list[Any]:
    agent = tracker.agents[agent_id]
    return ["agent", agent.offset, agent.state, list(agent.queues), agent.since]


def restore_agent(tracker: AgentTracker, agent_id: str, value: list[Any]) -> None:
    _, offset, state, queues, since = value
    agent = Agent(state, tuple(queues), since)
    agent.offset = offset
    tracker.agents[agent_id] = agent


# ---------------------------------------------------------------------- queue stage


def _summary(s: Summary) -> list[Any]:
    return [
        [getattr(s, name) for name in SUMMARY_COUNTS],
        list(s.wait_bins.items()),
        list(s.frt_bins.items()),
    ]


def _restore_summary(value: list[Any]) -> Summary:
    s = Summary()
    counts, wait_bins, frt_bins = value
    for name, count in zip(SUMMARY_COUNTS, counts, strict=True):
        setattr(s, name, count)
    s.wait_bins = {int(k): c for k, c in wait_bins}
    s.frt_bins = {int(k): c for k, c in frt_bins}
    return s


def _ring(ring: BucketRing[Any], encode: Any) -> list[Any]:
    return [
        [index, encode(summary)]
        for index, summary in zip(ring.indexes, ring.summaries, strict=True)
        if summary is not None and index >= 0
    ]


def _restore_ring(ring: BucketRing[Any], items: list[Any], decode: Any, now: float) -> None:
    reach = int(now // ring.bucket_seconds) - ring.slots
    for index, encoded in items:
        if index > reach:
            slot = index % ring.slots
            if index > ring.indexes[slot]:
                ring.indexes[slot] = index
                ring.summaries[slot] = decode(encoded)


def _histogram(h: Histogram) -> list[Any]:
    return [list(h.bounds), h.counts, h.total]


def _restore_histogram(value: list[Any]) -> Histogram:
    bounds, counts, total = value
    h = Histogram(tuple(float(b) for b in bounds))
    h.counts = list(counts)
    h.total = total
    return h


def _pair(qc: QueueChannel) -> list[Any]:
    return [
        qc.channel,
        qc.team,
        qc.team_ts if qc.team is not None else None,
        qc.first_seen if qc.first_seen != float("inf") else None,
        [getattr(qc, name) for name in QUEUE_TOTALS],
        qc.at_risk,
        qc.breached,
        qc.breaches_total,
        [
            _histogram(h)
            for h in (qc.wait_hist, qc.first_response_hist, qc.handle_hist, qc.resolution_hist)
        ],
        _summary(qc.today),
        _ring(qc.ring, _summary),
        [
            [r.contact_id, r.first_entry, r.entry, r.priority, r.sla, r.waiting]
            for r in qc.open.values()
        ],
    ]


def _agent_time(t: AgentTime) -> list[float]:
    return [t.busy, t.available]


def _restore_agent_time(value: list[float]) -> AgentTime:
    t = AgentTime()
    t.busy, t.available = value
    return t


def queue_value(board: QueueBoard, queue: str) -> dict[str, Any]:
    """Everything queue stage keeps for one queue: every channel of it, and its agents."""
    pairs = [_pair(qc) for qc in board.tracked if qc.queue == queue]
    found = board.agents.queues.get(queue)
    agents = None
    if found is not None:
        agents = {
            "agents": [[a, s, since] for a, (s, since) in found.agents.items()],
            "counts": found.counts,
            "today": _agent_time(found.today),
            "ring": _ring(found.ring, _agent_time),
        }
    return {"day_start": board.day_start, "pairs": pairs, "agents": agents}


def restore_queue(board: QueueBoard, queue: str, value: dict[str, Any]) -> None:
    """Put a stored queue back into `board` (whose reading clock already runs)."""
    same_day = value["day_start"] == board.day_start
    for pair in value["pairs"]:
        (
            channel,
            team,
            team_ts,
            first_seen,
            totals,
            at_risk,
            breached,
            breaches_total,
            hists,
            today,
            ring,
            open_contacts,
        ) = pair
        qc = board.stats_for(queue, channel)
        qc.team = team
        qc.team_ts = team_ts if team_ts is not None else -math.inf
        qc.first_seen = first_seen if first_seen is not None else float("inf")
        for name, count in zip(QUEUE_TOTALS, totals, strict=True):
            setattr(qc, name, count)
        qc.at_risk = list(at_risk)
        qc.breached = list(breached)
        qc.breaches_total = list(breaches_total)
        qc.wait_hist, qc.first_response_hist, qc.handle_hist, qc.resolution_hist = (
            _restore_histogram(h) for h in hists
        )
        qc.today = _restore_summary(today) if same_day else Summary()
        _restore_ring(qc.ring, ring, _restore_summary, board.now)
        qc.waiting = 0
        for contact_id, first_entry, entry, priority, sla, waiting in open_contacts:
            rec = OpenContact(
                contact_id,
                first_entry,
                entry,
                priority,
                board.plan_for(queue, channel, PRIORITIES[priority]),
                sla,
                waiting,
            )
            qc.open[contact_id] = rec
            qc.waiting += waiting
            board.rearm(rec, qc)
    agents = value["agents"]
    if agents is not None:
        found = board.agents.queues.get(queue)
        if found is None:
            found = board.agents.queues[queue] = board.agents.new_queue()
        restore_queue_agents(board.agents, found, agents, same_day)


def restore_queue_agents(
    board: QueueAgentBoard, found: QueueAgents, value: dict[str, Any], same_day: bool
) -> None:
    found.agents = {a: (s, since) for a, s, since in value["agents"]}
    found.counts = list(value["counts"])
    found.today = _restore_agent_time(value["today"]) if same_day else AgentTime()
    _restore_ring(found.ring, value["ring"], _restore_agent_time, board.now)


def drop_queue(board: QueueBoard, queue: str) -> None:
    """Forget one queue (its partition moved to another worker): its series go at once."""
    for qc in [qc for qc in board.tracked if qc.queue == queue]:
        for rec in qc.open.values():
            rec.wake = -1.0  # its heap entries become stale
        board.tracked.remove(qc)
        del board.stats[(queue, qc.channel)]
        if queue != OVERFLOW_QUEUE:
            board.queue_channels -= 1
    board.agents.queues.pop(queue, None)
