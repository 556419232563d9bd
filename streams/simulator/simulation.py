"""Discrete-event simulation of a contact centre, emitting Floorwatch input events.

Contacts wait in their queue until an agent with the skill is free, or abandon when their
patience runs out: waits and abandonment come from the queueing, never from a formula.
Randomness is seeded per purpose, so the same seed gives byte-identical output.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections import deque
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from streams.core.contract import PRIORITIES
from streams.simulator.noise import Emission, add_noise, plain
from streams.simulator.queue_log import QueueLogWriter
from streams.simulator.scenario import (
    AgentGroup,
    Duration,
    QueueSpec,
    Scenario,
    load_scenario,
    shift_hours,
)

__all__ = ["TIME_FORMATS", "Simulation", "format_rfc3339_ms"]

TIME_FORMATS = ("rfc3339", "epoch_ms")

AVAILABLE = "available"
ON_CONTACT = "on_contact"
AFTER_CONTACT_WORK = "after_contact_work"
AWAY = "away"
OFFLINE = "offline"

# Contact states (internal).
_WAITING, _TALKING, _WRAPPING, _WORKING, _PENDING, _RESOLVED, _DONE, _ABANDONED = range(8)

# Kinds of scheduled happenings. One heap of them (arrivals, patience running out, talk and
# work ending, shifts and breaks, customer replies, surveys) is processed in time order.
(
    _ARRIVAL,
    _ABANDON,
    _OVERFLOW,
    _GREETING,
    _TRANSFER,
    _TALK_END,
    _WRAP_END,
    _WORK_END,
    _CUSTOMER_REPLY,
    _REOPEN,
    _SURVEY,
    _SHIFT_START,
    _SHIFT_END,
    _BREAK_START,
    _BREAK_END,
) = range(15)

_RANK = {p: i for i, p in enumerate(PRIORITIES)}  # urgent 0 ... low 3
_DAY = 86400.0


def format_rfc3339_ms(ms: int) -> str:
    """Epoch milliseconds -> ``2026-11-22T09:15:02.125Z``."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


# Randomness is seeded per purpose, never global: arrivals per queue (`_Queue.rng`), one
# stream per contact (`_Contact.rng`: patience, handle time, transfer, survey...) and one
# per agent (`_Agent.rng`: break times). So the same seed gives byte-identical output, and
# changing the staffing leaves the arrivals and each customer's patience and needs
# unchanged.
class _Contact:
    __slots__ = (
        "agent",
        "deadline",
        "first_entry",
        "first_response_at",
        "id",
        "overflowed",
        "priority",
        "queue",
        "rank",
        "reopened",
        "responses",
        "rng",
        "since",
        "state",
        "talk",
        "token",
        "transfer_pending",
        "transferred",
        "waited",
    )

    def __init__(self, cid: str, queue: _Queue, rng: random.Random, priority: str, t: float):
        self.id = cid
        self.queue = queue
        self.rng = rng
        self.priority = priority
        self.rank = _RANK[priority]
        self.state = _WAITING
        self.token = 0
        self.since = t
        self.first_entry = t
        self.deadline = math.inf
        self.agent: _Agent | None = None
        self.talk = 0.0
        self.waited = 0.0
        self.transferred = False
        self.transfer_pending = False
        self.overflowed = False
        self.responses = 0
        self.reopened = False
        self.first_response_at: float | None = None


class _Queue:
    __slots__ = ("agents", "arrivals", "count", "index", "live", "rng", "spec", "waiting")

    def __init__(self, spec: QueueSpec, index: int, seed: int) -> None:
        self.spec = spec
        self.index = index
        self.live = spec.live
        self.rng = random.Random(f"{seed}:arrivals:{spec.name}:{spec.channel}")
        self.count = 0
        self.agents: list[_Agent] = []
        # One FIFO per priority; entries (contact, token), stale when the token moved on.
        self.waiting: tuple[deque[tuple[_Contact, int]], ...] = tuple(deque() for _ in PRIORITIES)


