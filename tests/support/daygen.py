"""Deterministic synthetic contact-centre day, with ground truth.

Generates one local day of Floorwatch input events (``shared/spec/events.md``) as JSON
Lines, sorted by event time, and tallies the expected metrics *from the generator's own
decisions* (never by re-reading the events). The tallies (`Truth`) feed the golden
replay test; the speed feeds the throughput benchmark.

Everything is driven by seeded `random.Random` instances (one for decisions, one for the
timestamp forms), so the same `DayPlan` always gives byte-identical output. All durations
are integer milliseconds until `Truth.to_dict` converts them to seconds, so sums are exact
and reproducible.

Streaming: contacts are generated in arrival order and their events go through a heap;
an event is released as soon as no later contact can produce an earlier one. Memory is
bounded by the events still "in flight" (a few hours of the day), not the whole day.

Usage::

    python -m tests.support.daygen --contacts 2000 --seed 1 --out day.jsonl --truth-out truth.json
"""

from __future__ import annotations

import argparse
import heapq
import io
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import IO, Any, cast
from zoneinfo import ZoneInfo

import orjson

__all__ = ["DayPlan", "QueueTally", "Truth", "generate_day", "main", "write_day"]

VOICE, CHAT, EMAIL, MESSAGING = "voice", "chat", "email", "messaging"

#: Every (queue, channel) pair the generator uses; the truth always lists all of them.
QUEUE_CHANNELS: tuple[tuple[str, str], ...] = (
    ("billing", VOICE),
    ("sales", VOICE),
    ("support", VOICE),
    ("support", CHAT),
    ("billing", EMAIL),
    ("returns", EMAIL),
    ("returns", MESSAGING),
)
_VOICE_QUEUES = ("billing", "sales", "support")
_VOICE_QUEUE_CUM = (35, 60, 100)
_EMAIL_QUEUES = ("billing", "returns")
_TEAMS = {"billing": "tier1", "sales": "sales", "support": "tier2", "returns": "backoffice"}

_CHANNELS = (VOICE, CHAT, EMAIL, MESSAGING)
_CHANNEL_CUM = (50, 75, 93, 100)
_PRIORITIES = ("normal", "high", "urgent", "low")
_PRIORITY_CUM = (70, 85, 90, 100)

#: Relative arrival intensity per local hour (busy 08:00-18:00).
_HOURLY_PROFILE = (1, 1, 1, 1, 1, 2, 4, 9, 15, 17, 17, 16, 13, 14, 16, 15, 13, 10, 7, 5, 4, 3, 2, 1)

#: Agent skill sets (values of `queues` in agent.state).
_AGENT_POOLS: tuple[tuple[str, ...], ...] = (
    ("billing", "sales", "support"),
    ("billing",),
    ("sales",),
    ("support",),
    ("support",),
    ("billing", "returns"),
    ("returns",),
)
_AGENT_TEAMS = ("tier1", "tier2", "sales", "backoffice")

# Timestamp forms of `occurred_at` (shares; the rest are epoch milliseconds).
_TS_UTC_Z_SHARE = 0.40
_TS_OFFSET_SHARE = 0.30
#: Offsets used besides the local zone's own offset (same instant, other wall clock).
_EXTRA_OFFSETS = (timedelta(hours=5, minutes=30), timedelta(hours=-4))

_MIN = 60_000
_HOUR = 3_600_000
#: Voice/chat contacts arrive early enough that their whole conversation fits the day
#: (transfer 90 s + wait 10 min + talk 30 min + ACW 5 min + resolution 10 min < 1 h).
_LIVE_ARRIVAL_MARGIN_MS = _HOUR
_HANDLE_TIMEOUT_MS = 30 * _MIN  # the product's "30 min after ended" rule; we stay below it

_BACKLOG_BUCKETS = (("lt_1h", _HOUR), ("1h_4h", 4 * _HOUR), ("4h_24h", 24 * _HOUR))


def _default_targets() -> dict[str, float]:
    return {VOICE: 20.0, CHAT: 30.0}


@dataclass
class DayPlan:
    """Parameters of one generated day."""

    seed: int = 1
    contacts: int = 2000  # contacts started: ~5 events each, plus agent.state events
    day: str = "2026-11-22"  # local date, ISO format
    timezone: str = "Europe/Berlin"  # every event falls inside [00:00, 24:00) of `day` here
    answer_within_seconds: dict[str, float] = field(default_factory=_default_targets)
    short_abandon_seconds: float = 5
    agents: int = 36

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "contacts": self.contacts,
            "day": self.day,
            "timezone": self.timezone,
            "answer_within_seconds": dict(self.answer_within_seconds),
            "short_abandon_seconds": self.short_abandon_seconds,
            "agents": self.agents,
        }


