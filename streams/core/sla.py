"""SLA clocks: kinds, states, a contact's plan, counts per priority and kind (with the
contacts at risk and breached in due order), and the due-time clock that moves open
contacts to at risk and breached as time passes.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterator
from typing import Final

from streams.core.calendar import Calendar
from streams.core.contract import LIVE_CHANNELS, PRIORITIES, SLA_KINDS
from streams.core.flag_heap import FlagHeap
from streams.core.settings import TargetSettings

ANSWER, FIRST_RESPONSE, RESOLUTION = 0, 1, 2
KINDS = (ANSWER, FIRST_RESPONSE, RESOLUTION)
PENDING, AT_RISK, BREACHED, DONE = 0, 1, 2, 3  # one 2-bit state per kind
ALL_DONE = DONE | DONE << 2 | DONE << 4
PRIORITY_INDEX = {p: i for i, p in enumerate(PRIORITIES)}
_KIND_COUNT: Final = 3  # len(SLA_KINDS), inlined by mypyc
SLA_COUNT = len(PRIORITIES) * len(SLA_KINDS)
_INF = math.inf
_NEXT_UP = math.nextafter
_FLAG_SEQ = itertools.count()  # ties of equal due times, unique across every queue
LEFT = -1.0  # `OpenContact.wake` of a contact that left its queue

# (kind, target seconds, at-risk lead seconds, business calendar or None) for each SLA
# that applies to a channel; with a calendar both count business seconds.
SlaPlan = tuple[tuple[int, float, float, Calendar | None], ...]


def sla_index(priority: int, kind: int) -> int:
    """Where the count of one priority (index in PRIORITIES) and SLA kind is kept."""
    return priority * _KIND_COUNT + kind


def sla_applies(kind: int, channel: str) -> bool:
    """answer: voice, chat; first_response: every channel but voice; resolution: all."""
    if kind == ANSWER:
        return channel in LIVE_CHANNELS
    if kind == FIRST_RESPONSE:
        return channel != "voice"
    return True


def sla_target(targets: TargetSettings, kind: int) -> float:
    if kind == ANSWER:
        return targets.answer_within_seconds
    if kind == FIRST_RESPONSE:
        return targets.first_response_within_seconds
    return targets.resolution_within_seconds


def sla_plan(targets: TargetSettings, channel: str, calendar: Calendar | None) -> SlaPlan:
    """The SLA clocks of a contact: each applicable kind with its target, at-risk lead and
    the calendar its seconds are counted in (None: wall-clock time)."""
    return tuple(
        (
            kind,
            sla_target(targets, kind),
            targets.at_risk_fraction * sla_target(targets, kind),
            calendar,
        )
        for kind in KINDS
        if sla_applies(kind, channel)
    )


def due_at(first_entry: float, seconds: float, calendar: Calendar | None) -> float:
    """When `seconds` of SLA time have passed since `first_entry`: wall-clock seconds, or
    business seconds of `calendar` (an instant in open hours, or the end of a range)."""
    if calendar is None:
        return first_entry + seconds
    return calendar.due(first_entry, seconds)


# A flag: (due, seq, contact, kind), kept in a heap per state (at risk, breached) and
# queue x channel. Flags are dropped lazily: one whose contact left the queue or whose
# SLA moved on is skipped when read, and stale flags are swept once most of them are.
Flag = tuple[float, int, "OpenContact", int]


class SlaCounts:
    """Open contacts at risk and breached, and breaches ever, per priority x SLA kind
    (indexed by `sla_index`), and the contacts at risk and breached in due order (`flagged`).
    Each queue x channel is one."""

    __slots__ = ("at_risk", "breached", "breaches_total", "flag_limits", "flags")

    def __init__(self) -> None:
        self.at_risk = [0] * SLA_COUNT
        self.breached = [0] * SLA_COUNT
        self.breaches_total = [0] * SLA_COUNT
        self.flags: list[FlagHeap[OpenContact]] = [FlagHeap(), FlagHeap()]  # AT_RISK, BREACHED
        self.flag_limits = [64, 64]  # heap sizes at which stale flags are swept

    def flag(self, rec: OpenContact, kind: int, state: int, due: float) -> None:
        """`rec`'s SLA of `kind` is now AT_RISK or BREACHED (due at `due`)."""
        heap = self.flags[state - 1]
        heap.push(due, next(_FLAG_SEQ), rec, kind)
        if len(heap) > self.flag_limits[state - 1]:
            heap.keep(lambda contact, flag_kind: _flagged_as(contact, flag_kind, state))
            self.flag_limits[state - 1] = 2 * len(heap) + 64

    def flagged(self, state: int) -> Iterator[Flag]:
        """The contacts whose SLA is in `state` (AT_RISK or BREACHED), by due time: a
        best-first walk of the heap, so the first k cost O(k log k) whatever its size."""
        heap = self.flags[state - 1]
        size = len(heap)
        if not size:
            return
        dues, seqs = heap.dues, heap.seqs
        frontier: list[tuple[float, int, int]] = [(dues[0], seqs[0], 0)]
        while frontier:
            _, _, i = heapq.heappop(frontier)
            entry = heap.entry(i)
            if _flagged_as(entry[2], entry[3], state):
                yield entry
            child = 2 * i + 1
            if child < size:
                heapq.heappush(frontier, (dues[child], seqs[child], child))
                child += 1
                if child < size:
                    heapq.heappush(frontier, (dues[child], seqs[child], child))


