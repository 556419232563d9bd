"""The floor's view as text for an 80-column terminal (`floorwatch board`): queues (live
and asynchronous apart), agents, contacts at risk and breached, staffing moves. Pure: the
API's JSON in, lines out; the same duration format and windows as the wallboard.
"""

from __future__ import annotations

import textwrap
from typing import Any

from streams.read.floor import duration_text

WIDTH = 80
CHANNEL = {"voice": "voice", "chat": "chat", "email": "email", "messaging": "msg", "social": "soc"}
STATE = {
    "available": "free",
    "on_contact": "on",
    "after_contact_work": "acw",
    "away": "away",
    "offline": "off",
}
SLA = {"answer": "answer", "first_response": "1st rep", "resolution": "resolve"}
LIVE = ("voice", "chat")


Columns = tuple[tuple[str, int], ...]


def _table(columns: Columns, rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned cells cut to their width, one space apart, trailing blanks trimmed."""
    header = " ".join(f"{name:<{w}.{w}}" for name, w in columns).rstrip()
    out = [header, "-" * len(header)]
    for cells in rows:
        out.append(" ".join(f"{c:<{w}.{w}}" for c, (_, w) in zip(cells, columns, strict=True)))
        out[-1] = out[-1].rstrip()
    return out


def _fit(lines: list[str]) -> str:
    """Lines of at most WIDTH columns: tables are cut to fit already, prose wraps."""
    out: list[str] = []
    for line in lines:
        out += textwrap.wrap(line, WIDTH, subsequent_indent="  ") if len(line) > WIDTH else [line]
    return "\n".join(out)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _pair(counts: dict[str, int] | None) -> str:
    return "-" if counts is None else f"{counts['at_risk']}·{counts['breached']}"


def _status(tile: dict[str, Any]) -> str:
    """The tile's status as an icon and a word (as the wallboard's badge, shorter)."""
    status = tile.get("status", {})
    overall = status.get("overall", "green")
    if overall == "green":
        return "✔ ok"
    sla = status.get("sla")
    if sla is None:  # a tile of a worker from before the floor's view: its totals
        counts = tile.get("sla", {})
        sla = "red" if counts.get("breached") else "amber" if counts.get("at_risk") else "green"
    if sla == "red":
        return "✖ late"
    if sla == overall:
        return "⚠ risk"
    return "▼ low" if overall == "red" else "▼ near"


def recent_window(board: dict[str, Any], window: str | None = None) -> str | None:
    """The service-level window shown first: the one asked for, else 15m like the
    wallboard when the board serves it, else its first."""
    windows = board.get("windows") or []
    if window:
        return window
    if "15m" in windows:
        return "15m"
    return windows[0] if windows else None


def _need(tile: dict[str, Any]) -> str:
    staffing = tile.get("staffing")
    if not staffing:
        return "-"
    return f"{staffing['required_agents']}/{staffing['staffed_agents']}"


def render_board(board: dict[str, Any], window: str | None = None) -> str:
    """Live queues (voice, chat) then asynchronous ones, each with its own columns."""
    recent = recent_window(board, window)
    day = "today" if "today" in (board.get("windows") or []) else None
    head = f"floorwatch board  now {board.get('now') or '-'}  SL window {recent or '-'}"
    if "workers" in board:
        head += f"  workers {len(board['workers'])}"
    if board.get("stale"):
        head += "  STALE"
    lines = [head]
    tiles = board.get("queues", [])
    live = [t for t in tiles if t["channel"] in LIVE]
    deferred = [t for t in tiles if t["channel"] not in LIVE]
    if live or not deferred:
        rows: list[tuple[str, ...]] = []
        for t in live:
            windows = t.get("windows", {})
            by_kind = t.get("sla", {}).get("by_kind", {})
            rows.append(
                (
                    t["queue"],
                    CHANNEL.get(t["channel"], t["channel"]),
                    str(t["live"]["waiting"]),
                    duration_text(t["live"]["longest_wait_seconds"]),
                    _percent(windows.get(recent, {}).get("service_level_ratio")),
                    _percent(windows.get(day, {}).get("service_level_ratio")) if day else "-",
                    _percent(windows.get(day or recent, {}).get("abandon_ratio")),
                    _pair(by_kind.get("answer")),
                    _need(t),
                    _status(t),
                )
            )
        columns: Columns = (
            ("queue", 14),
            ("chan", 5),
            ("wait", 4),
            ("longst", 6),
            (f"SL{recent or ''}", 6),
            ("today", 5),
            ("aband", 5),
            ("ans ⚠·✖", 7),
            ("need", 7),
            ("status", 6),
        )
        lines += _table(columns, rows)
    if deferred:
        if live:
            lines.append("")
        rows = []
        for t in deferred:
            d = t.get("windows", {}).get(day or recent or "", {})
            by_kind = t.get("sla", {}).get("by_kind", {})
            rows.append(
                (
                    t["queue"],
                    CHANNEL.get(t["channel"], t["channel"]),
                    str(t["live"].get("open", sum(t["live"].get("backlog", {}).values()))),
                    duration_text(t["live"].get("oldest_open_seconds")),
                    duration_text(d.get("first_response_seconds_average")),
                    duration_text(d.get("first_response_seconds_p90")),
                    str(d.get("resolved_contacts", "-")),
                    _pair(by_kind.get("first_response")),
                    _pair(by_kind.get("resolution")),
                    _need(t),
                    _status(t),
                )
            )
        columns = (
            ("queue", 14),
            ("chan", 5),
            ("open", 5),
            ("oldest", 6),
            ("reply⌀", 6),
            ("p90", 6),
            ("done", 4),
            ("rep⚠·✖", 6),
            ("res⚠·✖", 6),
            ("need", 6),
            ("status", 6),
        )
        lines += _table(columns, rows)
    if not tiles:
        lines.append("(no queues yet)")
    return _fit(lines)


def render_agents(listing: dict[str, Any]) -> str:
    """The agents list: state, reason, time in state (⚠/✖ past the thresholds), queues,
    live contacts, handled today, AHT, missed offers."""
    by_state = listing.get("by_state", {})
    counts = "  ".join(f"{STATE.get(s, s)} {n}" for s, n in by_state.items())
    lines = [f"agents {listing.get('total', 0)}  {counts}  (now {listing.get('now') or '-'})"]
    rows: list[tuple[str, ...]] = []
    for a in listing.get("agents", []):
        mark = {"red": "✖", "amber": "⚠"}.get(a.get("alert") or "", "")
        rows.append(
            (
                a["agent_id"],
                STATE.get(a["state"], a["state"]),
                a.get("reason") or "",
                (mark + duration_text(a["seconds_in_state"])),
                ",".join(a.get("queues", [])),
                str(len(a.get("contacts", []))),
                str(a.get("handled_today", 0)),
                duration_text(a.get("handle_seconds_average")),
                str(a.get("missed_today", 0)),
            )
        )
    columns: Columns = (
        ("agent", 16),
        ("state", 5),
        ("reason", 10),
        ("in state", 8),
        ("queues", 14),
        ("on", 2),
        ("done", 4),
        ("AHT", 6),
        ("miss", 4),
    )
    lines += _table(columns, rows)
    if not rows:
        lines.append("(no agents)")
    return _fit(lines)


def render_contacts(listing: dict[str, Any]) -> str:
    """Contacts at risk and breached, most urgent first: time to due (negative: overdue),
    SLA, queue, channel, priority, contact, and the agent or "waiting"."""
    total = listing.get("total", 0)
    if "at_risk" in listing:
        head = f"contacts ⚠ at risk {listing['at_risk']}  ✖ breached {listing['breached']}"
    else:
        head = f"contacts at risk or breached {total}"
    lines = [f"{head}  (now {listing.get('now') or '-'})"]
    rows: list[tuple[str, ...]] = []
    for c in listing.get("contacts", []):
        mark = "✖" if c["state"] == "breached" else "⚠"
        rows.append(
            (
                mark + duration_text(c["seconds_to_due"]),
                SLA.get(c["sla"], c["sla"]),
                c["queue"],
                CHANNEL.get(c["channel"], c["channel"]),
                c["priority"],
                c["contact_id"],
                c.get("agent_id") or ("waiting" if c.get("waiting") else "-"),
            )
        )
    columns: Columns = (
        ("due", 7),
        ("sla", 7),
        ("queue", 14),
        ("chan", 5),
        ("prio", 6),
        ("contact", 20),
        ("agent", 14),
    )
    lines += _table(columns, rows)
    if not rows:
        lines.append("(none)")
    return _fit(lines)


def _level(channels: list[dict[str, Any]]) -> str:
    levels = [c["service_level"] for c in channels if c.get("service_level") is not None]
    if levels:
        return _percent(min(levels))
    staffed = max((c["staffed"] for c in channels), default=0)
    required = max((c["required"] for c in channels), default=0)
    return f"{staffed}/{required}"


def render_moves(found: dict[str, Any]) -> str:
    """Suggested moves: agent, from → to, and the service level (or staffed/required of
    an asynchronous queue) of both before → after."""
    lines = ["staffing moves (service level before→after; staffed/required for async)"]
    rows: list[tuple[str, ...]] = []
    for m in found.get("moves", []):
        rows.append(
            (
                m["agent_id"],
                m["from_queue"],
                "→ " + m["to_queue"],
                f"{_level(m['to']['before'])}→{_level(m['to']['after'])}",
                f"{_level(m['from']['before'])}→{_level(m['from']['after'])}",
            )
        )
    lines += _table((("agent", 16), ("from", 14), ("to", 16), ("to SL", 12), ("from SL", 12)), rows)
    if not rows:
        lines.append("(no move needed)" if not found.get("still_short") else "(no donor)")
    short = [f"{q['queue']} -{q['short_by']}" for q in found.get("still_short", [])]
    if short:
        lines.append("still short: " + ", ".join(short))
    return _fit(lines)
