"""What the floor's view reads from either runtime: the agent and contact sides of the
contact stage (one in an Engine, one per owned input partition in a worker), the team of
each queue, and the one duration format of the wallboard, the board and the API docs.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from streams.core.agents import AgentTracker
from streams.core.contacts import ContactTracker
from streams.core.engine import Engine
from streams.read.view import ReadView


def contact_sides(view: ReadView) -> list[tuple[AgentTracker, ContactTracker]]:
    """The contact stage's agent and contact trackers of a view: the Engine's one pair, or
    a worker's, one per input partition it owns (a WorkerView's `partitions`)."""
    if isinstance(view, Engine):
        return [(view.agent_tracker, view.contacts)]
    sides = getattr(view, "contact_sides", None)
    if callable(sides):
        found: list[tuple[AgentTracker, ContactTracker]] = sides()
        return found
    partitions: dict[int, Any] = getattr(view, "partitions", {})
    return [(stage.agents, stage.contacts) for _, stage in sorted(partitions.items())]


def queue_teams(view: ReadView) -> dict[str, str]:
    """Queue -> team: of its latest contact naming one, else of its targets (normal)."""
    teams: dict[str, str] = {}
    for qc in view.queues.tracked:
        team = qc.team or view.targets.get(qc.queue, qc.channel, "normal").team
        if team is not None and qc.queue not in teams:
            teams[qc.queue] = team
    return teams


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> RFC 3339 UTC with milliseconds (None for no time)."""
    if ts is None or not math.isfinite(ts):
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration_text(seconds: float | None) -> str:
    """The one duration format, at most 6 characters: m:ss under an hour (0:45, 12:05),
    then hours and minutes (1h02, 23h59), then days and hours (3d04h); an overdue time
    keeps its sign (-2:10). None is "-"."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    sign = "-" if seconds < 0 else ""
    s = round(abs(seconds))
    if s >= 86400:
        return f"{sign}{s // 86400}d{(s % 86400) // 3600:02d}h"
    if s >= 3600:
        return f"{sign}{s // 3600}h{(s % 3600) // 60:02d}"
    return f"{sign}{s // 60}:{s % 60:02d}"


def split_list(text: str | None) -> frozenset[str] | None:
    """A filter given as "a,b" -> {"a", "b"}; None or empty -> None (no filter)."""
    if not text:
        return None
    items = frozenset(part.strip() for part in text.split(",") if part.strip())
    return items or None