def _wakes_before(a: OpenContact, b: OpenContact) -> bool:
    """The clock's order: wake time, then the order they were scheduled in."""
    return a.wake < b.wake or (a.wake == b.wake and a.order < b.order)


def _flagged_as(rec: OpenContact, kind: int, state: int) -> bool:
    """A flag is current while its contact is in the queue and its SLA in that state."""
    return rec.wake != LEFT and rec.state(kind) == state


class OpenContact:
    """An open contact as the queue stage sees it: entry times, waiting flag, SLA states
    (`sla`: a 2-bit PENDING, AT_RISK, BREACHED or DONE per kind) counted in `counts`, its
    queue x channel's. `wake`: its next clock time (inf: none; -1 once it left the queue),
    `order` breaking ties, and `slot` its place in the clock's heap (-1: not in it);
    `dues`: business-time due and at-risk instants, computed once (calendar plans only).
    """

    __slots__ = (
        "contact_id",
        "counts",
        "dues",
        "entry",
        "first_entry",
        "order",
        "plan",
        "priority",
        "sla",
        "slot",
        "waiting",
        "wake",
    )

    def __init__(
        self,
        contact_id: str,
        first_entry: float,
        entry: float,
        priority: int,
        plan: SlaPlan,
        sla: int,
        waiting: bool,
        counts: SlaCounts,
    ) -> None:
        self.contact_id = contact_id
        self.counts = counts
        self.first_entry = first_entry
        self.entry = entry
        self.priority = priority
        self.plan = plan
        self.sla = sla
        self.waiting = waiting
        self.wake = _INF
        self.order = 0
        self.slot = -1
        self.dues: list[float] | None = None  # [due, at risk] per kind, computed once

    def state(self, kind: int) -> int:
        return (self.sla >> (kind << 1)) & 3

    def due(self, kind: int) -> float:
        """When the SLA of `kind` is due (inf when it does not apply to the contact)."""
        for planned, target, _, calendar in self.plan:
            if planned == kind:
                return due_at(self.first_entry, target, calendar)
        return _INF

    def calendar(self, kind: int) -> Calendar | None:
        """The business-hours calendar of the SLA of `kind` (None: wall-clock seconds)."""
        for planned, _, _, calendar in self.plan:
            if planned == kind:
                return calendar
        return None