# --------------------------------------------------------------------------- truth


def _seconds(ms: int) -> float:
    return ms / 1000


@dataclass
class QueueTally:
    """Ground truth for one queue x channel. Durations in integer milliseconds."""

    queue: str
    channel: str
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    answered_within_target: int = 0
    transferred_out: int = 0
    resolved: int = 0
    reopened: int = 0
    wait_sum_ms: int = 0
    wait_max_ms: int = 0
    handle_count: int = 0
    handle_sum_ms: int = 0
    first_response_count: int = 0
    first_response_sum_ms: int = 0
    resolution_count: int = 0
    resolution_sum_ms: int = 0
    fcr_yes: int = 0
    csat_count: int = 0
    csat_satisfied: int = 0
    csat_sum: int = 0
    ces_count: int = 0
    ces_sum: int = 0
    nps_count: int = 0
    nps_promoters: int = 0
    nps_detractors: int = 0
    #: First-entry times of contacts still open at the end of the day.
    open_first_entry_ms: list[int] = field(default_factory=list)

    def to_dict(self, now_ms: int) -> dict[str, Any]:
        """Plain JSON form; seconds as floats; backlog ages measured at `now_ms`."""
        backlog = {name: 0 for name, _ in _BACKLOG_BUCKETS} | {"ge_24h": 0}
        for first_entry in self.open_first_entry_ms:
            backlog[_backlog_bucket(now_ms - first_entry)] += 1
        return {
            "queue": self.queue,
            "channel": self.channel,
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "answered_within_target": self.answered_within_target,
            "transferred_out": self.transferred_out,
            "resolved": self.resolved,
            "reopened": self.reopened,
            "wait_sum": _seconds(self.wait_sum_ms),
            "wait_max": _seconds(self.wait_max_ms),
            "handle_count": self.handle_count,
            "handle_sum": _seconds(self.handle_sum_ms),
            "first_response_count": self.first_response_count,
            "first_response_sum": _seconds(self.first_response_sum_ms),
            "resolution_count": self.resolution_count,
            "resolution_sum": _seconds(self.resolution_sum_ms),
            "fcr_yes": self.fcr_yes,
            "csat_count": self.csat_count,
            "csat_satisfied": self.csat_satisfied,
            "csat_sum": self.csat_sum,
            "ces_count": self.ces_count,
            "ces_sum": self.ces_sum,
            "nps_count": self.nps_count,
            "nps_promoters": self.nps_promoters,
            "nps_detractors": self.nps_detractors,
            "open_at_end": len(self.open_first_entry_ms),
            "backlog_at_end": backlog,
        }


def _backlog_bucket(age_ms: int) -> str:
    for name, upper_ms in _BACKLOG_BUCKETS:
        if age_ms < upper_ms:
            return name
    return "ge_24h"