class _Agent:
    __slots__ = (
        "break_no",
        "current",
        "group",
        "id",
        "idle_since",
        "on_shift",
        "pending_break",
        "queue_names",
        "queues",
        "rng",
        "shift",
        "shift_no",
        "state",
        "team",
    )

    def __init__(self, aid: str, group: AgentGroup, shift: tuple[float, float], seed: int) -> None:
        self.id = aid
        self.group = group
        self.shift = shift
        self.team = group.team
        self.rng = random.Random(f"{seed}:agent:{aid}")
        self.queues: list[_Queue] = []  # live queues first, then async, scenario order
        self.queue_names: list[str] = []
        self.state = ""
        self.idle_since = 0.0
        self.on_shift = False
        self.shift_no = 0
        self.break_no = 0
        self.pending_break = 0.0
        self.current: _Contact | None = None


class _LocalTime:
    """Local hour of the day and local wall times in the scenario's time zone."""

    def __init__(self, name: str) -> None:
        self.utc = name == "UTC"
        self.zone = ZoneInfo(name)
        self._offsets: dict[int, float] = {}

    def offset(self, t: float) -> float:
        if self.utc:
            return 0.0
        key = int(t // 900)
        value = self._offsets.get(key)
        if value is None:
            delta = datetime.fromtimestamp(key * 900, self.zone).utcoffset()
            value = delta.total_seconds() if delta is not None else 0.0
            if len(self._offsets) > 100_000:
                self._offsets.clear()
            self._offsets[key] = value
        return value

    def hour(self, t: float) -> float:
        return ((t + self.offset(t)) % _DAY) / 3600.0

    def day(self, t: float) -> date:
        return datetime.fromtimestamp(t, self.zone).date()

    def at(self, day: date, hour: float) -> float:
        """Epoch seconds of local wall time `hour` (may exceed 24) on `day`."""
        local = datetime(day.year, day.month, day.day) + timedelta(hours=hour)
        return local.replace(tzinfo=self.zone).timestamp()


def _lognormal(rng: random.Random, duration: Duration) -> float:
    if duration.mean <= 0:
        return 0.0
    if duration.sigma <= 0:
        return duration.mean
    return rng.lognormvariate(duration.mu, duration.sigma)


def _exponential(rng: random.Random, mean: float) -> float:
    if math.isinf(mean):
        return math.inf
    if mean <= 0:
        return 0.0
    return rng.expovariate(1.0 / mean)


class _Run:
    """The state of one simulation run; `Simulation.events` makes a fresh one each time."""

    def __init__(self, sim: Simulation) -> None:
        scenario = sim.scenario
        self.seed = sim.seed
        self.start = sim.start_epoch
        self.epoch_ms = sim.time_format == "epoch_ms"
        self.prefix = sim.id_prefix
        self.local = _LocalTime(scenario.timezone)
        self.heap: list[tuple[float, int, int, Any, Any]] = []
        self.seq = 0
        self.now = self.start
        self.out: list[tuple[float, dict[str, Any]]] = []
        self.event_no = 0
        self.contact_no = 0
        self._ts_second = -1
        self._ts_prefix = ""
        self.queues = [_Queue(spec, i, self.seed) for i, spec in enumerate(scenario.queues)]
        self.by_key = {q.spec.key: q for q in self.queues}
        self.agents: list[_Agent] = []
        for group in scenario.agents:
            width = max(2, len(str(group.count)))
            for i in range(group.count):
                agent = _Agent(
                    f"{group.name}-{i + 1:0{width}d}",
                    group,
                    group.shifts[i % len(group.shifts)],
                    self.seed,
                )
                served = [q for q in self.queues if group.serves(q.spec)]
                agent.queues = [q for q in served if q.live] + [q for q in served if not q.live]
                agent.queue_names = list(dict.fromkeys(q.spec.name for q in served))
                for q in served:
                    q.agents.append(agent)
                self.agents.append(agent)
        self.handlers = (
            self._arrival,
            self._abandon,
            self._overflow,
            self._greeting,
            self._transfer,
            self._talk_end,
            self._wrap_end,
            self._work_end,
            self._customer_reply,
            self._reopen,
            self._survey,
            self._shift_start,
            self._shift_end,
            self._break_start,
            self._break_end,
        )

    # ------------------------------------------------------------------ plumbing

    def push(self, t: float, kind: int, obj: Any = None, arg: Any = None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, obj, arg))

    def timestamp(self, t: float) -> str | int:
        ms = int(t * 1000.0 + 0.5)
        if self.epoch_ms:
            return ms
        second, millis = divmod(ms, 1000)
        if second != self._ts_second:
            self._ts_second = second
            self._ts_prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
        return f"{self._ts_prefix}{millis:03d}Z"

    def event(self, type_: str) -> dict[str, Any]:
        """A new event at `now` with the next event id (ids follow the output order)."""
        self.event_no += 1
        return {
            "event_id": f"{self.prefix}-e{self.event_no}",
            "type": type_,
            "occurred_at": self.timestamp(self.now),
        }

    def contact_event(self, type_: str, c: _Contact) -> dict[str, Any]:
        ev = self.event(type_)
        ev["contact_id"] = c.id
        self.out.append((self.now, ev))
        return ev

    def queued_event(self, c: _Contact, q: _Queue) -> None:
        ev = self.contact_event("contact.queued", c)
        ev["queue"] = q.spec.name
        ev["channel"] = q.spec.channel
        ev["priority"] = c.priority
        if q.spec.team is not None:
            ev["team"] = q.spec.team

    def set_state(self, agent: _Agent, state: str) -> None:
        if agent.state == state:
            return
        agent.state = state
        ev = self.event("agent.state")
        ev["agent_id"] = agent.id
        ev["state"] = state
        ev["queues"] = list(agent.queue_names)
        if agent.team is not None:
            ev["team"] = agent.team
        self.out.append((self.now, ev))

    # ------------------------------------------------------------------ start

    def begin(self) -> None:
        """Initial agent states and the first arrival of every queue."""
        t = self.start
        for agent in self.agents:
            start, end = self.shift_around(agent, t)
            if start <= t:
                self.push(t, _SHIFT_START, agent, (start, end))
            else:
                self.set_state(agent, OFFLINE)
                self.push(start, _SHIFT_START, agent, (start, end))
        for q in self.queues:
            self.schedule_arrival(q, t)

    def shift_around(self, agent: _Agent, t: float) -> tuple[float, float]:
        """The first occurrence of the agent's shift that ends after `t`."""
        start_hour = agent.shift[0]
        length = shift_hours(agent.shift) * 3600.0
        day = self.local.day(t) - timedelta(days=1)
        for _ in range(5):
            start = self.local.at(day, start_hour)
            end = start + length
            if end > t + 1e-6:
                return start, end
            day += timedelta(days=1)
        raise AssertionError("no shift found")  # pragma: no cover (length > 0 validated)

    # ------------------------------------------------------------------ arrivals

    def schedule_arrival(self, q: _Queue, t: float) -> None:
        """Next arrival by thinning: candidates at the profile's peak rate, each kept with
        probability rate(t) / peak (a non-homogeneous Poisson process)."""
        profile = q.spec.arrivals
        peak = profile.max_rate
        if peak <= 0:
            return
        rng = q.rng
        per_second = peak / 3600.0
        hour = self.local.hour
        for _ in range(1_000_000):
            t += rng.expovariate(per_second)
            if rng.random() * peak < profile.rate(hour(t)):
                self.push(t, _ARRIVAL, q)
                return

    def _arrival(self, q: _Queue, _arg: Any) -> None:
        spec = q.spec
        rng = random.Random(f"{self.seed}:contact:{spec.name}:{spec.channel}:{q.count}")
        q.count += 1
        self.contact_no += 1
        if len(spec.priority) == 1:
            priority = spec.priority[0][0]
        else:
            names = [p for p, _ in spec.priority]
            priority = rng.choices(names, [w for _, w in spec.priority])[0]
        c = _Contact(f"{self.prefix}-c{self.contact_no}", q, rng, priority, self.now)
        c.deadline = self.now + _exponential(rng, spec.patience_seconds)
        self.queued_event(c, q)
        self.enqueue(c, q)
        self.schedule_arrival(q, self.now)

    # ------------------------------------------------------------------ queueing

    def enqueue(self, c: _Contact, q: _Queue) -> None:
        """The contact waits in `q` from now (a `contact.queued` was emitted if due)."""
        t = self.now
        c.queue = q
        c.state = _WAITING
        c.token += 1
        c.since = t
        best: _Agent | None = None
        for agent in q.agents:
            if agent.state == AVAILABLE and (best is None or agent.idle_since < best.idle_since):
                best = agent
        if best is not None:
            self.assign(best, c)
            return
        line = q.waiting[c.rank]
        while line and (line[0][0].token != line[0][1] or line[0][0].state != _WAITING):
            line.popleft()  # drop abandoned or moved contacts at the head
        line.append((c, c.token))
        if c.deadline < math.inf:
            self.push(max(c.deadline, t), _ABANDON, c, c.token)
        after = q.spec.overflow_after_seconds
        if after is not None and not c.overflowed and c.deadline > t + after:
            self.push(t + after, _OVERFLOW, c, c.token)

    def assign(self, agent: _Agent, c: _Contact) -> None:
        if c.queue.live:
            self.answer(agent, c)
        else:
            self.start_work(agent, c)

    def next_contact(self, agent: _Agent) -> _Contact | None:
        """The agent's next contact: live before async, then priority, then longest waiting."""
        best: deque[tuple[_Contact, int]] | None = None
        best_key: tuple[bool, int, float] | None = None
        for q in agent.queues:
            for rank, line in enumerate(q.waiting):
                while line and (line[0][0].token != line[0][1] or line[0][0].state != _WAITING):
                    line.popleft()
                if line:
                    key = (not q.live, rank, line[0][0].since)
                    if best_key is None or key < best_key:
                        best_key = key
                        best = line
                    break
        if best is None:
            return None
        return best.popleft()[0]

    def free(self, agent: _Agent) -> None:
        """The agent finished a piece of work (or a break, or starts a shift)."""
        agent.current = None
        if not agent.on_shift:
            agent.pending_break = 0.0
            self.set_state(agent, OFFLINE)
            return
        if agent.pending_break > 0:
            seconds = agent.pending_break
            agent.pending_break = 0.0
            self.go_away(agent, seconds)
            return
        c = self.next_contact(agent)
        if c is not None:
            self.assign(agent, c)
            return
        agent.idle_since = self.now
        self.set_state(agent, AVAILABLE)

    # ------------------------------------------------------------------ live contacts

    def answer(self, agent: _Agent, c: _Contact) -> None:
        t = self.now
        spec = c.queue.spec
        rng = c.rng
        c.state = _TALKING
        c.token += 1
        c.agent = agent
        c.waited += t - c.since
        agent.current = c
        self.set_state(agent, ON_CONTACT)  # before the answer: the agent is on it when it lands
        ev = self.contact_event("contact.answered", c)
        ev["agent_id"] = agent.id
        talk = max(5.0, _lognormal(rng, spec.handle))
        if not c.transferred and spec.transfer_share > 0 and rng.random() < spec.transfer_share:
            segment = talk * rng.uniform(0.15, 0.5)
            self.push(t + segment, _TRANSFER, c, agent)
        else:
            segment = talk
            c.talk = talk
            self.push(t + talk, _TALK_END, c, agent)
        if spec.channel == "chat":
            greeting = min(_exponential(rng, spec.first_response_seconds), segment * 0.5)
            self.push(t + greeting, _GREETING, c, agent)

    def _greeting(self, c: _Contact, agent: _Agent) -> None:
        ev = self.contact_event("contact.responded", c)
        ev["agent_id"] = agent.id
        c.responses += 1
        if c.first_response_at is None:
            c.first_response_at = self.now

    def _transfer(self, c: _Contact, agent: _Agent) -> None:
        """The agent hands the live contact over to another queue (cold transfer)."""
        spec = c.queue.spec
        rng = c.rng
        target = self.by_key[(rng.choice(spec.transfer_to), spec.channel)]
        c.transferred = True
        c.agent = None
        self.queued_event(c, target)
        agent.current = None
        self.set_state(agent, AFTER_CONTACT_WORK)
        self.push(self.now + _lognormal(rng, spec.after_contact_work) * 0.5, _WRAP_END, agent, None)
        c.deadline = self.now + _exponential(rng, target.spec.patience_seconds)
        self.enqueue(c, target)

    def _talk_end(self, c: _Contact, agent: _Agent) -> None:
        spec = c.queue.spec
        rng = c.rng
        c.state = _WRAPPING
        ev = self.contact_event("contact.ended", c)
        if spec.channel == "voice" and spec.hold_share > 0 and rng.random() < spec.hold_share:
            hold = min(_exponential(rng, spec.hold_seconds), c.talk * 0.6)
            ev["hold_seconds"] = round(hold, 1)
        self.set_state(agent, AFTER_CONTACT_WORK)
        self.push(self.now + _lognormal(rng, spec.after_contact_work), _WRAP_END, agent, c)

    def _wrap_end(self, agent: _Agent, c: _Contact | None) -> None:
        if c is not None:
            spec = c.queue.spec
            self.contact_event("contact.wrapped", c)
            c.state = _DONE
            first = not c.transferred and c.rng.random() < spec.first_contact_share
            ev = self.contact_event("contact.resolved", c)
            ev["first_contact"] = first
            self.maybe_survey(c)
        self.free(agent)

    def _abandon(self, c: _Contact, token: int) -> None:
        if c.token != token or c.state != _WAITING:
            return
        c.state = _ABANDONED
        c.token += 1
        self.contact_event("contact.abandoned", c)

    def _overflow(self, c: _Contact, token: int) -> None:
        """Still waiting after the queue's overflow time: routed to the overflow queue."""
        if c.token != token or c.state != _WAITING:
            return
        spec = c.queue.spec
        assert spec.overflow_to is not None
        target = self.by_key[(spec.overflow_to, spec.channel)]
        c.overflowed = True
        c.waited += self.now - c.since
        self.queued_event(c, target)
        self.enqueue(c, target)

    # ------------------------------------------------------------------ async tickets

    def start_work(self, agent: _Agent, c: _Contact) -> None:
        spec = c.queue.spec
        rng = c.rng
        c.state = _WORKING
        c.token += 1
        c.agent = agent
        agent.current = c
        self.set_state(agent, ON_CONTACT)
        work = max(20.0, _lognormal(rng, spec.handle))
        if (
            c.responses == 0
            and not c.transferred
            and spec.transfer_share > 0
            and rng.random() < spec.transfer_share
        ):
            c.transfer_pending = True  # triage: moved to another queue, no reply
            work *= 0.3
        self.push(self.now + work, _WORK_END, agent, c)

    def _work_end(self, agent: _Agent, c: _Contact) -> None:
        spec = c.queue.spec
        rng = c.rng
        if c.transfer_pending:
            c.transfer_pending = False
            c.transferred = True
            target = self.by_key[(rng.choice(spec.transfer_to), spec.channel)]
            self.queued_event(c, target)
            self.enqueue(c, target)
        else:
            ev = self.contact_event("contact.responded", c)
            ev["agent_id"] = agent.id
            c.responses += 1
            if c.first_response_at is None:
                c.first_response_at = self.now
            if c.responses >= spec.max_responses or rng.random() < spec.resolve_share:
                c.state = _RESOLVED
                ev = self.contact_event("contact.resolved", c)
                ev["first_contact"] = c.responses == 1 and not c.reopened and not c.transferred
                if not c.reopened and rng.random() < spec.reopen_share:
                    self.push(self.now + _exponential(rng, spec.reopen_seconds), _REOPEN, c)
                else:
                    self.maybe_survey(c)
            else:
                c.state = _PENDING
                self.push(self.now + _exponential(rng, spec.reply_seconds), _CUSTOMER_REPLY, c)
        acw = _lognormal(rng, spec.after_contact_work)
        if acw > 0:
            agent.current = None
            self.set_state(agent, AFTER_CONTACT_WORK)
            self.push(self.now + acw, _WRAP_END, agent, None)
        else:
            self.free(agent)

    def _customer_reply(self, c: _Contact, _arg: Any) -> None:
        """The customer answered the agent's reply: the ticket waits for the next response."""
        c.deadline = math.inf
        self.enqueue(c, c.queue)

    def _reopen(self, c: _Contact, _arg: Any) -> None:
        c.reopened = True
        c.deadline = math.inf
        self.contact_event("contact.reopened", c)
        self.enqueue(c, c.queue)

    # ------------------------------------------------------------------ surveys

    def maybe_survey(self, c: _Contact) -> None:
        spec = c.queue.spec
        if spec.survey_share > 0 and c.rng.random() < spec.survey_share:
            self.push(self.now + _exponential(c.rng, spec.survey_delay_seconds), _SURVEY, c)

    def _survey(self, c: _Contact, _arg: Any) -> None:
        """Scores from one latent experience value: worse with longer waits (live: the
        time in queues; async: the first response time), transfers and reopens."""
        rng = c.rng
        experience = 0.8 + rng.gauss(0.0, 0.15)
        if c.queue.live:
            experience -= min(0.6, c.waited / 600.0 * 0.35)
        else:
            first = (c.first_response_at or self.now) - c.first_entry
            experience -= min(0.5, first / 3600.0 * 0.06)
        if c.transferred:
            experience -= 0.08
        if c.reopened:
            experience -= 0.15
        experience = min(1.0, max(0.0, experience))
        ev = self.contact_event("survey.responded", c)
        ev["queue"] = c.queue.spec.name
        ev["channel"] = c.queue.spec.channel
        ev["csat"] = min(5, max(1, round(1 + 4 * experience + rng.gauss(0.0, 0.35))))
        if rng.random() < 0.6:
            ev["ces"] = min(7, max(1, round(1 + 6 * experience + rng.gauss(0.0, 0.5))))
        if rng.random() < 0.5:
            ev["nps"] = min(10, max(0, round(10 * experience + rng.gauss(0.0, 0.8))))

    # ------------------------------------------------------------------ shifts and breaks

    def _shift_start(self, agent: _Agent, shift: tuple[float, float]) -> None:
        start, end = shift
        agent.on_shift = True
        agent.shift_no += 1
        self.push(end, _SHIFT_END, agent, agent.shift_no)
        group = agent.group
        for brk in group.breaks:
            jitter = agent.rng.uniform(-1.0, 1.0) * group.break_jitter_minutes * 60.0
            at = start + brk.after_hours * 3600.0 + jitter
            if self.now < at < end:
                self.push(at, _BREAK_START, agent, (agent.shift_no, brk.minutes * 60.0))
        if agent.state in (OFFLINE, ""):
            self.free(agent)

    def _shift_end(self, agent: _Agent, shift_no: int) -> None:
        if shift_no != agent.shift_no:
            return
        start, end = self.shift_around(agent, self.now)
        if start <= self.now + 1e-6:  # round the clock: the next shift follows at once
            self._shift_start(agent, (start, end))
            return
        agent.on_shift = False
        self.push(start, _SHIFT_START, agent, (start, end))
        if agent.state in (AVAILABLE, AWAY):
            agent.pending_break = 0.0
            self.set_state(agent, OFFLINE)
        # busy agents finish their contact first; `free` then sends them offline

    def _break_start(self, agent: _Agent, arg: tuple[int, float]) -> None:
        shift_no, seconds = arg
        if shift_no != agent.shift_no or not agent.on_shift:
            return
        if agent.state == AVAILABLE:
            self.go_away(agent, seconds)
        elif agent.state != AWAY:
            agent.pending_break = max(agent.pending_break, seconds)  # after this contact

    def go_away(self, agent: _Agent, seconds: float) -> None:
        agent.break_no += 1
        self.set_state(agent, AWAY)
        self.push(self.now + seconds, _BREAK_END, agent, agent.break_no)

    def _break_end(self, agent: _Agent, break_no: int) -> None:
        if agent.state == AWAY and break_no == agent.break_no:
            self.free(agent)

    # ------------------------------------------------------------------ main loop

    def run(self, until: float) -> Iterator[tuple[float, dict[str, Any]]]:
        self.begin()
        out = self.out
        if out:
            yield from out
            out.clear()
        heap = self.heap
        handlers = self.handlers
        pop = heapq.heappop
        while heap:
            t, _, kind, obj, arg = pop(heap)
            if t > until:
                return
            self.now = t
            handlers[kind](obj, arg)
            if out:
                yield from out
                out.clear()


