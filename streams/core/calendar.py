"""Business-hours calendars: open ranges per weekday in a time zone, closed holidays, and
business-time arithmetic (the instant a number of business seconds has passed; the
business seconds between two instants). Pure: days are computed from the zone's rules.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MINUTES = 24 * 60
# Days a due-time search may walk before it gives up (a calendar with open hours has one
# open range a week at least; holidays can close at most the days they list).
MAX_DAYS = 3660
MAX_SPAN_DAYS = 4096  # a timeline longer than this is laid out again around the query

# One weekday's open ranges: (start minute, end minute) from local midnight, start < end;
# an end past 1440 runs into the next day (a night shift such as 22:00-06:00).
Ranges = tuple[tuple[int, int], ...]


class Calendar:
    """When a floor is open: ranges per weekday (local time of `timezone`) and holidays
    (whole local days closed). `due` gives the instant at which a number of business
    seconds has passed since a start; `elapsed` the business seconds between two instants.
    Open intervals are laid out in epoch seconds from the zone's rules (DST-exact), with
    running totals, as far as queries reach: each answer is one or two binary searches."""

    def __init__(
        self, name: str, timezone: str, week: tuple[Ranges, ...], holidays: frozenset[date]
    ) -> None:
        if len(week) != 7:
            raise ValueError("a calendar needs the ranges of all 7 weekdays")
        if not any(week):
            raise ValueError(f"calendar {name!r} has no open hours")
        self.name = name
        self.zone = ZoneInfo(timezone)
        self.week = week
        self.holidays = holidays
        # The timeline: open intervals of the local days [first, last) in order, merged
        # where they touch (a night range into the next morning), and the business seconds
        # before each one's start and up to its end. Complete for instants in
        # [complete_from, complete_until): the day before `first` may reach into `first`.
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._before: list[float] = []
        self._through: list[float] = []
        self._first = self._last = 0
        self._complete_from = self._complete_until = 0.0

    def _local(self, day: date, minute: int) -> float:
        """Epoch seconds of a local wall time; `minute` may run past midnight. A wall time
        that DST skips is taken with the offset before the change (02:30 -> 03:30 CEST)."""
        extra, minute = divmod(minute, DAY_MINUTES)
        when = day + timedelta(days=extra)
        hour, mins = divmod(minute, 60)
        return datetime(when.year, when.month, when.day, hour, mins, tzinfo=self.zone).timestamp()

    def _midnight(self, ordinal: int) -> float:
        return self._local(date.fromordinal(ordinal), 0)

    def _day(self, ordinal: int) -> list[tuple[float, float]]:
        """The open intervals of the ranges that start on one local day, in order, with
        any part on a holiday cut off."""
        day = date.fromordinal(ordinal)
        if day in self.holidays:
            return []
        out = []
        for start_minute, end_minute in self.week[day.weekday()]:
            start = self._local(day, start_minute)
            end = self._local(day, end_minute)
            if end_minute > DAY_MINUTES and day + timedelta(days=1) in self.holidays:
                end = self._local(day, DAY_MINUTES)  # the next day is closed
            if end > start:
                out.append((start, end))
        return out

    def _append(self, start: float, end: float) -> None:
        if self._ends and start <= self._ends[-1]:  # touches the last one: one interval
            if end > self._ends[-1]:
                self._through[-1] += end - self._ends[-1]
                self._ends[-1] = end
            return
        total = self._through[-1] if self._through else 0.0
        self._starts.append(start)
        self._ends.append(end)
        self._before.append(total)
        self._through.append(total + end - start)

    def _layout(self, first: int, last: int) -> None:
        """The timeline of the days [first, last), from scratch."""
        self._starts, self._ends, self._before, self._through = [], [], [], []
        for ordinal in range(first, last):
            for start, end in self._day(ordinal):
                self._append(start, end)
        self._first, self._last = first, last
        self._complete_from = self._midnight(first + 1)
        self._complete_until = self._midnight(last)

    def _cover(self, ts: float) -> None:
        """Lay the timeline out far enough that `ts` is inside its complete part: forward
        in place; backward (an older instant) or far away, laid out again."""
        if self._complete_from <= ts < self._complete_until:
            return
        day = datetime.fromtimestamp(ts, self.zone).date().toordinal()
        empty = self._first == self._last
        if empty or max(day + 1, self._last) - min(day - 1, self._first) > MAX_SPAN_DAYS:
            self._layout(day - 1, day + 1)
        elif ts < self._complete_from:
            self._layout(day - 1, self._last)
        else:
            while self._last < day + 1:
                for start, end in self._day(self._last):
                    self._append(start, end)
                self._last += 1
            self._complete_until = self._midnight(self._last)

    def _business(self, ts: float) -> float:
        """Business seconds of the timeline before `ts` (which it covers)."""
        i = bisect_right(self._starts, ts) - 1
        if i < 0:
            return 0.0
        end = self._ends[i]
        return self._before[i] + ((ts if ts < end else end) - self._starts[i])

    def due(self, start: float, seconds: float) -> float:
        """The instant at which `seconds` business seconds have passed since `start`: an
        instant inside an open range, or the end of one (never later in closed hours)."""
        if seconds <= 0:
            return start
        self._cover(start)
        return self._at(self._business(start) + seconds)

    def dues(self, start: float, seconds: float, lead: float) -> tuple[float, float]:
        """`due(start, seconds)` and `due(start, seconds - lead)` (an SLA's due instant and
        the instant it falls at risk), finding `start` on the timeline once."""
        if seconds - lead <= 0:
            return self.due(start, seconds), start
        self._cover(start)
        before = self._business(start)
        return self._at(before + seconds), self._at(before + seconds - lead)

    def _at(self, target: float) -> float:
        """The instant at which the timeline's business seconds reach `target` (laid out
        further as far as it takes)."""
        days = 0
        while not self._through or self._through[-1] < target:
            if days >= MAX_DAYS:
                raise ValueError(f"calendar {self.name!r}: no open hours within {MAX_DAYS} days")
            for begin, end in self._day(self._last):
                self._append(begin, end)
            self._last += 1
            days += 1
        if days:
            self._complete_until = self._midnight(self._last)
        i = bisect_left(self._through, target)
        return self._starts[i] + (target - self._before[i])

    def elapsed(self, start: float, end: float) -> float:
        """Business seconds between `start` and `end` (0 when end <= start)."""
        if end <= start:
            return 0.0
        self._cover(start)
        self._cover(end)
        return self._business(end) - self._business(start)

    def is_open(self, ts: float) -> bool:
        """Whether `ts` falls inside an open range (its start included, its end not)."""
        self._cover(ts)
        i = bisect_right(self._starts, ts) - 1
        return i >= 0 and ts < self._ends[i]
