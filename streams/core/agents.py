"""Agents: the contact stage follows each agent's state (and reason, team, queues), the
queue stage counts agents by state and reason per queue, keeps their occupancy windows and
a histogram of the time spent in each state.
"""

from __future__ import annotations

from typing import Any

from streams.core.contract import AGENT_STATES, OVERFLOW_QUEUE
from streams.core.facts import FactSink
from streams.core.histogram import Histogram
from streams.core.intake import Event
from streams.core.pipeline import PipelineStats
from streams.core.settings import Settings
from streams.core.windows import BucketRing, day_bounds

STATE_INDEX = {s: i for i, s in enumerate(AGENT_STATES)}
BUSY_STATES = frozenset(("on_contact", "after_contact_work"))
COUNTED_STATES = BUSY_STATES | {"available"}
# Bounds of the time-in-state histograms (seconds in one state before the next change).
STATE_SECONDS_BOUNDS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)

# The `agent_state` fact carries the reason of the state in its `state` text, after
# REASON_SEPARATOR ("away|lunch"): the queue stage then counts agents by reason in both
# runtimes without a new fact field. State names never hold the separator; a reason may,
# so only the first one splits.
REASON_SEPARATOR = "|"


def agent_fact_state(state: str, reason: str | None) -> str:
    """The `state` text of an `agent_state` fact: the state, with its reason if any."""
    return state if reason is None else state + REASON_SEPARATOR + reason


def split_agent_state(text: str) -> tuple[str, str | None]:
    """(state, reason) of an `agent_state` fact's `state` text."""
    cut = text.find(REASON_SEPARATOR)
    if cut < 0:
        return text, None
    return text[:cut], text[cut + 1 :]


class AgentTime:
    """Seconds the agents of one queue spent busy (on a contact or in after-contact work)
    and available, in one bucket or day; occupancy is busy / (busy + available)."""

    __slots__ = ("available", "busy")

    def __init__(self) -> None:
        self.busy = 0.0
        self.available = 0.0

    def snapshot(self) -> list[float]:
        return [self.busy, self.available]

    @staticmethod
    def restore(value: list[float]) -> AgentTime:
        t = AgentTime()
        t.busy, t.available = value
        return t

    def merge(self, other: AgentTime) -> None:
        self.busy += other.busy
        self.available += other.available

    def add(self, state: str, seconds: float) -> None:
        if state == "available":
            self.available += seconds
        else:
            self.busy += seconds

    def occupancy(self) -> float | None:
        total = self.busy + self.available
        return self.busy / total if total > 0 else None


class Agent:
    """An agent as the contact stage remembers it: state, its reason, queues served, since
    when, team, and the source offset of the last event applied (-1 outside Kafka)."""

    __slots__ = ("offset", "queues", "reason", "since", "state", "team")

    def __init__(self, state: str, queues: tuple[str, ...], since: float) -> None:
        self.state = state
        self.queues = queues
        self.since = since
        self.offset = -1
        self.reason: str | None = None
        self.team: str | None = None


