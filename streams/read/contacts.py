"""Contacts at risk of missing an SLA and those past it (`/api/v1/contacts`, the
wallboard's "about to breach" list, `board --at-risk`): most urgent first, with due time,
seconds to due (business seconds too, with a calendar), wait, age and assigned agent.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any

from streams.core.contract import CHANNELS, PRIORITIES, SLA_KINDS
from streams.core.queues import QueueChannel
from streams.core.sla import AT_RISK, BREACHED, Flag
from streams.read.floor import contact_sides, iso
from streams.read.view import ReadView

STATES = {"at_risk": AT_RISK, "breached": BREACHED}
MAX_LIMIT = 10_000


class ContactFilter:
    """Which contacts a list shows: SLA states, queues, channels, teams, priorities and SLA
    kinds (each None: any)."""

    __slots__ = ("channels", "kinds", "priorities", "queues", "states", "teams")

    def __init__(
        self,
        states: frozenset[str] | None = None,
        queues: frozenset[str] | None = None,
        channels: frozenset[str] | None = None,
        teams: frozenset[str] | None = None,
        priorities: frozenset[str] | None = None,
        kinds: frozenset[str] | None = None,
    ) -> None:
        self.states = states
        self.queues = queues
        self.channels = channels
        self.teams = teams
        self.priorities = priorities
        self.kinds = kinds

    def pair(self, view: ReadView, qc: QueueChannel) -> bool:
        """Whether contacts of this queue x channel can match (queue, channel, team)."""
        if self.queues is not None and qc.queue not in self.queues:
            return False
        if self.channels is not None and qc.channel not in self.channels:
            return False
        if self.teams is not None:
            team = qc.team or view.targets.get(qc.queue, qc.channel, "normal").team
            return team in self.teams
        return True


def _matching(
    flags: Iterator[Flag], priorities: frozenset[int] | None, kinds: frozenset[int] | None
) -> Iterator[Flag]:
    for flag in flags:
        if (priorities is None or flag[2].priority in priorities) and (
            kinds is None or flag[3] in kinds
        ):
            yield flag


def _tagged(flags: Iterator[Flag], qc: QueueChannel, state: str) -> Iterator[Any]:
    for due, seq, rec, kind in flags:
        yield due, seq, rec, kind, qc, state


def contact_rows(view: ReadView, selected: ContactFilter, limit: int = 100) -> dict[str, Any]:
    """The first `limit` contacts matching `selected`, by due time (the most overdue
    breached first, then the soonest at risk), and how many match in all."""
    view.advance(view.clock.now())
    board = view.queues
    now = board.now
    states = selected.states or frozenset(STATES)
    priorities = (
        None
        if selected.priorities is None
        else frozenset(PRIORITIES.index(p) for p in selected.priorities)
    )
    kinds = (
        None if selected.kinds is None else frozenset(SLA_KINDS.index(k) for k in selected.kinds)
    )
    streams = []
    total = 0
    for qc in board.tracked:
        if not selected.pair(view, qc):
            continue
        for name in states:
            state = STATES[name]
            counts = qc.at_risk if state == AT_RISK else qc.breached
            if priorities is None and kinds is None:
                found = sum(counts)
            else:
                found = sum(
                    counts[p * len(SLA_KINDS) + k]
                    for p in range(len(PRIORITIES))
                    for k in range(len(SLA_KINDS))
                    if (priorities is None or p in priorities) and (kinds is None or k in kinds)
                )
            if found:
                total += found
                streams.append(_tagged(_matching(qc.flagged(state), priorities, kinds), qc, name))
    chosen = []
    for item in heapq.merge(*streams):
        chosen.append(item)
        if len(chosen) >= limit:
            break
    agents = assignments(view, [item[2].contact_id for item in chosen])
    return {
        "now": iso(now),
        "total": total,
        "contacts": [_row(view, item, now, agents) for item in chosen],
    }


def assignments(view: ReadView, contact_ids: list[str]) -> dict[str, str]:
    """Contact id -> the agent it is assigned to, for those the view's contact side knows."""
    out: dict[str, str] = {}
    sides = [contacts for _, contacts in contact_sides(view)]
    for contact_id in contact_ids:
        for contacts in sides:
            contact = contacts.contacts.get(contact_id)
            if contact is not None and contact.agent_id is not None:
                out[contact_id] = contact.agent_id
                break
    return out


def _row(view: ReadView, item: Any, now: float, agents: dict[str, str]) -> dict[str, Any]:
    due, _, rec, kind, qc, state = item
    calendar = rec.calendar(kind)
    business: float | None = None
    if calendar is not None:
        business = calendar.elapsed(now, due) if due >= now else -calendar.elapsed(due, now)
    return {
        "contact_id": rec.contact_id,
        "queue": qc.queue,
        "channel": qc.channel,
        "team": qc.team or view.targets.get(qc.queue, qc.channel, "normal").team,
        "priority": PRIORITIES[rec.priority],
        "sla": SLA_KINDS[kind],
        "state": state,
        "due_at": iso(due),
        "seconds_to_due": due - now,
        "business_seconds_to_due": business,
        "waiting": rec.waiting,
        "entered_at": iso(rec.first_entry),
        "age_seconds": max(0.0, now - rec.first_entry),
        "agent_id": agents.get(rec.contact_id),
    }


def merge_parts(parts: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """One list from the lists of several workers (each the first `limit` of its queues,
    same filter): the first `limit` of all by due time, totals summed. The agent of a
    contact listed by one worker may be known by another: `fill_agents` sets it."""
    rows = heapq.merge(*(p["contacts"] for p in parts), key=lambda r: r["due_at"] or "")
    chosen = []
    for row in rows:
        chosen.append(row)
        if len(chosen) >= limit:
            break
    return {
        "now": max((p["now"] for p in parts if p["now"]), default=None),
        "total": sum(p["total"] for p in parts),
        "contacts": chosen,
    }


def fill_agents(listing: dict[str, Any], found: dict[str, str]) -> None:
    """Set the agents other workers know (`assignments` of each) on a merged list."""
    for row in listing["contacts"]:
        if row["agent_id"] is None:
            row["agent_id"] = found.get(row["contact_id"])


FILTER_CHOICES = {
    "sla": tuple(STATES),
    "channel": CHANNELS,
    "priority": PRIORITIES,
    "kind": SLA_KINDS,
}
