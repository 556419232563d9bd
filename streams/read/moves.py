"""Staffing moves: from each queue's requirement (Erlang C for voice and chat, workload for
asynchronous channels), who is staffed and the agents' queues, concrete moves of idle
agents from queues that can spare them to queues short of agents, with the projected
service level of both before and after. Pure over JSON-ready inputs (merged boards too).
"""

from __future__ import annotations

from typing import Any

from streams.core.settings import StaffingSettings
from streams.core.sla import ANSWER, sla_applies
from streams.read import staffing
from streams.read.agents import state_rows
from streams.read.board import cached_parts
from streams.read.view import ReadView

STAFFED = frozenset(("available", "on_contact", "after_contact_work"))
MAX_MOVES = 20


class ChannelNeed:
    """One queue x channel's demand: Erlang C inputs for voice and chat (rate, AHT,
    answer within T, target), the workload for the others; what it requires, and the
    service level it would get with a number of agents."""

    __slots__ = ("channel", "demand", "levels", "live", "required")

    def __init__(self, row: dict[str, Any], max_occupancy: float, shrinkage: float) -> None:
        self.channel: str = row["channel"]
        self.live = sla_applies(ANSWER, self.channel)
        rate = float(row["arrivals_per_second"])
        aht = float(row["aht_seconds"])
        self.demand: staffing.StaffingInput | None = None
        self.levels: dict[int, float] = {}  # agents -> service level (Erlang C, memo)
        if self.live:
            self.demand = staffing.StaffingInput(
                arrivals_per_second=rate,
                aht_seconds=aht,
                answer_within_seconds=float(row["answer_within_seconds"]),
                service_level_target=float(row["service_level_target"]),
                max_occupancy=max_occupancy,
                shrinkage=shrinkage,
            )
            self.required = staffing.required_agents(self.demand).required_agents
        else:
            self.required = staffing.workload_agents(rate, aht, max_occupancy, shrinkage)

    def service_level(self, agents: int) -> float | None:
        if self.demand is None:
            return None
        level = self.levels.get(agents)
        if level is None:
            level = self.levels[agents] = staffing.projected_service_level(agents, self.demand)
        return level

    def can_lose_one(self, agents: int) -> bool:
        """With one agent fewer still at least the requirement (which meets the target
        within the occupancy cap, after shrinkage: the service level stays at target), and
        never none: the next contact needs someone even when the load is near zero."""
        return agents - 1 >= max(self.required, 1)  # a queue with traffic keeps one agent


def demand_rows(view: ReadView) -> list[dict[str, Any]]:
    """Each queue x channel's staffing inputs, as the board tiles carry them (and from the
    same cache)."""
    rows = []
    for qc in view.queues.tracked:
        targets = view.targets.get(qc.queue, qc.channel, "normal")
        seen = cached_parts(view, qc, targets)["staffing"]
        rows.append(
            {
                "queue": qc.queue,
                "channel": qc.channel,
                "arrivals_per_second": seen["arrivals_per_second"],
                "aht_seconds": seen["aht_seconds"],
                "answer_within_seconds": targets.answer_within_seconds,
                "service_level_target": targets.service_level_target,
            }
        )
    return rows


def demand_of_tile(tile: dict[str, Any]) -> dict[str, Any]:
    """The staffing inputs of a board tile (of a merged cluster board too)."""
    return {
        "queue": tile["queue"],
        "channel": tile["channel"],
        "arrivals_per_second": tile["staffing"]["arrivals_per_second"],
        "aht_seconds": tile["staffing"]["aht_seconds"],
        "answer_within_seconds": tile["targets"]["answer_within_seconds"] or 0.0,
        "service_level_target": tile["targets"]["service_level"] or 1.0,
    }


def suggest_moves(
    demands: list[dict[str, Any]],
    agents: list[tuple[str, str, float, tuple[str, ...]]],
    max_occupancy: float,
    shrinkage: float,
    max_moves: int = MAX_MOVES,
) -> dict[str, Any]:
    """Moves that bring short queues up to their requirement without taking any donor
    below its own. `agents`: (agent id, state, since, queues served).

    Greedy, one agent at a time: the queue furthest below its requirement is served first;
    its donor is the queue that keeps the largest margin over its requirement after giving
    one agent (then the higher service level left, then the name); the agent is the one
    available longest among the donor's agents that do not serve the short queue yet. A
    move takes the donor queue off the agent and gives it the short one.
    """
    needs: dict[str, list[ChannelNeed]] = {}
    for row in sorted(demands, key=lambda r: (r["queue"], r["channel"])):  # any source's order
        needs.setdefault(row["queue"], []).append(ChannelNeed(row, max_occupancy, shrinkage))
    staffed: dict[str, int] = {}
    skills: dict[str, set[str]] = {}
    idle: dict[str, list[tuple[float, str]]] = {}  # queue -> its available agents
    for agent_id, state, since, queues in agents:
        skills[agent_id] = set(queues)
        if state in STAFFED:
            for queue in queues:
                staffed[queue] = staffed.get(queue, 0) + 1
        if state == "available":
            for queue in queues:
                idle.setdefault(queue, []).append((since, agent_id))
    for agents_idle in idle.values():
        agents_idle.sort()
    start = dict(staffed)
    moved: set[str] = set()
    moves: list[dict[str, Any]] = []
    blocked: set[str] = set()
    while len(moves) < max_moves:
        short = _shortest(needs, staffed, blocked)
        if short is None:
            break
        donor = _donor(needs, staffed, skills, idle, moved, short)
        if donor is None:
            blocked.add(short)
            continue
        from_queue, agent_id = donor
        before = {q: _levels(needs.get(q, []), staffed.get(q, 0)) for q in (from_queue, short)}
        staffed[from_queue] = staffed.get(from_queue, 0) - 1
        staffed[short] = staffed.get(short, 0) + 1
        skills[agent_id].discard(from_queue)
        skills[agent_id].add(short)
        moved.add(agent_id)
        moves.append(
            {
                "agent_id": agent_id,
                "from_queue": from_queue,
                "to_queue": short,
                "from": _change(before[from_queue], needs, staffed, from_queue),
                "to": _change(before[short], needs, staffed, short),
            }
        )
    touched = sorted({m["from_queue"] for m in moves} | {m["to_queue"] for m in moves})
    return {
        "moves": moves,
        "queues": [
            {
                "queue": q,
                "before": _levels(needs.get(q, []), start.get(q, 0)),
                "after": _levels(needs.get(q, []), staffed.get(q, 0)),
            }
            for q in touched
        ],
        # Queues still below their requirement after the moves (no donor could spare more).
        "still_short": [
            {
                "queue": q,
                "short_by": _deficit(needs[q], staffed.get(q, 0)),
                "channels": _levels(needs[q], staffed.get(q, 0)),
            }
            for q in sorted(needs)
            if _deficit(needs[q], staffed.get(q, 0)) > 0
        ],
    }