@dataclass
class Truth:
    """What the generated day must produce, tallied while deciding it.

    Filled while the events are generated: complete (``complete`` is True) only once the
    event iterator of `generate_day` is exhausted. `write_day` returns it complete.
    """

    plan: DayPlan
    day_start_ms: int
    day_end_ms: int
    queues: dict[tuple[str, str], QueueTally] = field(default_factory=dict)
    events: int = 0
    events_by_type: dict[str, int] = field(default_factory=dict)
    contacts_by_channel: dict[str, int] = field(default_factory=dict)
    timestamp_forms: dict[str, int] = field(
        default_factory=lambda: {"utc_z": 0, "offset": 0, "epoch_ms": 0}
    )
    first_event_ms: int | None = None
    last_event_ms: int | None = None
    #: queue -> agent state -> agents whose last state is that and who serve the queue.
    agents_at_end: dict[str, dict[str, int]] = field(default_factory=dict)
    complete: bool = False

    def tally(self, queue: str, channel: str) -> QueueTally:
        """The tally of one queue x channel (created empty if unknown)."""
        key = (queue, channel)
        found = self.queues.get(key)
        if found is None:
            found = self.queues[key] = QueueTally(queue, channel)
        return found

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible form. Raises if the events were not all generated yet."""
        if not self.complete:
            raise RuntimeError("truth is incomplete: consume the whole event iterator first")
        now_ms = self.last_event_ms if self.last_event_ms is not None else self.day_start_ms
        return {
            "version": 1,
            "plan": self.plan.to_dict(),
            "day_start_ms": self.day_start_ms,
            "day_end_ms": self.day_end_ms,
            "first_event_ms": self.first_event_ms,
            "last_event_ms": self.last_event_ms,
            "events": self.events,
            "events_by_type": dict(sorted(self.events_by_type.items())),
            "contacts": sum(self.contacts_by_channel.values()),
            "contacts_by_channel": dict(sorted(self.contacts_by_channel.items())),
            "timestamp_forms": dict(self.timestamp_forms),
            "queues": [self.queues[key].to_dict(now_ms) for key in sorted(self.queues)],
            "agents_at_end": {
                q: dict(sorted(states.items())) for q, states in sorted(self.agents_at_end.items())
            },
        }

    def to_json(self) -> str:
        """The truth as an indented JSON document."""
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2).decode()


# --------------------------------------------------------------------------- timestamps


def _format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


class _Timestamps:
    """Renders epoch milliseconds in the three `occurred_at` forms, with per-minute caches."""

    def __init__(self, tz: ZoneInfo, rng: random.Random, counts: dict[str, int]) -> None:
        self._tz = tz
        self._rand = rng.random
        self._counts = counts
        self._utc: dict[int, str] = {}
        self._local: dict[int, tuple[str, str]] = {}
        self._extra: dict[tuple[int, int], tuple[str, str]] = {}

    def render(self, t_ms: int) -> str | int:
        """One `occurred_at` value for `t_ms`, in a randomly chosen form."""
        r = self._rand()
        if r < _TS_UTC_Z_SHARE:
            self._counts["utc_z"] += 1
            return self.utc_z(t_ms)
        if r < _TS_UTC_Z_SHARE + _TS_OFFSET_SHARE:
            self._counts["offset"] += 1
            return self.with_offset(t_ms, int(r * 1000) % 3)
        self._counts["epoch_ms"] += 1
        return t_ms

    def utc_z(self, t_ms: int) -> str:
        minute, rem = divmod(t_ms, _MIN)
        prefix = self._utc.get(minute)
        if prefix is None:
            stamp = datetime.fromtimestamp(minute * 60, UTC)
            prefix = self._utc[minute] = stamp.strftime("%Y-%m-%dT%H:%M:")
        return prefix + _seconds_part(rem) + "Z"

    def with_offset(self, t_ms: int, variant: int) -> str:
        """Variant 0 (and 1): the local zone's offset; 2: another fixed offset. Never +00:00."""
        minute, rem = divmod(t_ms, _MIN)
        key = (minute, variant)
        cached = self._local.get(minute) if variant < 2 else self._extra.get(key)
        if cached is None:
            cached = self._prefix_suffix(minute, variant)
            if variant < 2:
                self._local[minute] = cached
            else:
                self._extra[key] = cached
        return cached[0] + _seconds_part(rem) + cached[1]

    def _prefix_suffix(self, minute: int, variant: int) -> tuple[str, str]:
        stamp = datetime.fromtimestamp(minute * 60, self._tz)
        offset = stamp.utcoffset() or timedelta(0)
        if variant >= 2 or offset == timedelta(0):
            offset = _EXTRA_OFFSETS[minute % len(_EXTRA_OFFSETS)]
            stamp = datetime.fromtimestamp(minute * 60, timezone(offset))
        return stamp.strftime("%Y-%m-%dT%H:%M:"), _format_offset(offset)


def _seconds_part(rem_ms: int) -> str:
    """``SS.mmm`` (or ``SS`` on a whole second) for the milliseconds within a minute."""
    sec, ms = divmod(rem_ms, 1000)
    if ms:
        return f"{sec:02d}.{ms:03d}"
    return f"{sec:02d}"


# --------------------------------------------------------------------------- generator


class _Contact:
    """The generator's running knowledge of one contact."""

    __slots__ = (
        "answered_ms",
        "channel",
        "cid",
        "ended_ms",
        "entry_ms",
        "first_entry_ms",
        "first_response_done",
        "handled",
        "interactions",
        "last_ms",
        "open",
        "queue",
        "reopened",
        "resolved_once",
        "tally",
    )

    def __init__(self, cid: str, channel: str) -> None:
        self.cid = cid
        self.channel = channel
        self.queue: str | None = None
        self.tally: QueueTally | None = None
        self.first_entry_ms = 0
        self.entry_ms = 0
        self.answered_ms: int | None = None
        self.ended_ms: int | None = None
        self.last_ms = 0
        self.interactions = 0
        self.first_response_done = False
        self.handled = False
        self.reopened = False
        self.resolved_once = False
        self.open = False


_HeapItem = tuple[int, int, str, dict[str, Any]]


