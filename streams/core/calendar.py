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
_MAX_CACHED_DAYS = 4096

# One weekday's open ranges: (start minute, end minute) from local midnight, start < end;
# an end past 1440 runs into the next day (a night shift such as 22:00-06:00).
Ranges = tuple[tuple[int, int], ...]


class Calendar:
    """When a floor is open: ranges per weekday (local time of `timezone`) and holidays
    (whole local days closed). `due` gives the instant at which a number of business
    seconds has passed since a start; `elapsed` the business seconds between two instants.
    Days are built from the zone's rules on first use (DST-exact) and cached."""

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
        # date ordinal -> (open range starts, ends, business seconds before each range)
        self._days: dict[int, tuple[list[float], list[float], list[float]]] = {}

    def _local(self, day: date, minute: int) -> float:
        """Epoch seconds of a local wall time; `minute` may run past midnight. A wall time
        that DST skips is taken with the offset before the change (02:30 -> 03:30 CEST)."""
        extra, minute = divmod(minute, DAY_MINUTES)
        when = day + timedelta(days=extra)
        hour, mins = divmod(minute, 60)
        return datetime(when.year, when.month, when.day, hour, mins, tzinfo=self.zone).timestamp()

    def _day(self, ordinal: int) -> tuple[list[float], list[float], list[float]]:
        """The open intervals of the ranges that start on one local day, in order,
        with any part on a holiday cut off."""
        found = self._days.get(ordinal)
        if found is not None:
            return found
        day = date.fromordinal(ordinal)
        starts: list[float] = []
        ends: list[float] = []
        before: list[float] = []
        if day not in self.holidays:
            total = 0.0
            for start_minute, end_minute in self.week[day.weekday()]:
                start = self._local(day, start_minute)
                end = self._local(day, end_minute)
                if end_minute > DAY_MINUTES and day + timedelta(days=1) in self.holidays:
                    end = self._local(day, DAY_MINUTES)  # the next day is closed
                if end > start:
                    starts.append(start)
                    ends.append(end)
                    before.append(total)
                    total += end - start
        if len(self._days) >= _MAX_CACHED_DAYS:
            self._days.clear()
        found = self._days[ordinal] = (starts, ends, before)
        return found

    def _first_day(self, ts: float) -> int:
        """The ordinal of the day before `ts`'s local day: its night ranges may cover `ts`."""
        return datetime.fromtimestamp(ts, self.zone).date().toordinal() - 1

    def due(self, start: float, seconds: float) -> float:
        """The instant at which `seconds` business seconds have passed since `start`: an
        instant inside an open range, or the end of one (never later in closed hours).
        A whole day is passed in O(1) (its total); the last one is searched in O(log r)."""
        if seconds <= 0:
            return start
        remaining = seconds
        covered = start  # business time before this instant is counted (or passed)
        ordinal = self._first_day(start)
        for _ in range(MAX_DAYS):
            starts, ends, before = self._day(ordinal)
            ordinal += 1
            if not starts:
                continue
            if starts[0] >= covered:  # nothing of this day passed yet
                total = before[-1] + (ends[-1] - starts[-1])
                if total < remaining:
                    remaining -= total
                    covered = ends[-1]
                    continue
                i = bisect_left(before, remaining) - 1
                return starts[i] + (remaining - before[i])
            for i in range(len(starts)):  # the day of `start`, or one a night range overlaps
                begin = starts[i] if starts[i] > covered else covered
                end = ends[i]
                if end <= begin:
                    continue
                if end - begin >= remaining:
                    return begin + remaining
                remaining -= end - begin
                covered = end
        raise ValueError(f"calendar {self.name!r}: no open hours within {MAX_DAYS} days")

    def elapsed(self, start: float, end: float) -> float:
        """Business seconds between `start` and `end` (0 when end <= start)."""
        total = 0.0
        covered = start
        ordinal = self._first_day(start)
        while self._local(date.fromordinal(ordinal), 0) < end:
            starts, ends, _before = self._day(ordinal)
            for i in range(len(starts)):
                begin = starts[i] if starts[i] > covered else covered
                stop = ends[i] if ends[i] < end else end
                if stop > begin:
                    total += stop - begin
                    covered = stop
            ordinal += 1
        return total

    def is_open(self, ts: float) -> bool:
        """Whether `ts` falls inside an open range (its start included, its end not)."""
        for ordinal in (self._first_day(ts), self._first_day(ts) + 1):
            starts, ends, _before = self._day(ordinal)
            i = bisect_right(starts, ts) - 1
            if i >= 0 and ts < ends[i]:
                return True
        return False
