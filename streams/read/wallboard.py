"""What the wallboard shows, in one compact JSON document: the tiles of a board (own or
merged), the agents panel, the "about to breach" list and the staffing moves. Pure over
JSON shapes, so a cluster's merged board and lists render the same way.
"""

from __future__ import annotations

from typing import Any

from streams.core.contract import AGENT_STATES, SLA_KINDS

AGENT_ROWS = 120  # the agents panel shows the most urgent first; the rest are counted
CONTACT_ROWS = 15
MOVE_ROWS = 8


def _window(board: dict[str, Any], wanted: str) -> str | None:
    windows: list[str] = board.get("windows") or []
    if wanted in windows:
        return wanted
    return windows[0] if windows else None


def compact_tile(tile: dict[str, Any], recent: str | None, day: str | None) -> dict[str, Any]:
    """The figures a tile shows: live channels (voice, chat) their queue and service
    level, the others their backlog and first responses; both their SLA counts by kind,
    agents, staffing and the sparkline of the last hour."""
    windows = tile.get("windows", {})
    r = windows.get(recent, {}) if recent else {}
    d = windows.get(day, {}) if day else {}
    targets = tile["targets"]
    live = tile["live"]
    status = tile["status"]
    agents = tile["agents"]
    return {
        "queue": tile["queue"],
        "channel": tile["channel"],
        "team": tile.get("team"),
        "live_channel": targets.get("service_level") is not None,
        "status": status["overall"],
        "status_text": status.get("text", ""),
        "waiting": live["waiting"],
        "longest_wait": live["longest_wait_seconds"],
        "open": live.get("open", sum(live["backlog"].values())),
        "oldest_open": live.get("oldest_open_seconds"),
        "backlog": list(live["backlog"].values()),
        "sl_recent": r.get("service_level_ratio"),
        "sl_recent_status": status.get(f"service_level_{recent}"),
        "sl_day": d.get("service_level_ratio"),
        "sl_day_status": status.get(f"service_level_{day}"),
        "sl_target": targets.get("service_level"),
        "abandon_day": d.get("abandon_ratio"),
        "frt_average": d.get("first_response_seconds_average"),
        "frt_p90": d.get("first_response_seconds_p90"),
        "frt_target": targets.get("first_response_within_seconds"),
        "resolved_day": d.get("resolved_contacts"),
        "sla": {
            kind: [counts["at_risk"], counts["breached"]]
            for kind, counts in tile["sla"].get("by_kind", {}).items()
        },
        "agents": [agents.get(state, 0) for state in AGENT_STATES],
        "required": tile["staffing"]["required_agents"],
        "staffed": tile["staffing"]["staffed_agents"],
        "spark": tile.get("sparkline"),
    }


def _agent(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["agent_id"],
        "state": row["state"],
        "reason": row["reason"],
        "seconds": row["seconds_in_state"],
        "alert": row["alert"],
        "contacts": len(row["contacts"]),
        "handled": row["handled_today"],
        "missed": row["missed_today"],
    }


def _contact(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["contact_id"],
        "queue": row["queue"],
        "channel": row["channel"],
        "priority": row["priority"],
        "sla": row["sla"],
        "state": row["state"],
        "due_in": row["seconds_to_due"],
        "business_due_in": row["business_seconds_to_due"],
        "waiting": row["waiting"],
        "agent": row["agent_id"],
    }


def _level(channels: list[dict[str, Any]]) -> dict[str, Any]:
    """A queue's figures in a move: staffed, required, and the lowest service level of
    its live channels (None when it has none)."""
    levels = [c["service_level"] for c in channels if c["service_level"] is not None]
    return {
        "staffed": max((c["staffed"] for c in channels), default=0),
        "required": max((c["required"] for c in channels), default=0),
        "service_level": min(levels) if levels else None,
    }


def _move(move: dict[str, Any]) -> dict[str, Any]:
    return {
        "agent": move["agent_id"],
        "from": move["from_queue"],
        "to": move["to_queue"],
        "from_before": _level(move["from"]["before"]),
        "from_after": _level(move["from"]["after"]),
        "to_before": _level(move["to"]["before"]),
        "to_after": _level(move["to"]["after"]),
    }


class CompactTiles:
    """The compact tiles of the last board, reused while the board hands the same tile
    object again (an own board caches unchanged tiles): a 1,000-tile wallboard then
    compacts only what changed."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}

    def __call__(self, tiles: list[dict[str, Any]], recent: str | None, day: str | None) -> list:
        seen, out = self.seen, []
        fresh: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
        for tile in tiles:
            key = (tile["queue"], tile["channel"])
            held = seen.get(key)
            compact = held[1] if held is not None and held[0] is tile else None
            if compact is None:
                compact = compact_tile(tile, recent, day)
            fresh[key] = (tile, compact)
            out.append(compact)
        self.seen = fresh
        return out


def wallboard_model(
    board: dict[str, Any],
    agents: dict[str, Any] | None,
    contacts: dict[str, Any] | None,
    moves: dict[str, Any] | None,
    floor: dict[str, str | None],
    compact: CompactTiles | None = None,
) -> dict[str, Any]:
    """The wallboard's document; `contacts` holds two lists, `at_risk` and `breached`;
    `floor` is the filter it shows ({"team", "queue"})."""
    recent, day = _window(board, "15m"), _window(board, "today")
    out: dict[str, Any] = {
        "now": board.get("now"),
        "last_event_at": board.get("last_event_at"),
        "source": board.get("source", "live"),
        "stale": board.get("stale", False),
        "stale_after_seconds": board.get("stale_after_seconds"),
        "windows": {"recent": recent, "day": day},
        "floor": floor,
        "tiles": (compact or CompactTiles())(board.get("queues", []), recent, day),
        "sla_kinds": list(SLA_KINDS),
    }
    if agents is not None:
        out["agents"] = {
            "total": agents["total"],
            "by_state": agents["by_state"],
            "alerts": agents["alerts"],
            "rows": [_agent(a) for a in agents["agents"][:AGENT_ROWS]],
        }
    if contacts is not None:  # at risk (soonest due first), then breached (most overdue)
        at_risk, breached = contacts["at_risk"], contacts["breached"]
        rows = [*at_risk["contacts"], *breached["contacts"]][:CONTACT_ROWS]
        out["contacts"] = {
            "at_risk": at_risk["total"],
            "breached": breached["total"],
            "rows": [_contact(c) for c in rows],
        }
    if moves is not None:
        out["moves"] = {
            "rows": [_move(m) for m in moves["moves"][:MOVE_ROWS]],
            "more": max(0, len(moves["moves"]) - MOVE_ROWS),
            "still_short": [
                {"queue": q["queue"], "short_by": q["short_by"]} for q in moves["still_short"]
            ],
        }
    return out