class SlaClock:
    """The due-time clock: moves open contacts' SLAs to at risk and breached as `now`
    passes their times, keeping `SlaCounts` in step. A fact that meets or ends an SLA
    first settles it at the fact's own time (answered after the due time = breached)."""

    def __init__(self) -> None:
        self.now = -_INF
        # The contacts that have a wake time, in a heap by (wake, order): the earliest
        # first, equal times in the order they were scheduled. Each knows its place
        # (`slot`): a new time moves it, and a contact that leaves is taken out.
        self._heap: list[OpenContact] = []
        self._scheduled = 0

    def advance(self, now: float) -> None:
        """Every at-risk and breach time up to `now` takes effect."""
        if now <= self.now:
            return
        self.now = now
        heap = self._heap
        while heap and heap[0].wake <= now:
            rec = heap[0]
            self.remove(rec)
            rec.wake = _INF
            self.evaluate(rec, now)

    def remove(self, rec: OpenContact) -> None:
        """`rec` leaves the clock (its queue, or this worker): it wakes no more."""
        slot = rec.slot
        if slot < 0:
            return
        rec.slot = -1
        last = self._heap.pop()
        if last is not rec:  # the last takes its place, and moves to where it belongs
            self._place(last, slot)
            self._sift_up(slot)
            self._sift_down(last.slot)

    def start(self, rec: OpenContact) -> None:
        """Schedule a contact that entered (or was restored; a new record either way, not
        in the clock yet): states at the clock's now."""
        rec.wake = _INF
        for kind, target, _, calendar in rec.plan:
            state = rec.state(kind)
            if state in (AT_RISK, BREACHED):
                rec.counts.flag(rec, kind, state, due_at(rec.first_entry, target, calendar))
        self.evaluate(rec, self.now)

    def settle(self, rec: OpenContact, ts: float) -> None:
        """Before a fact at `ts` meets or ends SLAs: apply what the clock would have by `ts`."""
        if ts > self.now:
            self.evaluate(rec, ts)

    def evaluate(self, rec: OpenContact, now: float) -> None:
        """Advance each SLA of `rec` to its state at `now`, then schedule the next change."""
        counts = rec.counts
        wake = _INF
        sla = rec.sla
        base = sla_index(rec.priority, 0)
        first_entry = rec.first_entry
        for kind, target, risk_offset, calendar in rec.plan:
            shift = kind << 1
            state = (sla >> shift) & 3
            if state >= BREACHED:
                continue
            if calendar is None:
                due = first_entry + target
                risk = due - risk_offset
            else:  # at risk once the business seconds left are at most the lead
                dues = rec.dues
                if dues is None:
                    dues = rec.dues = [-1.0] * 6
                slot = kind << 1
                if dues[slot] < 0.0:
                    dues[slot], dues[slot + 1] = calendar.dues(first_entry, target, risk_offset)
                due = dues[slot]
                risk = dues[slot + 1]
            if state == PENDING:
                if now < risk:
                    if risk < wake:
                        wake = risk
                    continue
                state = AT_RISK
                counts.at_risk[base + kind] += 1
            if now > due:
                state = BREACHED
                counts.at_risk[base + kind] -= 1
                counts.breached[base + kind] += 1
                counts.breaches_total[base + kind] += 1
            else:
                after_due = _NEXT_UP(due, _INF)
                if after_due < wake:
                    wake = after_due
            sla = (sla & ~(3 << shift)) | (state << shift)
            if state != (rec.sla >> shift) & 3:
                rec.sla = sla  # flag with the new state in place
                counts.flag(rec, kind, state, due)
        rec.sla = sla
        if wake != rec.wake:
            rec.wake = wake
            if wake == _INF:
                self.remove(rec)
            else:
                self._scheduled += 1
                rec.order = self._scheduled
                if rec.slot < 0:
                    self._heap.append(rec)
                    rec.slot = len(self._heap) - 1
                self._sift_up(rec.slot)
                self._sift_down(rec.slot)

    def _place(self, rec: OpenContact, i: int) -> None:
        self._heap[i] = rec
        rec.slot = i

    def _sift_up(self, i: int) -> None:
        heap = self._heap
        rec = heap[i]
        while i > 0:
            parent = (i - 1) >> 1
            above = heap[parent]
            if not _wakes_before(rec, above):
                break
            self._place(above, i)
            i = parent
        self._place(rec, i)

    def _sift_down(self, i: int) -> None:
        heap = self._heap
        size = len(heap)
        rec = heap[i]
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            right = child + 1
            if right < size and _wakes_before(heap[right], heap[child]):
                child = right
            below = heap[child]
            if not _wakes_before(below, rec):
                break
            self._place(below, i)
            i = child
        self._place(rec, i)

    @staticmethod
    def met(rec: OpenContact, kind: int) -> None:
        """The SLA of `kind` is met or ended: it leaves the at-risk or breached count."""
        shift = kind << 1
        state = (rec.sla >> shift) & 3
        counts = rec.counts
        if state == AT_RISK:
            counts.at_risk[sla_index(rec.priority, kind)] -= 1
        elif state == BREACHED:
            counts.breached[sla_index(rec.priority, kind)] -= 1
        rec.sla |= DONE << shift

    @staticmethod
    def initial(channel: str, met_mask: int, breached_mask: int) -> int:
        """Packed states of a contact entering a queue: DONE for SLAs that do not apply or
        were met before, BREACHED for those breached in an earlier queue."""
        sla = 0
        for kind in KINDS:
            bit = 1 << kind
            if not sla_applies(kind, channel) or met_mask & bit:
                sla |= DONE << (kind << 1)
            elif breached_mask & bit:
                sla |= BREACHED << (kind << 1)
        return sla