class Simulation:
    """A seeded contact-centre simulation of one scenario, from `start_epoch` on. `events()`
    yields the input contract's event dicts in time order (each passes
    `streams.core.intake.decode`), a fresh, identical run per call; `messages()` adds the
    serialised form, Kafka key, emission time and optional transport noise (`noise`)."""

    def __init__(
        self,
        scenario: Scenario | str | Path,
        seed: int = 0,
        start_epoch: float | None = None,
        *,
        time_format: str = "rfc3339",
        id_prefix: str | None = None,
    ) -> None:
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError("seed must be an integer")
        if time_format not in TIME_FORMATS:
            raise ValueError(f"time_format must be one of {', '.join(TIME_FORMATS)}")
        if start_epoch is None:
            start_epoch = round(time.time(), 3)
        if not math.isfinite(start_epoch) or start_epoch < 0:
            raise ValueError("start_epoch must be a finite epoch time >= 0")
        prefix = f"s{seed}" if id_prefix is None else id_prefix
        if not 0 < len(prefix) <= 64:
            raise ValueError("id_prefix must be 1-64 characters")
        self.scenario = scenario
        self.seed = seed
        self.start_epoch = float(start_epoch)
        self.time_format = time_format
        self.id_prefix = prefix

    def end_time(self, duration: float | None = None, until: float | None = None) -> float:
        """Absolute end (epoch seconds) of a run of `duration` seconds, or `until`."""
        if duration is not None and until is not None:
            raise ValueError("give duration or until, not both")
        if duration is not None:
            if duration < 0 or math.isnan(duration):
                raise ValueError("duration must be >= 0")
            return self.start_epoch + duration
        if until is not None:
            return until
        return math.inf

    def timed_events(
        self,
        duration: float | None = None,
        *,
        until: float | None = None,
        max_events: int | None = None,
    ) -> Iterator[tuple[float, dict[str, Any]]]:
        """Like `events`, with each event's time in epoch seconds (float)."""
        end = self.end_time(duration, until)
        if (max_events is not None and max_events <= 0) or end < self.start_epoch:
            return
        for count, item in enumerate(_Run(self).run(end), start=1):
            yield item
            if max_events is not None and count >= max_events:
                return

    def events(
        self,
        duration: float | None = None,
        *,
        until: float | None = None,
        max_events: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Events (dicts) in time order for `duration` seconds from the start (or up to the
        epoch time `until`), at most `max_events`; endless when none is given."""
        for _, event in self.timed_events(duration, until=until, max_events=max_events):
            yield event

    def messages(
        self,
        duration: float | None = None,
        *,
        until: float | None = None,
        max_events: int | None = None,
        noise: float = 0.0,
        reorder_window: float = 300.0,
    ) -> Iterator[Emission]:
        """Serialised messages ready for a JSON Lines file, Kafka or the engine, with their
        emission time for pacing. `noise` (0-1) adds duplicates, out-of-order deliveries and
        malformed messages (`streams.simulator.noise`). `max_events` counts messages."""
        if not 0.0 <= noise <= 1.0:
            raise ValueError("noise must be a share in [0, 1]")
        stream = self.timed_events(duration, until=until)
        rng = random.Random(f"{self.seed}:noise")
        emissions: Iterator[Emission] = (
            add_noise(stream, noise, rng, reorder_window=reorder_window)
            if noise > 0
            else plain(stream)
        )
        if max_events is None:
            yield from emissions
            return
        if max_events <= 0:
            return
        for count, emission in enumerate(emissions, start=1):
            yield emission
            if count >= max_events:
                return

    def voice_queues(self) -> dict[str, list[str]]:
        """Agent id -> the voice queues it serves, in the order of its `queues`."""
        out: dict[str, list[str]] = {}
        for agent in _Run(self).agents:
            voice = {q.spec.name for q in agent.queues if q.spec.channel == "voice"}
            names = [name for name in agent.queue_names if name in voice]
            if names:
                out[agent.id] = names
        return out

    def queue_log(
        self,
        duration: float | None = None,
        *,
        until: float | None = None,
        max_events: int | None = None,
    ) -> Iterator[tuple[float, bytes]]:
        """The voice traffic as Asterisk queue_log lines (`QueueLogWriter`), each with the
        event time it is due at (for pacing); `max_events` counts simulated events."""
        writer = QueueLogWriter(self.voice_queues())
        yield from writer.lines(self.timed_events(duration, until=until, max_events=max_events))

    def lines(
        self,
        duration: float | None = None,
        *,
        until: float | None = None,
        max_events: int | None = None,
        noise: float = 0.0,
    ) -> Iterator[bytes]:
        """JSON Lines (each ending in a newline) of `messages`."""
        for emission in self.messages(duration, until=until, max_events=max_events, noise=noise):
            yield emission.payload + b"\n"
