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
PART_ROWS = 2_000  # a worker's cluster part: its most urgent contacts per state


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

    def row(self, row: dict[str, Any]) -> bool:
        """Whether a JSON row (of a worker's part) matches, by its fields."""
        return all(
            chosen is None or row[field] in chosen
            for chosen, field in (
                (self.states, "state"),
                (self.queues, "queue"),
                (self.channels, "channel"),
                (self.teams, "team"),
                (self.priorities, "priority"),
                (self.kinds, "sla"),
            )
        )


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


def contacts_part(view: ReadView, cap: int = PART_ROWS) -> dict[str, Any]:
    """What this view knows of contacts at risk and breached, JSON-ready, for a
    cluster-wide list: per state its first `cap` rows (as `contact_rows` gives them,
    agents known to this view set), and the exact number of contacts per queue, channel,
    team, priority, SLA kind and state, so that a filtered total is exact."""
    view.advance(view.clock.now())
    rows: dict[str, list[dict[str, Any]]] = {}
    now = None
    for state in STATES:
        found = contact_rows(view, ContactFilter(states=frozenset({state})), cap)
        rows[state] = found["contacts"]
        now = found["now"]
    totals: list[list[Any]] = []
    for qc in view.queues.tracked:
        team = qc.team or view.targets.get(qc.queue, qc.channel, "normal").team
        for state, counts in (("at_risk", qc.at_risk), ("breached", qc.breached)):
            for index, count in enumerate(counts):
                if count:
                    p, k = divmod(index, len(SLA_KINDS))
                    totals.append(
                        [qc.queue, qc.channel, team, PRIORITIES[p], SLA_KINDS[k], state, count]
                    )
    pairs = [[qc.queue, qc.channel] for qc in view.queues.tracked]
    return {"now": now, "cap": cap, "pairs": pairs, "rows": rows, "totals": totals}


def newest_parts(parts: list[tuple[float, dict[str, Any]]]) -> list[dict[str, Any]]:
    """(published at, part) of several workers -> the parts, each queue x channel kept
    only in the newest part that holds it (a partition that just moved is in two parts
    until the old one expires, as on the board)."""
    owner: dict[tuple[str, str], int] = {}
    for i, (at, part) in enumerate(parts):
        for queue, channel in part["pairs"]:
            held = owner.get((queue, channel))
            if held is None or at > parts[held][0]:
                owner[(queue, channel)] = i
    out = []
    for i, (_, part) in enumerate(parts):

        def own(queue: str, channel: str, i: int = i) -> bool:
            return owner.get((queue, channel)) == i

        out.append(
            {
                **part,
                "rows": {
                    state: [r for r in rows if own(r["queue"], r["channel"])]
                    for state, rows in part["rows"].items()
                },
                "totals": [t for t in part["totals"] if own(t[0], t[1])],
            }
        )
    return out


def part_rows(
    parts: list[dict[str, Any]],
    selected: ContactFilter,
    limit: int = 100,
    agents: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The list of the whole cluster from the workers' `contacts_part`s: the rows that
    match, by due time, the first `limit`; `total` exact from the parts' counts; the
    agents that other workers know (`agents`: contact id -> agent) set. When a part held
    only its first `cap` rows of a state and rows it left out could belong in the list,
    `truncated` is true (the list may then miss some)."""
    lists: list[list[dict[str, Any]]] = []
    cuts: list[str] = []  # due of the last row of each capped list that left matches out
    total = 0
    for part in parts:
        counts: dict[str, int] = {}
        for queue, channel, team, priority, kind, state, count in part["totals"]:
            row = {"queue": queue, "channel": channel, "team": team, "priority": priority}
            if selected.row({**row, "sla": kind, "state": state}):
                counts[state] = counts.get(state, 0) + count
        for state, rows in part["rows"].items():
            if selected.states is not None and state not in selected.states:
                continue
            matched = [r for r in rows if selected.row(r)]
            lists.append(matched)
            total += counts.get(state, 0)
            if counts.get(state, 0) > len(matched):
                cuts.append((rows[-1]["due_at"] or "") if rows else "")
    merged = merge_parts([{"now": None, "total": 0, "contacts": rows} for rows in lists], limit)
    chosen = [dict(r) for r in merged["contacts"]]  # the parts' rows stay as read
    fill_agents({"contacts": chosen}, agents or {})
    out: dict[str, Any] = {
        "now": max((p["now"] for p in parts if p["now"]), default=None),
        "total": total,
        "contacts": chosen,
    }
    # Rows a capped list left out are due no sooner than its last row: the list is whole
    # when it is full and its last row is due before every such cut.
    last = chosen[-1]["due_at"] if len(chosen) >= limit else None
    if any(last is None or not last < cut for cut in cuts):
        out["truncated"] = True
    return out


FILTER_CHOICES = {
    "sla": tuple(STATES),
    "channel": CHANNELS,
    "priority": PRIORITIES,
    "kind": SLA_KINDS,
}
