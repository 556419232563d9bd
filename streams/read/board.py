"""The board: a JSON snapshot of every queue x channel, for wallboards and the board API.

Values come from the same functions as the Prometheus exposition (`streams.read.values`),
so the board and `/metrics` agree; each tile is coloured against the configured targets.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from streams.core.contract import AGENT_STATES, BACKLOG_AGES, PRIORITIES, SLA_KINDS
from streams.core.queues import QueueChannel
from streams.core.sla import ANSWER, sla_applies, sla_index
from streams.read.values import staffing_view, window_values
from streams.read.view import ReadView

log = logging.getLogger("floorwatch.board")
# Tile colours follow the configured targets: service level >= target is green, within
# AMBER_MARGIN below it amber, lower red; any breached contact makes the tile red, any
# at-risk contact at least amber (a tile's `status.overall` is the worst of these).
AMBER_MARGIN = 0.05
_RANK = {"green": 0, "amber": 1, "red": 2}


def service_level_status(value: float | None, target: float) -> str | None:
    """green / amber / red against the target; None when there is no value yet."""
    if value is None:
        return None
    if value >= target:
        return "green"
    return "amber" if value >= target - AMBER_MARGIN else "red"


def _worst(*statuses: str | None) -> str:
    known = [s for s in statuses if s is not None]
    return max(known, key=_RANK.__getitem__) if known else "green"


def _iso(ts: float) -> str | None:
    if ts == float("-inf"):
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _tile(engine: ReadView, qc: QueueChannel) -> dict[str, Any]:
    targets = engine.targets.get(qc.queue, qc.channel, "normal")
    live = engine.queues.live(qc)
    windows = {
        name: window_values(summary, targets.service_level_formula)
        for name, summary in engine.queues.windows(qc).items()
    }
    by_priority: dict[str, dict[str, dict[str, int]]] = {}
    breached = at_risk = 0
    for p, priority in enumerate(PRIORITIES):
        for k, kind in enumerate(SLA_KINDS):
            if sla_applies(k, qc.channel):
                counts = {
                    "breached": qc.breached[sla_index(p, k)],
                    "at_risk": qc.at_risk[sla_index(p, k)],
                }
                breached += counts["breached"]
                at_risk += counts["at_risk"]
                by_priority.setdefault(priority, {})[kind] = counts
    agents_board = engine.agents.queues.get(qc.queue)
    agents = dict(zip(AGENT_STATES, agents_board.counts if agents_board else [0] * 5, strict=True))
    live_channel = sla_applies(ANSWER, qc.channel)
    status: dict[str, str | None] = {}
    if live_channel:
        for window in ("today", "15m"):
            if window in windows:
                status[f"service_level_{window}"] = service_level_status(
                    windows[window]["service_level_ratio"], targets.service_level_target
                )
    staffing = staffing_view(engine, qc)
    sla_status = "red" if breached else ("amber" if at_risk else "green")
    status["overall"] = _worst(sla_status, *status.values())
    return {
        "queue": qc.queue,
        "channel": qc.channel,
        "team": qc.team or targets.team,
        "targets": {
            "service_level": targets.service_level_target if live_channel else None,
            "answer_within_seconds": targets.answer_within_seconds if live_channel else None,
            "service_level_formula": targets.service_level_formula,
        },
        "live": {
            "waiting": live.waiting,
            "longest_wait_seconds": live.longest_wait,
            "backlog": dict(zip(BACKLOG_AGES, live.backlog, strict=True)),
        },
        "sla": {"breached": breached, "at_risk": at_risk, "by_priority": by_priority},
        "agents": agents,
        "staffing": {
            "required_agents": staffing.required,
            "staffed_agents": staffing.staffed,
            "gap_agents": staffing.gap,
            "projected_service_level": staffing.projected_service_level,
        },
        "windows": windows,
        "status": status,
    }


def board_snapshot(engine: ReadView) -> dict[str, Any]:
    """Every queue x channel of the engine, sorted by queue then channel."""
    engine.advance(engine.clock.now())
    tracked = sorted(engine.queues.tracked, key=lambda qc: (qc.queue, qc.channel))
    return {
        "now": _iso(engine.queues.now),
        "last_event_at": _iso(engine.pipeline.last_event_ts or float("-inf")),
        "windows": list(engine.settings.windows),
        "queues": [_tile(engine, qc) for qc in tracked],
    }


def _board_part(raw: bytes) -> dict[str, Any] | None:
    """A worker's published board, or None (logged) if it does not decode as one."""
    try:
        part = orjson.loads(raw)
        if not (
            isinstance(part, dict)
            and isinstance(part.get("worker"), str)
            and isinstance(part.get("published_at"), int | float)
            and isinstance(part.get("queues"), list)
            and all(isinstance(t, dict) and "queue" in t and "channel" in t for t in part["queues"])
        ):
            raise ValueError("not a board (worker, published_at, queues)")
    except ValueError as error:
        log.warning("unreadable board entry left out", extra={"reason": str(error)})
        return None
    return part


def merge_boards(raw_parts: list[bytes], windows: list[str]) -> dict[str, Any]:
    """One board from the boards workers published (JSON, each with `worker` and
    `published_at`). A queue x channel in two of them (its partition just moved) is
    taken from the newest. A part that is not a board is left out."""
    parts = [part for raw in raw_parts if (part := _board_part(raw)) is not None]
    newest: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
    for part in parts:
        at = part["published_at"]
        for tile in part["queues"]:
            key = (tile["queue"], tile["channel"])
            if key not in newest or at > newest[key][0]:
                newest[key] = (at, tile)
    stamps = [p["now"] for p in parts if p.get("now")]  # ISO 8601 UTC: sorts as time
    events = [p["last_event_at"] for p in parts if p.get("last_event_at")]
    return {
        "now": max(stamps, default=None),
        "last_event_at": max(events, default=None),
        "windows": windows,
        "workers": sorted(p["worker"] for p in parts),
        "queues": [tile for _, (_, tile) in sorted(newest.items())],
    }