def _deficit(channels: list[ChannelNeed], agents: int) -> int:
    return max((c.required - agents for c in channels), default=0)


def _shortest(
    needs: dict[str, list[ChannelNeed]], staffed: dict[str, int], blocked: set[str]
) -> str | None:
    """The queue furthest below its requirement (ties: lower service level, then name)."""
    deficits = {
        queue: deficit
        for queue, channels in needs.items()
        if queue not in blocked and (deficit := _deficit(channels, staffed.get(queue, 0))) > 0
    }
    if not deficits:
        return None
    worst = max(deficits.values())
    best: tuple[float, str] | None = None
    for queue, deficit in deficits.items():
        if deficit != worst:
            continue
        agents = staffed.get(queue, 0)
        levels = [lv for c in needs[queue] if (lv := c.service_level(agents)) is not None]
        key = (min(levels, default=1.0), queue)
        if best is None or key < best:
            best = key
    return None if best is None else best[1]


def _donor(
    needs: dict[str, list[ChannelNeed]],
    staffed: dict[str, int],
    skills: dict[str, set[str]],
    idle: dict[str, list[tuple[float, str]]],
    moved: set[str],
    short: str,
) -> tuple[str, str] | None:
    """(donor queue, agent) for one agent more in `short`, or None when none can spare one:
    the queues that can give one, best first, each offering its agent available longest."""
    ranked: list[tuple[tuple[int, float, str], str]] = []
    for queue, agents_idle in idle.items():
        if queue == short or not agents_idle:
            continue
        agents = staffed.get(queue, 0)
        channels = needs.get(queue, [])
        if not all(c.can_lose_one(agents) for c in channels):
            continue
        margin = min((agents - 1 - c.required for c in channels), default=agents - 1)
        levels = [lv for c in channels if (lv := c.service_level(agents - 1)) is not None]
        ranked.append(((-margin, -min(levels, default=1.0), queue), queue))
    ranked.sort()
    for _, queue in ranked:
        for _, agent_id in idle[queue]:  # longest available first
            if agent_id not in moved and short not in skills[agent_id]:
                return queue, agent_id
    return None


def _levels(channels: list[ChannelNeed], agents: int) -> list[dict[str, Any]]:
    return [
        {
            "channel": c.channel,
            "staffed": agents,
            "required": c.required,
            "service_level": c.service_level(agents),
            "target": None if c.demand is None else c.demand.service_level_target,
        }
        for c in channels
    ]


def _change(
    before: list[dict[str, Any]],
    needs: dict[str, list[ChannelNeed]],
    staffed: dict[str, int],
    queue: str,
) -> dict[str, Any]:
    return {"before": before, "after": _levels(needs.get(queue, []), staffed.get(queue, 0))}


def moves_snapshot(
    view: ReadView,
    queues: frozenset[str] | None = None,
    demands: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The suggested moves of one view; with `queues`, those that touch them. `demands`:
    staffing inputs read a little earlier (default: `demand_rows` now)."""
    view.advance(view.clock.now())
    settings = view.settings.staffing
    agents = [(r[0], r[1], r[3], r[4]) for r in state_rows(view)]
    if demands is None:
        demands = demand_rows(view)
    found = suggest_moves(demands, agents, settings.max_occupancy, settings.shrinkage)
    return touching(found, queues)


def touching(found: dict[str, Any], queues: frozenset[str] | None) -> dict[str, Any]:
    """The moves, queues and short queues of `suggest_moves` that touch `queues` (None:
    all)."""
    if queues is not None:
        found["moves"] = [
            m for m in found["moves"] if m["from_queue"] in queues or m["to_queue"] in queues
        ]
        found["queues"] = [q for q in found["queues"] if q["queue"] in queues]
        found["still_short"] = [q for q in found["still_short"] if q["queue"] in queues]
    return found


def part_moves(
    board: dict[str, Any],
    agents: dict[str, Any],
    settings: StaffingSettings,
    queues: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The moves of a whole cluster: demands from its merged board's tiles, agents from
    its merged agents part (`streams.read.agents.merge_parts`)."""
    demands = [demand_of_tile(tile) for tile in board["queues"]]
    states = [(r[0], r[1], r[3], tuple(r[4])) for r in agents["states"]]
    found = suggest_moves(demands, states, settings.max_occupancy, settings.shrinkage)
    return touching(found, queues)