class AgentTracker:
    """The contact stage for agents: one state per agent; each `agent.state` event becomes
    an `agent_state` fact for every queue the agent serves or stopped serving."""

    def __init__(self, sink: FactSink, pipeline: PipelineStats) -> None:
        self.sink = sink
        self.pipeline = pipeline
        self.agents: dict[str, Agent] = {}
        self.offset = -1  # source offset of the event in hand (-1 outside Kafka)

    def snapshot(self, agent_id: str) -> list[Any]:
        """The stored value of one agent."""
        agent = self.agents[agent_id]
        return [
            "agent",
            agent.offset,
            agent.state,
            list(agent.queues),
            agent.since,
            agent.reason,
            agent.team,
        ]

    def restore(self, agent_id: str, value: list[Any]) -> None:
        _, offset, state, queues, since = value[:5]
        agent = Agent(state, tuple(queues), since)
        agent.offset = offset
        agent.reason = value[5] if len(value) > 5 else None  # stored before version 1.1
        agent.team = value[6] if len(value) > 6 else None  # stored before the floor's view
        self.agents[agent_id] = agent

    def apply(self, event: Event) -> None:
        """An agent.state event; `queues` absent means the agent's queues are unchanged."""
        agent_id = event.agent_id
        if agent_id is None:
            raise ValueError(f"{event.event_id}: agent.state without agent_id")
        state = event.state
        ts = event.ts
        fact_state = agent_fact_state(state, event.reason)
        agent = self.agents.get(agent_id)
        if agent is None:
            queues = event.agent_queues or ()
            agent = self.agents[agent_id] = Agent(state, queues, ts)
            agent.offset = self.offset
            agent.reason = event.reason
            agent.team = event.team
            for name in queues:
                self.sink.agent_state(name, agent_id, fact_state, ts)
            return
        agent.offset = self.offset
        if ts < agent.since:
            self.pipeline.late += 1
            ignored = self.pipeline.ignored
            ignored["late_agent_state"] = ignored.get("late_agent_state", 0) + 1
            return
        queues = event.agent_queues if event.agent_queues is not None else agent.queues
        for name in agent.queues:
            if name not in queues:
                self.sink.agent_state(name, agent_id, None, ts)
        for name in queues:
            self.sink.agent_state(name, agent_id, fact_state, ts)
        if state != agent.state or event.reason != agent.reason:
            agent.since = ts  # the same state and reason again (a heartbeat) keeps its start
        agent.state = state
        agent.queues = queues
        agent.reason = event.reason
        if event.team is not None:
            agent.team = event.team


class QueueAgents:
    """One queue's agents: each agent's current state, reason and since when, counts by
    state, occupancy time in buckets and for today, and time-in-state histograms."""

    __slots__ = ("agents", "counts", "ring", "state_seconds", "today")

    def __init__(self, ring: BucketRing[AgentTime]) -> None:
        # agent id -> (state, since, reason)
        self.agents: dict[str, tuple[str, float, str | None]] = {}
        self.counts = [0] * len(AGENT_STATES)
        self.ring = ring
        self.today = AgentTime()
        self.state_seconds = [Histogram(STATE_SECONDS_BOUNDS) for _ in AGENT_STATES]

    def snapshot(self) -> dict[str, Any]:
        return {
            "agents": [[a, s, since, reason] for a, (s, since, reason) in self.agents.items()],
            "counts": self.counts,
            "today": self.today.snapshot(),
            "ring": self.ring.snapshot(AgentTime.snapshot),
            "state_seconds": [h.snapshot() for h in self.state_seconds],
        }

    def restore(self, value: dict[str, Any], same_day: bool, now: float) -> None:
        """Put a stored value back; today's times only if stored on the same local day.
        Values stored before reasons and histograms were kept read back without them."""
        self.agents = {
            row[0]: (row[1], row[2], row[3] if len(row) > 3 else None) for row in value["agents"]
        }
        self.counts = list(value["counts"])
        self.today = AgentTime.restore(value["today"]) if same_day else AgentTime()
        self.ring.restore(value["ring"], AgentTime.restore, now)
        stored = value.get("state_seconds")
        if stored is not None:
            self.state_seconds = [Histogram.restore(h) for h in stored]

    def by_reason(self, reasons: frozenset[str]) -> dict[tuple[str, str], int]:
        """(state, reason label) -> agents: a reason outside `reasons` is "other", none is
        "none"."""
        out: dict[tuple[str, str], int] = {}
        for state, _, reason in self.agents.values():
            if reason is None:
                label = "none"
            elif reason in reasons:
                label = reason
            else:
                label = "other"
            key = (state, label)
            out[key] = out.get(key, 0) + 1
        return out


