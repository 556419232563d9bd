"""The board: a JSON snapshot of every queue x channel, for wallboards and the board API.

Values come from the same functions as the Prometheus exposition (`streams.read.values`),
so the board and `/metrics` agree; each tile is coloured against the configured targets.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from streams.core import sketch
from streams.core.contract import AGENT_STATES, BACKLOG_AGES, PRIORITIES, SLA_KINDS
from streams.core.queues import QueueChannel
from streams.core.settings import TargetSettings
from streams.core.sla import ANSWER, FIRST_RESPONSE, RESOLUTION, sla_applies, sla_index
from streams.core.summary import Summary, service_level
from streams.read.values import STAFFED_STATES, staffing_view, window_values
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


# The SLA clocks a tile is judged by: the answer (and, for chat, the first reply) of live
# channels; first response and resolution of asynchronous ones. Resolution of a call is
# shown in the API but does not colour its tile (nobody waits on the phone for it).
def tile_kinds(channel: str) -> tuple[int, ...]:
    if channel == "voice":
        return (ANSWER,)
    if channel == "chat":
        return (ANSWER, FIRST_RESPONSE)
    return (FIRST_RESPONSE, RESOLUTION)


SPARK_POINTS = 12  # the last hour in 5-minute steps
SPARK_STEP_SECONDS = 300


def _sparkline(engine: ReadView, qc: QueueChannel, formula: str) -> dict[str, Any]:
    """The last hour in 5-minute steps: service level of live channels (null for a step
    with no contact leaving the queue), contacts offered for the others."""
    board = engine.queues
    size = board.bucket_seconds
    per_step = max(1, SPARK_STEP_SECONDS // size)
    current = int(board.now // size)
    ring = qc.ring
    live = sla_applies(ANSWER, qc.channel)
    values: list[float | None] = []
    for step in range(SPARK_POINTS - 1, -1, -1):
        part = Summary()
        for back in range(step * per_step, (step + 1) * per_step):
            index = current - back
            slot = index % ring.slots
            bucket = ring.summaries[slot]
            if bucket is not None and ring.indexes[slot] == index:
                part.offered += bucket.offered
                part.answered += bucket.answered
                part.answered_met += bucket.answered_met
                part.abandoned += bucket.abandoned
                part.abandoned_met += bucket.abandoned_met
        values.append(service_level(part, formula) if live else float(part.offered))
    return {
        "kind": "service_level" if live else "offered",
        "step_seconds": per_step * size,
        "values": values,
    }


def _windows(engine: ReadView, qc: QueueChannel, formula: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, summary in engine.queues.windows(qc).items():
        values: dict[str, Any] = window_values(summary, formula)
        values["first_response_seconds_p90"] = sketch.quantile(summary.frt_bins, 0.9)
        values["resolved_contacts"] = summary.resolved
        out[name] = values
    return out


def cached_parts(engine: ReadView, qc: QueueChannel, targets: TargetSettings) -> dict[str, Any]:
    """Window values, the sparkline and staffing of a tile: recomputed only when a fact
    reaches the queue x channel, a new bucket begins, the day, the targets or the staffed
    agents change (cached on the queue x channel)."""
    board = engine.queues
    agents = engine.agents.queues.get(qc.queue)
    staffed = sum(agents.counts[i] for i in STAFFED_STATES) if agents else 0
    key = (
        int(board.now // board.bucket_seconds),
        qc.version,
        qc.past_version,
        board.day_start,
        engine.targets.version,
        staffed,
    )
    cache = _cache_of(qc)
    if cache[0] == key:
        found: dict[str, Any] = cache[1]
        return found
    formula = targets.service_level_formula
    staffing = staffing_view(engine, qc)
    parts = {
        "windows": _windows(engine, qc, formula),
        "sparkline": _sparkline(engine, qc, formula),
        "staffing": {
            "required_agents": staffing.required,
            "staffed_agents": staffing.staffed,
            "gap_agents": staffing.gap,
            "projected_service_level": staffing.projected_service_level,
            "arrivals_per_second": staffing.arrivals_per_second,
            "aht_seconds": staffing.aht_seconds,
        },
    }
    cache[0], cache[1] = key, parts
    cache[4] += 1
    return parts


def _cache_of(qc: QueueChannel) -> list[Any]:
    """A queue x channel's board cache: [slow key, slow parts, tile key, tile, how many
    times the slow parts were computed]."""
    cache = qc.tile_cache
    if cache is None:
        cache = qc.tile_cache = [None, None, None, None, 0]
    found: list[Any] = cache
    return found


def _tile(engine: ReadView, qc: QueueChannel, coarse: bool = False) -> dict[str, Any]:
    """One tile. `coarse`: a tile computed earlier in the same clock second is good
    enough (and kept while nothing of the queue x channel changed): the wallboard's."""
    targets = engine.targets.get(qc.queue, qc.channel, "normal")
    slow = cached_parts(engine, qc, targets)
    board = engine.queues
    agents_board = engine.agents.queues.get(qc.queue)
    cache = _cache_of(qc)
    key = (
        int(board.now) if coarse else board.now,
        qc.version,
        qc.open_version,
        tuple(qc.at_risk),
        tuple(qc.breached),
        tuple(agents_board.counts) if agents_board else (),
        cache[4],
    )
    if cache[2] == key:
        found: dict[str, Any] = cache[3]
        return found
    tile = _compute_tile(engine, qc, targets, slow)
    cache[2], cache[3] = key, tile
    return tile


