"""Queue stage: per queue x channel windows, counters, histograms, open contacts.

`QueueBoard` receives facts (`facts.FactSink`) and two clocks: the reading clock (`now`:
windows, live views, the local day) and the SLA clock (`sla.SlaClock`: due times). The
distributed runtime moves the SLA clock only to its sources' watermark.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from typing import Any

from streams.core.agents import QueueAgentBoard
from streams.core.contract import LIVE_CHANNELS, OVERFLOW_QUEUE, PRIORITIES
from streams.core.facts import FactSink
from streams.core.histogram import Histogram, bounds_with
from streams.core.settings import Settings
from streams.core.sla import (
    ALL_DONE,
    ANSWER,
    BREACHED,
    FIRST_RESPONSE,
    KINDS,
    LEFT,
    PRIORITY_INDEX,
    RESOLUTION,
    OpenContact,
    SlaClock,
    SlaCounts,
    SlaPlan,
    sla_index,
    sla_plan,
)
from streams.core.summary import Summary
from streams.core.targets import TargetBook
from streams.core.windows import BucketRing, day_bounds

_INF = math.inf
_AGE_LIMITS = (3600.0, 4 * 3600.0, 24 * 3600.0)
MAX_OVERFLOW_ALIASES = 100_000

WAIT_BOUNDS = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 600, 900, 1800, 3600)
FIRST_RESPONSE_BOUNDS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800)
HANDLE_BOUNDS = (30, 60, 120, 180, 300, 420, 600, 900, 1200, 1800, 2700, 3600)
RESOLUTION_BOUNDS = (300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 259200, 604800)


def _configured(settings: Settings, key: str) -> list[float]:
    values = [getattr(settings.defaults, key)]
    values += [rule.settings[key] for rule in settings.targets if key in rule.settings]
    return values


# The totals of a QueueChannel, in the order of its stored value.
TOTALS = (
    "offered_total",
    "answered_total",
    "abandoned_total",
    "short_abandoned_total",
    "answered_within_target_total",
    "resolved_total",
    "reopened_total",
    "transferred_total",
    "missed_total",  # version 1.1: stored values from before it are padded with 0
)


# A past window merges whole blocks of this many buckets (5 minutes of 10-s buckets), each
# merged once and kept until a fact lands in it or it leaves the longest window.
BLOCK_BUCKETS = 30


class QueueChannel(SlaCounts):
    """Everything kept for one queue x channel, the unit every metric is kept for:
    totals, histograms, the bucket ring and today's summary, open contacts and (from
    `SlaCounts`) contacts at risk and breached."""

    __slots__ = (
        "abandoned_total",
        "answered_total",
        "answered_within_target_total",
        "blocks",
        "channel",
        "first_response_hist",
        "first_seen",
        "handle_hist",
        "live_cache",
        "missed_total",
        "offered_total",
        "open",
        "open_version",
        "past_cache",
        "past_key",
        "past_version",
        "queue",
        "reopened_total",
        "resolution_hist",
        "resolved_total",
        "ring",
        "short_abandoned_total",
        "team",
        "team_ts",
        "tile_cache",
        "today",
        "trailing_cache",
        "trailing_key",
        "transferred_total",
        "version",
        "wait_hist",
        "waiting",
        "windows_cache",
    )

    def __init__(
        self,
        queue: str,
        channel: str,
        ring: BucketRing[Summary],
        hist_bounds: tuple[tuple[float, ...], ...],
    ) -> None:
        super().__init__()
        self.queue = queue
        self.channel = channel
        self.first_seen = _INF  # attribution time of the earliest fact (rate denominators)
        self.team: str | None = None  # of the latest contact (by event time) that named one
        self.team_ts = -_INF
        self.ring = ring
        self.today = Summary()
        self.open: dict[str, OpenContact] = {}
        self.waiting = 0
        # Read caches: `open_version` changes with the open contacts (and their waiting
        # flags), `past_version` with any bucket but the newest; readers cache on them.
        self.open_version = 0
        self.past_version = 0
        self.live_cache: tuple[int, array[float], float] | None = None
        self.past_key = (-1, -1)
        self.past_cache: dict[int, Summary] = {}
        # Merged summaries of whole past blocks of BLOCK_BUCKETS buckets (block index ->
        # summary): a trailing window merges its blocks, and single buckets only at its ends.
        self.blocks: dict[int, Summary] = {}
        # Trailing length in buckets -> merged summary (the newest bucket included), valid
        # at (bucket, version, past_version) and kept while buckets leave empty; then the
        # windows by name, kept while those and today's summary are the same objects.
        # All are read, never changed.
        self.trailing_key = (-1, -1, -1)
        self.trailing_cache: dict[int, Summary] = {}
        self.windows_cache: tuple[dict[int, Summary], Summary, dict[str, Summary]] | None = None
        self.version = 0  # changes with every fact attributed to a window
        self.tile_cache: Any = None  # kept by the board, opaque to the core
        self.offered_total = 0
        self.answered_total = 0
        self.abandoned_total = 0
        self.short_abandoned_total = 0
        self.answered_within_target_total = 0
        self.resolved_total = 0
        self.reopened_total = 0
        self.transferred_total = 0
        self.missed_total = 0
        wait, frt, handle, resolution = hist_bounds
        self.wait_hist = Histogram(wait)
        self.first_response_hist = Histogram(frt)
        self.handle_hist = Histogram(handle)
        self.resolution_hist = Histogram(resolution)

    def snapshot(self) -> list[Any]:
        """A JSON-ready value; open contacts as [id, first entry, entry, priority, sla,
        waiting] (their SLA plans and clock entries are rebuilt on restore)."""
        return [
            self.channel,
            self.team,
            self.team_ts if self.team is not None else None,
            self.first_seen if self.first_seen != _INF else None,
            [getattr(self, name) for name in TOTALS],
            self.at_risk,
            self.breached,
            self.breaches_total,
            [
                h.snapshot()
                for h in (
                    self.wait_hist,
                    self.first_response_hist,
                    self.handle_hist,
                    self.resolution_hist,
                )
            ],
            self.today.snapshot(),
            self.ring.snapshot(Summary.snapshot),
            [
                [r.contact_id, r.first_entry, r.entry, r.priority, r.sla, r.waiting]
                for r in self.open.values()
            ],
        ]

    def restore(self, value: list[Any], same_day: bool, now: float) -> list[Any]:
        """Take a stored value's counts, histograms and buckets (today's summary only if
        stored on the same local day); returns its open contacts for the board to re-arm."""
        (
            _,
            team,
            team_ts,
            first_seen,
            totals,
            at_risk,
            breached,
            breaches_total,
            hists,
            today,
            ring,
            open_contacts,
        ) = value
        self.team = team
        self.team_ts = team_ts if team_ts is not None else -_INF
        self.first_seen = first_seen if first_seen is not None else _INF
        if len(totals) < len(TOTALS):
            totals = [*totals, *[0] * (len(TOTALS) - len(totals))]
        for name, count in zip(TOTALS, totals, strict=True):
            setattr(self, name, count)
        self.at_risk = list(at_risk)
        self.breached = list(breached)
        self.breaches_total = list(breaches_total)
        wait, first_response, handle, resolution = (Histogram.restore(h) for h in hists)
        self.wait_hist = wait
        self.first_response_hist = first_response
        self.handle_hist = handle
        self.resolution_hist = resolution
        self.today = Summary.restore(today) if same_day else Summary()
        self.ring.restore(ring, Summary.restore, now)
        self.blocks.clear()
        self.version += 1
        self.past_version += 1
        self.open_version += 1
        open_rows: list[Any] = open_contacts
        return open_rows


def _business_seconds(rec: OpenContact, kind: int, start: float, end: float) -> float | None:
    """Business seconds from `start` to `end` in the calendar of the contact's SLA of
    `kind` (None when that SLA has no calendar or does not apply)."""
    for planned, _, _, calendar in rec.plan:
        if planned == kind:
            return None if calendar is None else calendar.elapsed(start, end)
    return None


class LiveView:
    """Live state of one queue x channel at the reading clock (computed at read time):
    contacts waiting, the longest wait, open contacts by backlog age, and the age of the
    oldest open contact (0 when none)."""

    __slots__ = ("backlog", "longest_wait", "oldest_open", "waiting")

    def __init__(
        self, waiting: int, longest_wait: float, backlog: list[int], oldest_open: float = 0.0
    ) -> None:
        self.waiting = waiting
        self.longest_wait = longest_wait
        self.backlog = backlog
        self.oldest_open = oldest_open


class QueueBoard(FactSink):
    """The queue stage: every queue x channel (`QueueChannel`, created on first use and
    capped at `max_queue_channels`, the rest folded into `_overflow`), their windows, open
    contacts and SLA clock, and the agents per queue. Facts arrive as `FactSink` calls."""

    def __init__(self, settings: Settings, targets: TargetBook) -> None:
        self.settings = settings
        self.targets = targets
        engine = settings.engine
        self.bucket_seconds = engine.bucket_seconds
        windows = settings.window_seconds()
        self.trailing: dict[str, int] = {n: s for n, s in windows.items() if s is not None}
        self.has_today = "today" in windows
        staffing = settings.staffing
        longest = max(
            [
                *self.trailing.values(),
                staffing.arrival_window_seconds,
                staffing.handle_window_seconds,
                self.bucket_seconds,
            ]
        )
        self.ring_slots = longest // self.bucket_seconds
        # Every trailing length read (windows and staffing), in buckets, shortest first.
        self.lengths = sorted(
            {
                max(1, s // self.bucket_seconds)
                for s in (
                    *self.trailing.values(),
                    staffing.arrival_window_seconds,
                    staffing.handle_window_seconds,
                )
            }
        )
        self.zone = settings.zone
        self.day_starts_at = settings.day_starts_at_minutes
        self.max_queue_channels = engine.max_queue_channels
        self.hist_bounds = (
            bounds_with(WAIT_BOUNDS, _configured(settings, "answer_within_seconds")),
            bounds_with(
                FIRST_RESPONSE_BOUNDS, _configured(settings, "first_response_within_seconds")
            ),
            bounds_with(HANDLE_BOUNDS, ()),
            bounds_with(RESOLUTION_BOUNDS, _configured(settings, "resolution_within_seconds")),
        )
        self.agents = QueueAgentBoard(settings)
        self.now = -_INF
        self.sla = SlaClock()
        self.day_start = -_INF
        self.day_end = -_INF
        self.stats: dict[tuple[str, str], QueueChannel] = {}
        self.tracked: list[QueueChannel] = []
        self.queue_channels = 0  # tracked pairs other than the _overflow ones
        self.overflow_queue_channels = 0  # distinct pairs folded into _overflow (aliases kept)
        self._plans: dict[tuple[str, str, str], SlaPlan] = {}
        self._plans_version = targets.version

    # ------------------------------------------------------------------ clock

    def advance(self, now: float) -> None:
        """Move both clocks forward: day rollover, then every SLA clock that is due."""
        self.advance_reading(now)
        self.advance_sla(now)

    def advance_reading(self, now: float) -> None:
        """Move the reading clock: windows, attribution, the local day (and its rollover)."""
        if now <= self.now:
            return
        self.now = now
        self.agents.advance(now)
        if now >= self.day_end:
            self.day_start, self.day_end = day_bounds(now, self.zone, self.day_starts_at)
            for qc in self.tracked:
                qc.today = Summary()

    def advance_sla(self, now: float) -> None:
        """Move the SLA clock: every at-risk and breach time up to `now` takes effect."""
        self.sla.advance(now)

    @property
    def sla_now(self) -> float:
        return self.sla.now

    # ------------------------------------------------------------------ lookup

    def stats_for(self, queue: str, channel: str) -> QueueChannel:
        """The stats of a queue x channel, created on first use (restoring state)."""
        return self._stats(queue, channel)

    def _stats(self, queue: str, channel: str) -> QueueChannel:
        qc = self.stats.get((queue, channel))
        if qc is None:
            qc = self._create(queue, channel)
        return qc

    def _create(self, queue: str, channel: str) -> QueueChannel:
        if self.queue_channels >= self.max_queue_channels and queue != OVERFLOW_QUEUE:
            folded = self._stats(OVERFLOW_QUEUE, channel)
            if self.overflow_queue_channels < MAX_OVERFLOW_ALIASES:
                self.overflow_queue_channels += 1
                self.stats[(queue, channel)] = folded
            return folded
        ring: BucketRing[Summary] = BucketRing(self.bucket_seconds, self.ring_slots, Summary)
        qc = QueueChannel(queue, channel, ring, self.hist_bounds)
        self.stats[(queue, channel)] = qc
        self.tracked.append(qc)
        if queue != OVERFLOW_QUEUE:
            self.queue_channels += 1
        return qc

    def _summaries(self, qc: QueueChannel, ts: float) -> tuple[Summary, ...]:
        """Where a fact at event time `ts` is attributed: its bucket and, if today, the day."""
        now = self.now
        at = ts if ts < now else now
        if at < qc.first_seen:
            qc.first_seen = at
        bucket = qc.ring.at(at, now)
        qc.version += 1
        index = int(at // self.bucket_seconds)
        if index != int(now // self.bucket_seconds):
            qc.past_version += 1
            if qc.blocks:
                qc.blocks.pop(index // BLOCK_BUCKETS, None)
        in_today = self.has_today and at >= self.day_start
        if bucket is None:
            return (qc.today,) if in_today else ()
        return (bucket, qc.today) if in_today else (bucket,)

    # ------------------------------------------------------------------ SLA clocks

    def _plan(self, queue: str, channel: str, priority: str) -> SlaPlan:
        """The SLA plan of a contact entering now (targets may have changed live; a
        contact keeps the plan it entered with)."""
        if self._plans_version != self.targets.version:
            self._plans = {}
            self._plans_version = self.targets.version
        key = (queue, channel, priority)
        plan = self._plans.get(key)
        if plan is None:
            targets = self.targets.get(*key)
            plan = self._plans[key] = sla_plan(targets, channel, self.targets.calendar(targets))
        return plan

    def _leave(self, qc: QueueChannel, contact_id: str, ts: float) -> None:
        rec = qc.open.pop(contact_id, None)
        if rec is None:
            return
        qc.open_version += 1
        self.sla.settle(rec, ts)
        for kind in KINDS:
            self.sla.met(rec, kind)
        if rec.waiting:
            qc.waiting -= 1
        self.sla.remove(rec)
        rec.wake = LEFT

    # ------------------------------------------------------------------ stored state

    def snapshot_queue(self, queue: str) -> dict[str, Any]:
        """Everything kept for one queue: every channel of it, and its agents."""
        found = self.agents.queues.get(queue)
        return {
            "day_start": self.day_start,
            "pairs": [qc.snapshot() for qc in self.tracked if qc.queue == queue],
            "agents": None if found is None else found.snapshot(),
        }

    def restore_queue(self, queue: str, value: dict[str, Any]) -> None:
        """Put a stored queue back (the reading clock already runs): today's totals only
        if stored on the current local day, buckets the rings still reach, and SLA clocks
        re-armed at the SLA clock."""
        same_day = value["day_start"] == self.day_start
        for stored in value["pairs"]:
            channel = stored[0]
            qc = self._stats(queue, channel)
            qc.waiting = 0
            for contact_id, first_entry, entry, priority, sla, waiting in qc.restore(
                stored, same_day, self.now
            ):
                plan = self._plan(queue, channel, PRIORITIES[priority])
                rec = OpenContact(contact_id, first_entry, entry, priority, plan, sla, waiting, qc)
                qc.open[contact_id] = rec
                qc.waiting += waiting
                self.sla.start(rec)
        agents = value["agents"]
        if agents is not None:
            found = self.agents.queues.get(queue)
            if found is None:
                found = self.agents.queues[queue] = self.agents.new_queue()
            found.restore(agents, same_day, self.agents.now)

    def drop_queue(self, queue: str) -> None:
        """Forget one queue (its partition moved to another worker): its series go at once."""
        for qc in [qc for qc in self.tracked if qc.queue == queue]:
            for rec in qc.open.values():
                self.sla.remove(rec)
                rec.wake = LEFT
            self.tracked.remove(qc)
            del self.stats[(queue, qc.channel)]
            if queue != OVERFLOW_QUEUE:
                self.queue_channels -= 1
        self.agents.queues.pop(queue, None)

    # ------------------------------------------------------------------ facts

    def entered(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        first_entry: float,
        priority: str,
        team: str | None,
        met_mask: int,
        breached_mask: int,
    ) -> None:
        """The contact entered this queue (new, transferred in, or queued again)."""
        qc = self._stats(queue, channel)
        if team is not None and (ts, team) > (qc.team_ts, qc.team or ""):
            qc.team = team  # the latest by event time: the same whatever the arrival order
            qc.team_ts = ts
        qc.offered_total += 1
        for s in self._summaries(qc, ts):
            s.offered += 1
        self._leave(qc, contact_id, ts)
        sla = SlaClock.initial(channel, met_mask, breached_mask)
        prio = PRIORITY_INDEX[priority]
        plan = self._plan(queue, channel, priority)
        rec = OpenContact(contact_id, first_entry, ts, prio, plan, sla, True, qc)
        for kind in KINDS:
            if rec.state(kind) == BREACHED:
                qc.breached[sla_index(prio, kind)] += 1
        qc.open[contact_id] = rec
        qc.waiting += 1
        qc.open_version += 1
        self.sla.start(rec)

    def left(self, queue: str, channel: str, contact_id: str, ts: float) -> None:
        """Transferred out: leaves the queue neither answered nor abandoned."""
        qc = self._stats(queue, channel)
        qc.transferred_total += 1
        for s in self._summaries(qc, ts):
            s.transferred += 1
        self._leave(qc, contact_id, ts)

    def answered(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        priority: str,
        wait: float,
        first_response: float | None,
    ) -> None:
        qc = self._stats(queue, channel)
        met = wait <= self.targets.get(queue, channel, priority).answer_within_seconds
        qc.answered_total += 1
        qc.answered_within_target_total += met
        qc.wait_hist.observe(wait)
        summaries = self._summaries(qc, ts)
        for s in summaries:
            s.answered_wait(wait, met)
        if first_response is not None:
            self._first_response(qc, summaries, first_response)
        rec = qc.open.get(contact_id)
        if rec is not None:
            self.sla.settle(rec, ts)
            if rec.waiting:
                rec.waiting = False
                qc.waiting -= 1
                qc.open_version += 1
            self.sla.met(rec, ANSWER)

    def abandoned(
        self, queue: str, channel: str, contact_id: str, ts: float, priority: str, wait: float
    ) -> None:
        qc = self._stats(queue, channel)
        targets = self.targets.get(queue, channel, priority)
        short = wait < targets.short_abandon_seconds
        met = wait <= targets.answer_within_seconds
        if short:
            qc.short_abandoned_total += 1
        else:
            qc.abandoned_total += 1
        for s in self._summaries(qc, ts):
            s.abandoned_wait(short, met)
        self._leave(qc, contact_id, ts)

    def _first_response(
        self, qc: QueueChannel, summaries: tuple[Summary, ...], seconds: float
    ) -> None:
        qc.first_response_hist.observe(seconds)
        for s in summaries:
            s.first_response(seconds)

    def responded(
        self, queue: str, channel: str, contact_id: str, ts: float, first_response: float | None
    ) -> None:
        """An agent replied; `first_response` is set on the contact's first reply."""
        qc = self._stats(queue, channel)
        summaries = self._summaries(qc, ts)
        if first_response is not None:
            self._first_response(qc, summaries, first_response)
        rec = qc.open.get(contact_id)
        if rec is not None:
            if first_response is not None:
                business = _business_seconds(rec, FIRST_RESPONSE, ts - first_response, ts)
                if business is not None:
                    for s in summaries:
                        s.business_time(business, None)
                self.sla.settle(rec, ts)
                self.sla.met(rec, FIRST_RESPONSE)
            if rec.waiting and channel not in LIVE_CHANNELS:
                rec.waiting = False
                qc.waiting -= 1
                qc.open_version += 1

    def missed(self, queue: str, channel: str, ts: float) -> None:
        """An offer an agent did not take; the contact keeps waiting."""
        self._stats(queue, channel).missed_total += 1

    def closed(self, queue: str, channel: str, contact_id: str, ts: float) -> None:
        self._leave(self._stats(queue, channel), contact_id, ts)

    def handled(
        self,
        queue: str,
        channel: str,
        ts: float,
        handle: float,
        hold: float | None,
        after_contact_work: float | None,
    ) -> None:
        qc = self._stats(queue, channel)
        qc.handle_hist.observe(handle)
        for s in self._summaries(qc, ts):
            s.handled(handle, hold, after_contact_work)

    def resolved(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        resolution: float,
        first_contact: bool,
    ) -> None:
        qc = self._stats(queue, channel)
        qc.resolved_total += 1
        qc.resolution_hist.observe(resolution)
        summaries = self._summaries(qc, ts)
        for s in summaries:
            s.resolution(resolution, first_contact)
        rec = qc.open.get(contact_id)
        if rec is not None:
            business = _business_seconds(rec, RESOLUTION, ts - resolution, ts)
            if business is not None:
                for s in summaries:
                    s.business_time(None, business)
            self.sla.settle(rec, ts)
            self.sla.met(rec, RESOLUTION)

    def reopened(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        first_entry: float,
        priority: str,
    ) -> None:
        """Open again (backlog); SLAs already met or breached are not re-armed."""
        qc = self._stats(queue, channel)
        qc.reopened_total += 1
        for s in self._summaries(qc, ts):
            s.reopened += 1
        if contact_id not in qc.open:
            qc.open_version += 1
            qc.open[contact_id] = OpenContact(
                contact_id,
                first_entry,
                ts,
                PRIORITY_INDEX[priority],
                (),
                ALL_DONE,
                False,
                qc,
            )

    def surveyed(
        self,
        queue: str,
        channel: str,
        ts: float,
        csat: int | None,
        ces: int | None,
        nps: int | None,
    ) -> None:
        qc = self._stats(queue, channel)
        for s in self._summaries(qc, ts):
            s.survey(csat, ces, nps)

    def agent_state(self, queue: str, agent_id: str, state: str | None, ts: float) -> None:
        self.agents.agent_state(queue, agent_id, state, ts)

    # ------------------------------------------------------------------ reading

    def _past(self, qc: QueueChannel) -> dict[int, Summary]:
        """Length in buckets -> merged summary of that window's buckets but the newest,
        cached until a new bucket begins or a fact lands in an older one. Walking back from
        the newest past bucket, whole blocks come from `qc.blocks` (merged once)."""
        current = int(self.now // self.bucket_seconds)
        key = (current, qc.past_version)
        if qc.past_key == key:
            return qc.past_cache
        ring = qc.ring
        blocks = qc.blocks
        oldest = current - self.lengths[-1] + 1 if self.lengths else current
        for stale in [b for b in blocks if b * BLOCK_BUCKETS < oldest]:
            del blocks[stale]
        total = Summary()
        merged: dict[int, Summary] = {}
        index = current - 1  # the next bucket to take, walking back
        for length in self.lengths:
            first = current - length + 1  # the window's oldest bucket
            while index >= first:
                block = index // BLOCK_BUCKETS
                block_start = block * BLOCK_BUCKETS
                if index == block_start + BLOCK_BUCKETS - 1 and block_start >= first:
                    found = blocks.get(block)
                    if found is None:
                        found = blocks[block] = self._block(ring, block_start)
                    total.merge(found)
                    index = block_start - 1
                    continue
                slot = index % ring.slots
                summary = ring.summaries[slot]
                if summary is not None and ring.indexes[slot] == index:
                    total.merge(summary)
                index -= 1
            snapshot = Summary()
            snapshot.merge(total)
            merged[length] = snapshot
        qc.past_key = key
        qc.past_cache = merged
        return merged

    @staticmethod
    def _block(ring: BucketRing[Summary], start: int) -> Summary:
        """The merged summary of the buckets [start, start + BLOCK_BUCKETS)."""
        out = Summary()
        for index in range(start, start + BLOCK_BUCKETS):
            slot = index % ring.slots
            summary = ring.summaries[slot]
            if summary is not None and ring.indexes[slot] == index:
                out.merge(summary)
        return out

    def _trailing(self, qc: QueueChannel) -> dict[int, Summary]:
        """Length in buckets -> merged summary of that trailing window, newest bucket
        included. Kept while no fact arrives and the buckets that leave the windows as the
        clock moves on are empty: the merges are then the same."""
        current = int(self.now // self.bucket_seconds)
        held = qc.trailing_key
        if (
            held[1] == qc.version
            and held[2] == qc.past_version
            and (held[0] == current or self._left_empty(qc.ring, held[0], current))
        ):
            qc.trailing_key = (current, held[1], held[2])
            return qc.trailing_cache
        past = self._past(qc)
        ring = qc.ring
        slot = current % ring.slots
        newest = ring.summaries[slot] if ring.indexes[slot] == current else None
        merged: dict[int, Summary] = {}
        for length, summary in past.items():
            if newest is None:
                merged[length] = summary  # the past merge is never changed either
            else:
                out = Summary()
                out.merge(summary)
                out.merge(newest)
                merged[length] = out
        qc.trailing_key = (current, qc.version, qc.past_version)
        qc.trailing_cache = merged
        return merged

    def _left_empty(self, ring: BucketRing[Summary], before: int, current: int) -> bool:
        """True if every bucket that left a trailing window between the clock's buckets
        `before` and `current` was empty (those that entered are: no fact came since)."""
        for length in self.lengths:
            # the window of `length` lost the buckets [before - length + 1, current - length]
            for index in range(before - length + 1, min(before, current - length) + 1):
                slot = index % ring.slots
                if ring.indexes[slot] == index and ring.summaries[slot] is not None:
                    return False
        return True

    def windows(self, qc: QueueChannel) -> dict[str, Summary]:
        """Window name -> merged summary, in the configured order: the same dict (to read,
        never to change) while the merges and today's summary are the same."""
        merged = self._trailing(qc)
        today = qc.today
        cached = qc.windows_cache
        if cached is not None and cached[0] is merged and cached[1] is today:
            return cached[2]
        bucket = self.bucket_seconds
        result: dict[str, Summary] = {}
        for name in self.settings.windows:
            seconds = self.trailing.get(name)
            result[name] = today if seconds is None else merged[max(1, seconds // bucket)]
        qc.windows_cache = (merged, today, result)
        return result

    def trailing_summary(self, qc: QueueChannel, seconds: int) -> tuple[Summary, float]:
        """The merged summary of a trailing window and the seconds it actually covers.

        The span runs from the window's first bucket (or the queue's first fact, if later)
        to now: the honest denominator of a rate.
        """
        merged = self._trailing(qc)[max(1, seconds // self.bucket_seconds)]
        start = (int(self.now // self.bucket_seconds) - seconds // self.bucket_seconds + 1) * (
            self.bucket_seconds
        )
        span = self.now - max(float(start), qc.first_seen)
        return merged, max(span, float(self.bucket_seconds))

    def live(self, qc: QueueChannel) -> LiveView:
        """Waiting count, longest wait, backlog by age and oldest open at the current clock
        (the open contacts' entry times are sorted once per change of them)."""
        now = self.now
        cached = qc.live_cache
        if cached is None or cached[0] != qc.open_version:
            oldest_wait = _INF
            times = []
            for rec in qc.open.values():
                if rec.waiting and rec.entry < oldest_wait:
                    oldest_wait = rec.entry
                times.append(rec.first_entry)
            times.sort()
            # kept as doubles: a third of the boxed floats' memory for a large backlog
            cached = qc.live_cache = (qc.open_version, array("d", times), oldest_wait)
        _, entries, oldest_wait = cached
        # backlog by age: first entry after now - limit is younger than the limit
        younger = [len(entries) - bisect_right(entries, now - limit) for limit in _AGE_LIMITS]
        backlog = [younger[0], younger[1] - younger[0], younger[2] - younger[1]]
        backlog.append(len(entries) - younger[2])
        longest = max(0.0, now - oldest_wait) if oldest_wait != _INF else 0.0
        oldest = max(0.0, now - entries[0]) if entries else 0.0
        return LiveView(qc.waiting, longest, backlog, oldest)