class _DayBuilder:
    """Decides the day, pushes events into a time-ordered heap, tallies the truth."""

    def __init__(self, plan: DayPlan) -> None:
        if plan.contacts < 0 or plan.agents < 0:
            raise ValueError("contacts and agents must be >= 0")
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.tz = ZoneInfo(plan.timezone)
        self.start_ms, self.end_ms = _day_bounds(date.fromisoformat(plan.day), self.tz)
        self.truth = Truth(plan, self.start_ms, self.end_ms)
        for queue, channel in QUEUE_CHANNELS:
            self.truth.tally(queue, channel)
        self.targets_ms = {
            ch: round(float(plan.answer_within_seconds.get(ch, 20.0)) * 1000)
            for ch in (VOICE, CHAT)
        }
        self.short_ms = round(float(plan.short_abandon_seconds) * 1000)
        self.heap: list[_HeapItem] = []
        self.seq = 0
        self.stamps = _Timestamps(
            self.tz, random.Random(plan.seed * 1_000_003 + 7), self.truth.timestamp_forms
        )

    # ----- event plumbing

    def emit(self, t_ms: int, type_: str, body: dict[str, Any]) -> bool:
        """Schedule one event; False (and nothing scheduled) if it falls after the day."""
        if t_ms >= self.end_ms:
            return False
        self.seq += 1
        heapq.heappush(self.heap, (t_ms, self.seq, type_, body))
        by_type = self.truth.events_by_type
        by_type[type_] = by_type.get(type_, 0) + 1
        return True

    def contact_event(
        self, c: _Contact, t_ms: int, type_: str, extra: dict[str, Any] | None = None
    ) -> bool:
        """Emit a contact.* event; now and then it repeats the current queue and channel."""
        body: dict[str, Any] = {"contact_id": c.cid}
        if self.rng.random() < 0.1:
            body["queue"] = c.queue
            body["channel"] = c.channel
        if extra:
            body.update(extra)
        if not self.emit(t_ms, type_, body):
            return False
        c.last_ms = t_ms
        return True

    def events(self) -> Iterator[dict[str, Any]]:
        """Generate the day; yields events in time order, then marks the truth complete."""
        self.generate_agents()
        for number, (t0, channel) in enumerate(self.arrivals(), start=1):
            yield from self.release(t0)
            self.run_contact(_Contact(f"c{number}", channel), t0)
        yield from self.release(None)
        self.truth.complete = True

    def release(self, up_to_ms: int | None) -> Iterator[dict[str, Any]]:
        """Pop every scheduled event at or before `up_to_ms` (all if None).

        Safe because contacts start in time order and never emit before their start; an
        equal time from an earlier contact also sorts first (smaller sequence number).
        """
        heap, truth, render = self.heap, self.truth, self.stamps.render
        pop = heapq.heappop
        while heap and (up_to_ms is None or heap[0][0] <= up_to_ms):
            t_ms, _, type_, body = pop(heap)
            truth.events += 1
            if truth.first_event_ms is None:
                truth.first_event_ms = t_ms
            truth.last_event_ms = t_ms
            event = {"event_id": f"e{truth.events}", "type": type_, "occurred_at": render(t_ms)}
            event.update(body)
            yield event

    # ----- arrivals

    def arrivals(self) -> list[tuple[int, str]]:
        """(start time, channel) of every contact, in time order."""
        rng = self.rng
        day_len = self.end_ms - self.start_ms
        live_limit = max(day_len - _LIVE_ARRIVAL_MARGIN_MS, 1)
        hours = range(24)
        cum = list(_cumulative(_HOURLY_PROFILE))
        out: list[tuple[int, str]] = []
        channels = rng.choices(_CHANNELS, cum_weights=_CHANNEL_CUM, k=self.plan.contacts)
        for channel in channels:
            limit = live_limit if channel in (VOICE, CHAT) else day_len
            while True:
                hour = rng.choices(hours, cum_weights=cum)[0]
                offset = int((hour + rng.random()) * day_len / 24)
                if offset < limit:
                    break
            out.append((self.start_ms + offset, channel))
        out.sort(key=lambda item: item[0])
        return out

    # ----- contact flows

    def run_contact(self, c: _Contact, t0: int) -> None:
        counts = self.truth.contacts_by_channel
        counts[c.channel] = counts.get(c.channel, 0) + 1
        if c.channel in (VOICE, CHAT):
            self.live_flow(c, t0)
        else:
            self.async_flow(c, t0)
        if c.open:
            c.tally.open_first_entry_ms.append(c.first_entry_ms)  # type: ignore[union-attr]
            return
        eligible = c.answered_ms is not None or c.resolved_once
        if eligible and self.rng.random() < 0.3:
            self.survey(c, c.last_ms + self.rng.randint(2 * _MIN, 3 * _HOUR))

    def live_flow(self, c: _Contact, t: int) -> None:
        """Voice/chat: queued, maybe transferred, then abandoned or answered and handled."""
        rng = self.rng
        if c.channel == VOICE:
            queue = rng.choices(_VOICE_QUEUES, cum_weights=_VOICE_QUEUE_CUM)[0]
        else:
            queue = "support"
        priority = self.pick_priority()
        if not self.queued(c, t, queue, priority):
            return
        if c.channel == VOICE and rng.random() < 0.08:
            t += rng.randint(1_000, 90_000)
            new_queue = rng.choice([q for q in _VOICE_QUEUES if q != queue])
            if not self.queued(c, t, new_queue, priority):
                return
        if rng.random() < 0.12:
            self.abandoned(c, t + self.abandon_wait())
            return
        t += self.answer_wait(self.targets_ms[c.channel])
        if not self.answered(c, t):
            return
        talk = rng.randint(30_000, 20 * _MIN) if c.channel == VOICE else rng.randint(2, 30) * _MIN
        if c.channel == CHAT:
            replies = sorted(rng.randint(1_000, talk - 1) for _ in range(rng.randint(1, 4)))
            for at in replies:
                if not self.responded(c, t + at):
                    return
        t += talk
        hold = self.hold_seconds(talk) if c.channel == VOICE else None
        if not self.ended(c, t, hold):
            return
        self.after_conversation(c, t)

    def after_conversation(self, c: _Contact, t: int) -> None:
        """ACW and wrap-up (usually), then resolution (always without a wrap-up)."""
        rng = self.rng
        wrapped = rng.random() < 0.85
        if wrapped:
            t += rng.randint(5_000, 5 * _MIN)
            if not self.wrapped(c, t):
                return
        if not wrapped or rng.random() < 0.8:
            # Without a wrap-up, resolve well inside the 30-minute handle-time timeout.
            t += 0 if rng.random() < 0.3 else rng.randint(1, 10 * _MIN)
            self.resolved(c, t, self.pick_first_contact())

    def async_flow(self, c: _Contact, t: int) -> None:
        """Email/messaging: queued, response(s), resolved; sometimes reopened; some stay open."""
        rng = self.rng
        is_email = c.channel == EMAIL
        queue = rng.choice(_EMAIL_QUEUES) if is_email else "returns"
        if not self.queued(c, t, queue, self.pick_priority()):
            return
        t += self.first_response_delay(is_email)
        if not self.responded(c, t):
            return
        if rng.random() < 0.3:
            t += rng.randint(5 * _MIN, 3 * _HOUR if is_email else 30 * _MIN)
            if not self.responded(c, t):
                return
        if rng.random() < 0.1:
            return  # never resolved: open at the end of the day
        t += rng.randint(_MIN, 2 * _HOUR if is_email else 20 * _MIN)
        if not self.resolved(c, t, self.pick_first_contact()):
            return
        if rng.random() >= 0.12:
            return
        t += rng.randint(10 * _MIN, 4 * _HOUR)
        if not self.reopened(c, t):
            return
        if rng.random() < 0.7:
            t += rng.randint(_MIN, 2 * _HOUR)
            if not self.responded(c, t):
                return
        if rng.random() < 0.85:
            t += rng.randint(_MIN, _HOUR)
            self.resolved(c, t, self.pick_first_contact())

    # ----- random decisions

    def pick_priority(self) -> str | None:
        """A priority, or None to omit the field (which means normal)."""
        priority = self.rng.choices(_PRIORITIES, cum_weights=_PRIORITY_CUM)[0]
        if priority == "normal" and self.rng.random() < 0.4:
            return None
        return priority

    def pick_first_contact(self) -> bool | None:
        r = self.rng.random()
        if r < 0.45:
            return True
        if r < 0.6:
            return False
        return None

    def answer_wait(self, target_ms: int) -> int:
        """Wait before an answer, with exact-target and target+-1 ms cases."""
        r = self.rng.random()
        if r < 0.04:
            return target_ms
        if r < 0.08:
            return target_ms + 1
        if r < 0.10:
            return max(target_ms - 1, 0)
        if r < 0.11:
            return 0
        return min(int(self.rng.expovariate(1.0 / (0.8 * target_ms))), 10 * _MIN)

    def abandon_wait(self) -> int:
        """Wait before an abandon: short ones, exactly the threshold, threshold+1 ms, long."""
        short = self.short_ms
        r = self.rng.random()
        if r < 0.3:
            return self.rng.randint(0, max(short - 1, 0))
        if r < 0.38:
            return short
        if r < 0.42:
            return short + 1
        return short + min(int(self.rng.expovariate(1 / 40_000)), 9 * _MIN)

    def first_response_delay(self, is_email: bool) -> int:
        if is_email:
            return min(5 * _MIN + int(self.rng.expovariate(1 / (70 * _MIN))), 8 * _HOUR)
        return min(30_000 + int(self.rng.expovariate(1 / (8 * _MIN))), _HOUR)

    def hold_seconds(self, talk_ms: int) -> float | int | None:
        """`hold_seconds` for voice (sometimes an int, a float or 0), else None."""
        r = self.rng.random()
        if r >= 0.3:
            return None
        ceiling = max(talk_ms // 2000, 1)
        if r < 0.03:
            return 0
        if r < 0.15:
            return self.rng.randint(1, ceiling)
        return round(self.rng.uniform(0.5, ceiling), 1)

    def agent_ref(self) -> dict[str, Any] | None:
        if self.plan.agents == 0 or self.rng.random() >= 0.8:
            return None
        return {"agent_id": f"a{self.rng.randint(1, self.plan.agents)}"}

    # ----- contact events (each updates the truth only once emitted)

    def queued(self, c: _Contact, t: int, queue: str, priority: str | None) -> bool:
        body: dict[str, Any] = {"contact_id": c.cid, "queue": queue, "channel": c.channel}
        if priority is not None:
            body["priority"] = priority
        if self.rng.random() < 0.5:
            body["team"] = _TEAMS[queue]
        if not self.emit(t, "contact.queued", body):
            return False
        if c.tally is None:
            c.first_entry_ms = t
        else:
            c.tally.transferred_out += 1
        c.queue = queue
        c.tally = self.truth.tally(queue, c.channel)
        c.tally.offered += 1
        c.entry_ms = c.last_ms = t
        c.open = True
        return True

    def abandoned(self, c: _Contact, t: int) -> bool:
        if not self.contact_event(c, t, "contact.abandoned"):
            return False
        tally = c.tally
        assert tally is not None
        if t - c.entry_ms < self.short_ms:
            tally.short_abandoned += 1
        else:
            tally.abandoned += 1
        c.open = False
        return True

    def answered(self, c: _Contact, t: int) -> bool:
        if not self.contact_event(c, t, "contact.answered", self.agent_ref()):
            return False
        tally = c.tally
        assert tally is not None
        wait = t - c.entry_ms
        tally.answered += 1
        tally.wait_sum_ms += wait
        tally.wait_max_ms = max(tally.wait_max_ms, wait)
        if wait <= self.targets_ms[c.channel]:
            tally.answered_within_target += 1
        c.answered_ms = t
        c.interactions += 1
        if c.channel == VOICE:
            self.first_response(c, t)
        return True

    def responded(self, c: _Contact, t: int) -> bool:
        if not self.contact_event(c, t, "contact.responded", self.agent_ref()):
            return False
        if c.answered_ms is None:  # a chat reply inside the conversation is no new interaction
            c.interactions += 1
        self.first_response(c, t)
        return True

    def first_response(self, c: _Contact, t: int) -> None:
        if c.first_response_done:
            return
        c.first_response_done = True
        tally = c.tally
        assert tally is not None
        tally.first_response_count += 1
        tally.first_response_sum_ms += t - c.first_entry_ms

    def ended(self, c: _Contact, t: int, hold: float | None) -> bool:
        extra = None if hold is None else {"hold_seconds": hold}
        if not self.contact_event(c, t, "contact.ended", extra):
            return False
        c.ended_ms = t
        c.open = False
        return True

    def wrapped(self, c: _Contact, t: int) -> bool:
        if not self.contact_event(c, t, "contact.wrapped"):
            return False
        assert c.answered_ms is not None and c.tally is not None
        self.handle(c, t - c.answered_ms)
        return True

    def handle(self, c: _Contact, duration_ms: int) -> None:
        tally = c.tally
        assert tally is not None and not c.handled
        c.handled = True
        tally.handle_count += 1
        tally.handle_sum_ms += duration_ms

    def resolved(self, c: _Contact, t: int, first_contact: bool | None) -> bool:
        extra = None if first_contact is None else {"first_contact": first_contact}
        if not self.contact_event(c, t, "contact.resolved", extra):
            return False
        tally = c.tally
        assert tally is not None
        tally.resolved += 1
        tally.resolution_count += 1
        tally.resolution_sum_ms += t - c.first_entry_ms
        if first_contact or (first_contact is None and c.interactions == 1 and not c.reopened):
            tally.fcr_yes += 1
        if not c.handled and c.ended_ms is not None and c.answered_ms is not None:
            assert t - c.ended_ms < _HANDLE_TIMEOUT_MS
            self.handle(c, c.ended_ms - c.answered_ms)
        if c.channel not in (VOICE, CHAT):
            c.open = False
        c.resolved_once = True
        return True

    def reopened(self, c: _Contact, t: int) -> bool:
        if not self.contact_event(c, t, "contact.reopened"):
            return False
        assert c.tally is not None
        c.tally.reopened += 1
        c.reopened = True
        c.open = True
        return True

    def survey(self, c: _Contact, t: int) -> bool:
        """A survey with a non-empty subset of csat/ces/nps; always names queue and channel."""
        rng = self.rng
        scores: dict[str, int] = {}
        while not scores:
            if rng.random() < 0.7:
                scores["csat"] = rng.choices((1, 2, 3, 4, 5), weights=(5, 7, 13, 35, 40))[0]
            if rng.random() < 0.4:
                scores["ces"] = rng.randint(1, 7)
            if rng.random() < 0.5:
                scores["nps"] = rng.choices(range(11), weights=(2,) * 7 + (8, 10, 15, 15))[0]
        body: dict[str, Any] = {"contact_id": c.cid, "queue": c.queue, "channel": c.channel}
        body.update(scores)
        if not self.emit(t, "survey.responded", body):
            return False
        tally = c.tally
        assert tally is not None
        if "csat" in scores:
            tally.csat_count += 1
            tally.csat_sum += scores["csat"]
            tally.csat_satisfied += scores["csat"] >= 4
        if "ces" in scores:
            tally.ces_count += 1
            tally.ces_sum += scores["ces"]
        if "nps" in scores:
            tally.nps_count += 1
            tally.nps_promoters += scores["nps"] >= 9
            tally.nps_detractors += scores["nps"] <= 6
        return True

    # ----- agents

    def generate_agents(self) -> None:
        """Shifts of `plan.agents` agents: agent.state changes, final states into the truth."""
        for number in range(1, self.plan.agents + 1):
            self.agent_shift(f"a{number}", number)

    def agent_shift(self, agent_id: str, number: int) -> None:
        rng = self.rng
        day_len = self.end_ms - self.start_ms
        queues = list(_AGENT_POOLS[number % len(_AGENT_POOLS)])
        team = _AGENT_TEAMS[number % len(_AGENT_TEAMS)]
        kind = rng.random()
        start_hour = 6 if kind < 0.4 else (9 if kind < 0.75 else 15)
        t = self.start_ms + start_hour * _HOUR + rng.randint(0, 2 * _HOUR)
        shift_end = min(t + rng.randint(6 * _HOUR, 9 * _HOUR), self.start_ms + day_len - _MIN)
        logs_off = kind < 0.75 or rng.random() < 0.5
        state = "available"
        self.agent_event(t, agent_id, state, queues, team)
        while True:
            t += self.agent_state_duration(state)
            if t >= shift_end:
                break
            state = self.next_agent_state(state)
            if rng.random() < 0.02:
                queues = list(rng.choice(_AGENT_POOLS))
            self.agent_event(t, agent_id, state, queues, team)
        if logs_off:
            state = "offline"
            self.agent_event(shift_end, agent_id, state, queues, team)
        for queue in queues:
            states = self.truth.agents_at_end.setdefault(queue, {})
            states[state] = states.get(state, 0) + 1

    def agent_event(self, t: int, agent_id: str, state: str, queues: list[str], team: str) -> None:
        body: dict[str, Any] = {"agent_id": agent_id, "state": state, "queues": list(queues)}
        if self.rng.random() < 0.5:
            body["team"] = team
        emitted = self.emit(t, "agent.state", body)
        assert emitted, "agent shifts end inside the day"

    def agent_state_duration(self, state: str) -> int:
        low, high = {
            "available": (5_000, 4 * _MIN),
            "on_contact": (_MIN, 12 * _MIN),
            "after_contact_work": (10_000, 3 * _MIN),
            "away": (5 * _MIN, 30 * _MIN),
        }[state]
        return self.rng.randint(low, high)

    def next_agent_state(self, state: str) -> str:
        r = self.rng.random()
        if state == "available":
            return "on_contact" if r < 0.85 else "away"
        if state == "on_contact":
            return "after_contact_work" if r < 0.8 else "available"
        return "available"


def _cumulative(weights: tuple[int, ...]) -> Iterator[int]:
    total = 0
    for weight in weights:
        total += weight
        yield total


def _day_bounds(day: date, tz: ZoneInfo) -> tuple[int, int]:
    """Epoch ms of local midnight at the start of `day` and of the next day."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return round(start.timestamp() * 1000), round(end.timestamp() * 1000)


# --------------------------------------------------------------------------- public API


def generate_day(plan: DayPlan) -> tuple[Iterator[dict[str, Any]], Truth]:
    """The day's events (dicts, in time order) and its truth.

    The truth fills in while the iterator runs; it is complete (``truth.complete``) once
    the iterator is exhausted. Each call starts afresh from `plan.seed`.
    """
    builder = _DayBuilder(plan)
    return builder.events(), builder.truth


ProgressFn = Callable[[int], None]


def write_day(
    plan: DayPlan,
    path_or_file: str | os.PathLike[str] | IO[bytes] | IO[str],
    truth_path: str | os.PathLike[str] | None = None,
    *,
    progress: ProgressFn | None = None,
    progress_every: int = 100_000,
) -> Truth:
    """Write the day as JSON Lines (one event per line) and return the complete truth.

    `path_or_file` is a path (``"-"`` = standard output) or an open binary/text file.
    With `truth_path` the truth JSON is written there too. `progress(n)` is called every
    `progress_every` events.
    """
    every = progress_every
    if isinstance(path_or_file, str | os.PathLike):
        if os.fspath(path_or_file) == "-":
            target: IO[bytes] = sys.stdout.buffer
            return write_day(plan, target, truth_path, progress=progress, progress_every=every)
        with open(path_or_file, "wb") as fh:
            return write_day(plan, fh, truth_path, progress=progress, progress_every=every)
    events, truth = generate_day(plan)
    _write_lines(events, path_or_file, progress, progress_every)
    if truth_path is not None:
        with open(truth_path, "w", encoding="utf-8") as fh:
            fh.write(truth.to_json() + "\n")
    return truth


def _write_lines(
    events: Iterator[dict[str, Any]],
    out: IO[bytes] | IO[str],
    progress: ProgressFn | None,
    progress_every: int,
) -> None:
    text = isinstance(out, io.TextIOBase)
    dumps = orjson.dumps
    newline = orjson.OPT_APPEND_NEWLINE
    chunk: list[bytes] = []
    for written, event in enumerate(events, start=1):
        chunk.append(dumps(event, option=newline))
        if len(chunk) == 8192:
            _flush(out, chunk, text)
        if progress is not None and written % progress_every == 0:
            progress(written)
    _flush(out, chunk, text)
    out.flush()


def _flush(out: IO[bytes] | IO[str], chunk: list[bytes], text: bool) -> None:
    data = b"".join(chunk)
    chunk.clear()
    if text:
        cast(IO[str], out).write(data.decode())
    else:
        cast(IO[bytes], out).write(data)


# --------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    defaults = DayPlan()
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.daygen",
        description="Generate a deterministic synthetic contact-centre day as JSON Lines, "
        "with ground-truth tallies.",
    )
    parser.add_argument(
        "--contacts",
        type=int,
        default=defaults.contacts,
        help="contacts to start (~5 events each, plus agent events; default %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help="random seed (default %(default)s)"
    )
    parser.add_argument("--out", required=True, help="output JSON Lines file, or - for stdout")
    parser.add_argument("--truth-out", help="write the ground truth JSON to this file")
    parser.add_argument("--day", default=defaults.day, help="local date (default %(default)s)")
    parser.add_argument(
        "--timezone",
        default=defaults.timezone,
        help="IANA time zone of the day (default %(default)s)",
    )
    parser.add_argument(
        "--agents",
        type=int,
        default=defaults.agents,
        help="agents with agent.state events (default %(default)s)",
    )
    parser.add_argument(
        "--voice-answer-within",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="voice answer target for the truth (default %(default)s)",
    )
    parser.add_argument(
        "--chat-answer-within",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="chat answer target for the truth (default %(default)s)",
    )
    parser.add_argument(
        "--short-abandon",
        type=float,
        default=defaults.short_abandon_seconds,
        metavar="SECONDS",
        help="short-abandon threshold (default %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no summary line on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parser().parse_args(argv)
    plan = DayPlan(
        seed=args.seed,
        contacts=args.contacts,
        day=args.day,
        timezone=args.timezone,
        answer_within_seconds={VOICE: args.voice_answer_within, CHAT: args.chat_answer_within},
        short_abandon_seconds=args.short_abandon,
        agents=args.agents,
    )
    started = time.perf_counter()

    def report(done: int) -> None:
        elapsed = time.perf_counter() - started
        print(f"daygen: {done:,} events, {elapsed:.1f} s", file=sys.stderr, flush=True)

    tty = sys.stderr.isatty()
    truth = write_day(plan, args.out, args.truth_out, progress=report if tty else None)
    if not args.quiet:
        elapsed = time.perf_counter() - started
        rate = truth.events / elapsed if elapsed > 0 else 0.0
        print(
            f"daygen: wrote {truth.events:,} events ({sum(truth.contacts_by_channel.values()):,}"
            f" contacts) in {elapsed:.1f} s ({rate:,.0f} events/s)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
