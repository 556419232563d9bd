"""The agents list (`/api/v1/agents`, the wallboard's agents panel, `board --agents`):
state, reason and time in state from the agent side, today's activity merged from every
contact partition; filters, sort and limit. Parts from several workers merge (`merge_parts`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from typing import Any

from streams.core.contract import AGENT_STATES
from streams.core.settings import AgentSettings
from streams.read.floor import contact_sides, iso, queue_teams
from streams.read.view import ReadView

SORTS = ("alert", "time", "state", "agent", "handled", "missed")
MAX_LIMIT = 10_000
_STATE_RANK = {s: i for i, s in enumerate(AGENT_STATES)}
_ALERT_RANK = {"red": 0, "amber": 1, None: 2}

# An agent's state as the agent side has it: [agent id, state, reason, since, queues, team]
StateRow = tuple[str, str, str | None, float, tuple[str, ...], str | None]
# Its activity today, merged over contact partitions:
# [handled, handle seconds, missed, replies, [[contact id, queue, channel, since], ...]]
Activity = list[Any]


class AgentFilter:
    """Which agents a list shows: a team (its own, or of a queue it serves), queues
    served, states (each None: any)."""

    __slots__ = ("queues", "states", "team", "team_queues")

    def __init__(
        self,
        team: str | None = None,
        queues: frozenset[str] | None = None,
        states: frozenset[str] | None = None,
        teams: dict[str, str] | None = None,
    ) -> None:
        self.team = team
        self.queues = queues
        self.states = states
        self.team_queues = (
            frozenset(q for q, t in (teams or {}).items() if t == team) if team else frozenset()
        )

    def matches(self, row: StateRow) -> bool:
        if self.states is not None and row[1] not in self.states:
            return False
        served = row[4]
        if self.queues is not None and not any(q in self.queues for q in served):
            return False
        if self.team is not None:
            return row[5] == self.team or any(q in self.team_queues for q in served)
        return True


def alert_level(state: str, seconds: float, settings: AgentSettings) -> str | None:
    """ "red" or "amber" once an agent has been in `state` as long as the [agents]
    thresholds say (e.g. a long break or after-contact work), else None."""
    for level, thresholds in (("red", settings.red_seconds), ("amber", settings.amber_seconds)):
        for name, limit in thresholds:
            if name == state and seconds >= limit:
                return level
    return None


def state_rows(view: ReadView) -> Iterable[StateRow]:
    """Every agent of the view's agent side."""
    for tracker, _ in contact_sides(view):
        for agent_id, a in tracker.agents.items():
            yield (agent_id, a.state, a.reason, a.since, a.queues, a.team)


def activity_lookup(view: ReadView, day_start: float) -> Callable[[str], Activity]:
    """agent id -> its activity on the floor's day starting at `day_start`, summed over
    the view's contact partitions."""
    trackers = [contacts for _, contacts in contact_sides(view)]

    def lookup(agent_id: str) -> Activity:
        handled = missed = replies = 0
        handle_sum = 0.0
        current: list[list[Any]] = []
        for contacts in trackers:
            record = contacts.activity.get(agent_id)
            if record is None:
                continue
            h, hs, m, r = record.counts_on(day_start)
            handled += h
            handle_sum += hs
            missed += m
            replies += r
            current += [[c, q, ch, since] for c, (q, ch, since) in record.current.items()]
        return [handled, handle_sum, missed, replies, current]

    return lookup


def _day_start(view: ReadView) -> float:
    return view.agents.day_start


def agents_part(view: ReadView) -> dict[str, Any]:
    """Everything this view knows of agents, JSON-ready, for a cluster-wide list: states
    of the agents whose partitions it owns, activity from its contact partitions."""
    view.advance(view.clock.now())
    day_start = _day_start(view)
    lookup = activity_lookup(view, day_start)
    ids: set[str] = set()
    for _, contacts in contact_sides(view):
        ids.update(contacts.activity)
    return {
        "now": view.agents.now,
        "day_start": day_start,
        "states": [[*row[:4], list(row[4]), row[5]] for row in state_rows(view)],
        "activity": {agent_id: lookup(agent_id) for agent_id in sorted(ids)},
    }