# Occupancy = (on_contact + after_contact_work time) / (that + available time) of the
# queue's agents. Finished state intervals are split across the time buckets they cover;
# the interval still running is added at read time, so a window is exact to the second.
class QueueAgentBoard:
    """The queue stage for agents: a `QueueAgents` per queue fed by `agent_state` facts
    (capped like queue x channels, the rest folded into `_overflow`), with the local day."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bucket_seconds = settings.engine.bucket_seconds
        windows = settings.window_seconds()
        self.trailing = {n: s for n, s in windows.items() if s is not None}
        self.ring_slots = max([*self.trailing.values(), self.bucket_seconds]) // self.bucket_seconds
        self.zone = settings.zone
        self.day_starts_at = settings.day_starts_at_minutes
        self.max_queues = settings.engine.max_queue_channels
        self.queues: dict[str, QueueAgents] = {}
        self.now = float("-inf")
        self.day_start = self.day_end = float("-inf")
        self.changes = 0  # counts every change of agent state (readers cache on it)

    def advance(self, now: float) -> None:
        if now <= self.now:
            return
        self.now = now
        if now >= self.day_end:
            self.day_start, self.day_end = day_bounds(now, self.zone, self.day_starts_at)
            for queue in self.queues.values():
                queue.today = AgentTime()

    def new_queue(self) -> QueueAgents:
        return QueueAgents(BucketRing(self.bucket_seconds, self.ring_slots, AgentTime))

    def _queue(self, name: str) -> QueueAgents:
        found = self.queues.get(name)
        if found is None:
            if len(self.queues) >= self.max_queues and name != OVERFLOW_QUEUE:
                return self._queue(OVERFLOW_QUEUE)
            found = self.queues[name] = self.new_queue()
        return found

    def agent_state(self, queue: str, agent_id: str, state: str | None, ts: float) -> None:
        """The agent is in `state` for `queue` from `ts` on (None: it left the queue).
        `state` may carry a reason ("away|lunch", see `agent_fact_state`)."""
        if ts > self.now:
            ts = self.now
        found = self._queue(queue)
        key = agent_id if queue in self.queues else queue + "\x00" + agent_id  # folded
        previous = found.agents.get(key)
        reason: str | None = None
        if state is not None:
            state, reason = split_agent_state(state)
        if previous is not None:
            old_state, since, old_reason = previous
            if old_state == state and old_reason == reason:
                return  # the same state again: its interval goes on
            self._close_interval(found, old_state, since, ts)
            found.counts[STATE_INDEX[old_state]] -= 1
        self.changes += 1
        if state is None:
            found.agents.pop(key, None)
            return
        found.agents[key] = (state, ts, reason)
        found.counts[STATE_INDEX[state]] += 1

    def _close_interval(self, found: QueueAgents, state: str, since: float, end: float) -> None:
        if end > since:
            found.state_seconds[STATE_INDEX[state]].observe(end - since)
        if state not in COUNTED_STATES or end <= since:
            return
        if end > self.day_start:
            found.today.add(state, end - max(since, self.day_start))
        self._spread(found.ring, state, since, end)

    def _spread(self, ring: BucketRing[AgentTime], state: str, start: float, end: float) -> None:
        size = self.bucket_seconds
        reach = float((int(self.now // size) - self.ring_slots + 1) * size)
        t = max(start, reach)
        while t < end:
            bucket_end = (t // size + 1) * size
            piece_end = min(bucket_end, end)
            bucket = ring.at(t, self.now)
            if bucket is not None:
                bucket.add(state, piece_end - t)
            t = piece_end

    def occupancy(self, name: str) -> dict[str, AgentTime]:
        """Window name -> busy/available seconds of the queue's agents, up to now."""
        queue = self.queues[name]
        now = self.now
        merged = queue.ring.trailing(now, self.trailing, AgentTime.merge)
        current = int(now // self.bucket_seconds)
        starts = {
            n: float((current - s // self.bucket_seconds + 1) * self.bucket_seconds)
            for n, s in self.trailing.items()
        }
        if "today" in self.settings.windows:
            today = AgentTime()
            today.merge(queue.today)
            merged["today"] = today
            starts["today"] = self.day_start
        for state, since, _ in queue.agents.values():
            if state in COUNTED_STATES:
                for window, start in starts.items():
                    running = now - max(since, start)
                    if running > 0:
                        merged[window].add(state, running)
        return {w: merged[w] for w in self.settings.windows}
