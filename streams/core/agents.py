"""Agents: the contact stage follows each agent's state, the queue stage counts agents
by state per queue and keeps their occupancy windows.
"""

from __future__ import annotations

from typing import Any

from streams.core.contract import AGENT_STATES, OVERFLOW_QUEUE
from streams.core.facts import FactSink
from streams.core.intake import Event
from streams.core.pipeline import PipelineStats
from streams.core.settings import Settings
from streams.core.windows import BucketRing, day_bounds

STATE_INDEX = {s: i for i, s in enumerate(AGENT_STATES)}
BUSY_STATES = frozenset(("on_contact", "after_contact_work"))
COUNTED_STATES = BUSY_STATES | {"available"}


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
    """An agent as the contact stage remembers it: state, queues served, since when, and the
    source offset of the last event applied (-1 outside Kafka)."""

    __slots__ = ("offset", "queues", "reason", "since", "state")

    def __init__(self, state: str, queues: tuple[str, ...], since: float) -> None:
        self.state = state
        self.queues = queues
        self.since = since
        self.offset = -1
        self.reason: str | None = None


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
        return ["agent", agent.offset, agent.state, list(agent.queues), agent.since, agent.reason]

    def restore(self, agent_id: str, value: list[Any]) -> None:
        _, offset, state, queues, since = value[:5]
        agent = Agent(state, tuple(queues), since)
        agent.offset = offset
        agent.reason = value[5] if len(value) > 5 else None  # stored before version 1.1
        self.agents[agent_id] = agent

    def apply(self, event: Event) -> None:
        """An agent.state event; `queues` absent means the agent's queues are unchanged."""
        agent_id = event.agent_id
        if agent_id is None:
            raise ValueError(f"{event.event_id}: agent.state without agent_id")
        state = event.state
        ts = event.ts
        agent = self.agents.get(agent_id)
        if agent is None:
            queues = event.agent_queues or ()
            agent = self.agents[agent_id] = Agent(state, queues, ts)
            agent.offset = self.offset
            agent.reason = event.reason
            for name in queues:
                self.sink.agent_state(name, agent_id, state, ts)
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
            self.sink.agent_state(name, agent_id, state, ts)
        agent.state = state
        agent.queues = queues
        agent.reason = event.reason
        agent.since = ts


class QueueAgents:
    """One queue's agents: each agent's current state and since when, counts by state, and
    occupancy time in buckets and for today."""

    __slots__ = ("agents", "counts", "ring", "today")

    def __init__(self, ring: BucketRing[AgentTime]) -> None:
        self.agents: dict[str, tuple[str, float]] = {}
        self.counts = [0] * len(AGENT_STATES)
        self.ring = ring
        self.today = AgentTime()

    def snapshot(self) -> dict[str, Any]:
        return {
            "agents": [[a, s, since] for a, (s, since) in self.agents.items()],
            "counts": self.counts,
            "today": self.today.snapshot(),
            "ring": self.ring.snapshot(AgentTime.snapshot),
        }

    def restore(self, value: dict[str, Any], same_day: bool, now: float) -> None:
        """Put a stored value back; today's times only if stored on the same local day."""
        self.agents = {a: (s, since) for a, s, since in value["agents"]}
        self.counts = list(value["counts"])
        self.today = AgentTime.restore(value["today"]) if same_day else AgentTime()
        self.ring.restore(value["ring"], AgentTime.restore, now)


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
        """The agent is in `state` for `queue` from `ts` on (None: it left the queue)."""
        if ts > self.now:
            ts = self.now
        found = self._queue(queue)
        key = agent_id if queue in self.queues else queue + "\x00" + agent_id  # folded
        previous = found.agents.get(key)
        if previous is not None:
            old_state, since = previous
            self._close_interval(found, old_state, since, ts)
            found.counts[STATE_INDEX[old_state]] -= 1
        if state is None:
            found.agents.pop(key, None)
            return
        found.agents[key] = (state, ts)
        found.counts[STATE_INDEX[state]] += 1

    def _close_interval(self, found: QueueAgents, state: str, since: float, end: float) -> None:
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
        for state, since in queue.agents.values():
            if state in COUNTED_STATES:
                for window, start in starts.items():
                    running = now - max(since, start)
                    if running > 0:
                        merged[window].add(state, running)
        return {w: merged[w] for w in self.settings.windows}