def merge_parts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One part from the parts of several workers: an agent's state from the part where
    it changed last (its partition may just have moved), activity of the newest floor's
    day summed (counts) and joined (live contacts)."""
    now = max((p["now"] for p in parts), default=float("-inf"))
    day_start = max((p["day_start"] for p in parts), default=float("-inf"))
    states: dict[str, list[Any]] = {}
    for part in parts:
        for row in part["states"]:
            held = states.get(row[0])
            if held is None or row[3] > held[3]:
                states[row[0]] = row
    activity: dict[str, Activity] = {}
    for part in parts:
        same_day = part["day_start"] == day_start
        for agent_id, (h, hs, m, r, current) in part["activity"].items():
            merged = activity.setdefault(agent_id, [0, 0.0, 0, 0, []])
            if same_day:
                merged[0] += h
                merged[1] += hs
                merged[2] += m
                merged[3] += r
            merged[4] = merged[4] + current
    return {
        "now": now,
        "day_start": day_start,
        "states": list(states.values()),
        "activity": activity,
    }


def live_contacts(part: dict[str, Any]) -> dict[str, str]:
    """Contact id -> the agent on it, from a (merged) part's live contacts: the agents of
    contacts whose contact partition another worker owns."""
    return {
        contact[0]: agent_id
        for agent_id, activity in part["activity"].items()
        for contact in activity[4]
    }


def listing(
    rows: Iterable[StateRow],
    activity_of: Callable[[str], Activity],
    now: float,
    settings: AgentSettings,
    selected: AgentFilter,
    sort: str = "alert",
    limit: int = 100,
) -> dict[str, Any]:
    """The list: agents matching the filter, sorted, the first `limit` in full, with
    counts by state and alert over every match."""
    matched: list[StateRow] = [row for row in rows if selected.matches(row)]
    by_state = dict.fromkeys(AGENT_STATES, 0)
    alerts = {"amber": 0, "red": 0}
    levels: dict[str, str | None] = {}
    for row in matched:
        by_state[row[1]] = by_state.get(row[1], 0) + 1
        level = alert_level(row[1], now - row[3], settings)
        levels[row[0]] = level
        if level is not None:
            alerts[level] += 1
    chosen = _sorted(matched, sort, limit, levels, activity_of)
    return {
        "now": iso(now),
        "total": len(matched),
        "by_state": by_state,
        "alerts": alerts,
        "sort": sort,
        "agents": [_row(row, activity_of(row[0]), now, levels[row[0]]) for row in chosen],
    }


def _sorted(
    matched: list[StateRow],
    sort: str,
    limit: int,
    levels: dict[str, str | None],
    activity_of: Callable[[str], Activity],
) -> list[StateRow]:
    """The first `limit` rows in the order `sort` names (ties: agent id)."""
    key: Callable[[StateRow], Any]
    if sort == "time":  # longest in their state first

        def key(r: StateRow) -> Any:
            return (r[3], r[0])
    elif sort == "state":

        def key(r: StateRow) -> Any:
            return (_STATE_RANK.get(r[1], 99), r[3], r[0])
    elif sort == "agent":

        def key(r: StateRow) -> Any:
            return r[0]
    elif sort in ("handled", "missed"):
        field = 0 if sort == "handled" else 2

        def key(r: StateRow) -> Any:
            return (-activity_of(r[0])[field], r[0])
    else:  # alert: red, amber, then by state and longest in it

        def key(r: StateRow) -> Any:
            return (_ALERT_RANK[levels[r[0]]], _STATE_RANK.get(r[1], 99), r[3], r[0])

    if limit >= len(matched):
        return sorted(matched, key=key)
    return heapq.nsmallest(limit, matched, key=key)


def _row(row: StateRow, activity: Activity, now: float, level: str | None) -> dict[str, Any]:
    agent_id, state, reason, since, queues, team = row
    handled, handle_sum, missed, replies, current = activity
    contacts = sorted(current, key=lambda c: (-c[3], c[0]))
    return {
        "agent_id": agent_id,
        "team": team,
        "state": state,
        "reason": reason,
        "since": iso(since),
        "seconds_in_state": max(0.0, now - since),
        "alert": level,
        "queues": list(queues),
        "contacts": [
            {
                "contact_id": c,
                "queue": q,
                "channel": ch,
                "since": iso(at),
                "seconds": max(0.0, now - at),
            }
            for c, q, ch, at in contacts
        ],
        "handled_today": handled,
        "handle_seconds_average": handle_sum / handled if handled else None,
        "missed_today": missed,
        "replies_today": replies,
    }


def agents_snapshot(
    view: ReadView,
    team: str | None = None,
    queues: frozenset[str] | None = None,
    states: frozenset[str] | None = None,
    sort: str = "alert",
    limit: int = 100,
) -> dict[str, Any]:
    """The agents list of one view (an Engine, or a worker's own partitions)."""
    view.advance(view.clock.now())
    now = view.agents.now
    teams = queue_teams(view) if team is not None else {}
    selected = AgentFilter(team, queues, states, teams)
    lookup = activity_lookup(view, _day_start(view))
    return listing(state_rows(view), lookup, now, view.settings.agents, selected, sort, limit)


def part_listing(
    part: dict[str, Any],
    settings: AgentSettings,
    selected: AgentFilter,
    sort: str = "alert",
    limit: int = 100,
) -> dict[str, Any]:
    """The list from a (merged) part: the same rows as `agents_snapshot` gives in one
    process."""
    rows = [(r[0], r[1], r[2], r[3], tuple(r[4]), r[5]) for r in part["states"]]
    activity: dict[str, Activity] = part["activity"]

    def lookup(agent_id: str) -> Activity:
        return activity.get(agent_id) or [0, 0.0, 0, 0, []]

    return listing(rows, lookup, part["now"], settings, selected, sort, limit)
