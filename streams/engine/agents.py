"""Agents by state per queue, and occupancy windows per queue.

Occupancy = (on_contact + after_contact_work time) / (that + available time) of the
queue's agents. Finished state intervals are split across the time buckets they cover;
the interval still running is added at read time, so a window is exact to the second.
"""

from __future__ import annotations

from streams.config import Settings
from streams.contract import AGENT_STATES, OVERFLOW_QUEUE
from streams.engine.pipeline import PipelineStats
from streams.engine.windows import BucketRing, day_bounds
from streams.intake import Event

STATE_INDEX = {s: i for i, s in enumerate(AGENT_STATES)}
BUSY_STATES = frozenset(("on_contact", "after_contact_work"))
COUNTED_STATES = BUSY_STATES | {"available"}


class AgentTime:
    """Seconds agents of one queue spent busy and available in some span."""

    __slots__ = ("available", "busy")

    def __init__(self) -> None:
        self.busy = 0.0
        self.available = 0.0

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
    __slots__ = ("queues", "since", "state")

    def __init__(self, state: str, queues: tuple[str, ...], since: float) -> None:
        self.state = state
        self.queues = queues
        self.since = since


class QueueAgents:
    __slots__ = ("counts", "ring", "today")

    def __init__(self, ring: BucketRing[AgentTime]) -> None:
        self.counts = [0] * len(AGENT_STATES)
        self.ring = ring
        self.today = AgentTime()


class AgentBoard:
    def __init__(self, settings: Settings, pipeline: PipelineStats) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.bucket_seconds = settings.engine.bucket_seconds
        windows = settings.window_seconds()
        self.trailing = {n: s for n, s in windows.items() if s is not None}
        self.ring_slots = max([*self.trailing.values(), self.bucket_seconds]) // self.bucket_seconds
        self.zone = settings.zone
        self.max_queues = settings.engine.max_queue_channels
        self.agents: dict[str, Agent] = {}
        self.queues: dict[str, QueueAgents] = {}
        self.now = float("-inf")
        self.day_start = self.day_end = float("-inf")

    def advance(self, now: float) -> None:
        if now <= self.now:
            return
        self.now = now
        if now >= self.day_end:
            self.day_start, self.day_end = day_bounds(now, self.zone)
            for queue in self.queues.values():
                queue.today = AgentTime()

    def _queue(self, name: str) -> QueueAgents:
        found = self.queues.get(name)
        if found is None:
            if len(self.queues) >= self.max_queues and name != OVERFLOW_QUEUE:
                return self._queue(OVERFLOW_QUEUE)
            ring: BucketRing[AgentTime] = BucketRing(
                self.bucket_seconds, self.ring_slots, AgentTime
            )
            found = self.queues[name] = QueueAgents(ring)
        return found

    def apply(self, event: Event) -> None:
        """An agent.state event; `queues` absent means the agent's queues are unchanged."""
        ts = min(event.ts, self.now)
        agent = self.agents.get(event.agent_id)
        state = event.state
        if agent is None:
            queues = event.agent_queues or ()
            self.agents[event.agent_id] = Agent(state, queues, ts)
            for name in queues:
                self._queue(name).counts[STATE_INDEX[state]] += 1
            return
        if event.ts < agent.since:
            self.pipeline.late += 1
            ignored = self.pipeline.ignored
            ignored["late_agent_state"] = ignored.get("late_agent_state", 0) + 1
            return
        self._close_interval(agent, ts)
        for name in agent.queues:
            self._queue(name).counts[STATE_INDEX[agent.state]] -= 1
        if event.agent_queues is not None:
            agent.queues = event.agent_queues
        agent.state = state
        agent.since = ts
        for name in agent.queues:
            self._queue(name).counts[STATE_INDEX[state]] += 1

    def _close_interval(self, agent: Agent, end: float) -> None:
        if agent.state not in COUNTED_STATES or end <= agent.since:
            return
        for name in agent.queues:
            queue = self._queue(name)
            if end > self.day_start:
                queue.today.add(agent.state, end - max(agent.since, self.day_start))
            self._spread(queue.ring, agent.state, agent.since, end)

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
        for agent in self.agents.values():
            if agent.state in COUNTED_STATES and name in agent.queues:
                for window, start in starts.items():
                    running = now - max(agent.since, start)
                    if running > 0:
                        merged[window].add(agent.state, running)
        return {w: merged[w] for w in self.settings.windows}