def _compute_tile(
    engine: ReadView, qc: QueueChannel, targets: TargetSettings, slow: dict[str, Any]
) -> dict[str, Any]:
    live = engine.queues.live(qc)
    windows = slow["windows"]
    by_priority: dict[str, dict[str, dict[str, int]]] = {}
    by_kind: dict[str, dict[str, int]] = {}
    breached = at_risk = 0
    for k, kind in enumerate(SLA_KINDS):
        if not sla_applies(k, qc.channel):
            continue
        kind_counts = by_kind[kind] = {"at_risk": 0, "breached": 0}
        for p, priority in enumerate(PRIORITIES):
            counts = {
                "breached": qc.breached[sla_index(p, k)],
                "at_risk": qc.at_risk[sla_index(p, k)],
            }
            kind_counts["breached"] += counts["breached"]
            kind_counts["at_risk"] += counts["at_risk"]
            by_priority.setdefault(priority, {})[kind] = counts
        breached += kind_counts["breached"]
        at_risk += kind_counts["at_risk"]
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
    judged = [by_kind[SLA_KINDS[k]] for k in tile_kinds(qc.channel) if SLA_KINDS[k] in by_kind]
    sla_status = (
        "red"
        if any(c["breached"] for c in judged)
        else ("amber" if any(c["at_risk"] for c in judged) else "green")
    )
    status["sla"] = sla_status
    overall = _worst(*status.values())
    status["overall"] = overall
    status["text"] = _status_text(overall, sla_status)
    return {
        "queue": qc.queue,
        "channel": qc.channel,
        "team": qc.team or targets.team,
        "targets": {
            "service_level": targets.service_level_target if live_channel else None,
            "answer_within_seconds": targets.answer_within_seconds if live_channel else None,
            "service_level_formula": targets.service_level_formula,
            "first_response_within_seconds": (
                targets.first_response_within_seconds
                if sla_applies(FIRST_RESPONSE, qc.channel)
                else None
            ),
            "resolution_within_seconds": targets.resolution_within_seconds,
        },
        "live": {
            "waiting": live.waiting,
            "longest_wait_seconds": live.longest_wait,
            "backlog": dict(zip(BACKLOG_AGES, live.backlog, strict=True)),
            "open": sum(live.backlog),
            "oldest_open_seconds": live.oldest_open,
        },
        "sla": {
            "breached": breached,
            "at_risk": at_risk,
            "by_kind": by_kind,
            "by_priority": by_priority,
        },
        "agents": agents,
        "staffing": slow["staffing"],
        "sparkline": slow["sparkline"],
        "windows": windows,
        "status": status,
    }


def _status_text(overall: str, sla_status: str) -> str:
    """The tile's status in words (the wallboard adds an icon): colour is never alone."""
    if overall == "green":
        return "on target"
    if sla_status == overall:
        return "breached" if overall == "red" else "at risk"
    return "below target" if overall == "red" else "near target"


def board_snapshot(
    engine: ReadView,
    queues: frozenset[str] | None = None,
    source: str = "live",
    coarse: bool = False,
) -> dict[str, Any]:
    """Every queue x channel of the engine (or those of `queues`), sorted by queue then
    channel; `source` says where the events come from (live, file, replay); `coarse`:
    tiles may be those computed earlier in the same second (for wallboards)."""
    engine.advance(engine.clock.now())
    tracked = sorted(
        (qc for qc in engine.queues.tracked if queues is None or qc.queue in queues),
        key=lambda qc: (qc.queue, qc.channel),
    )
    now = engine.queues.now
    last = engine.pipeline.last_event_ts
    stale_after = engine.settings.server.stale_after_seconds
    return {
        "now": _iso(now),
        "last_event_at": _iso(last if last is not None else float("-inf")),
        "source": source,
        "stale_after_seconds": stale_after,
        "stale": last is not None and now - last > stale_after,
        "windows": list(engine.settings.windows),
        "queues": [_tile(engine, qc, coarse) for qc in tracked],
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
