"""Business-time arithmetic, against instants worked out by hand in UTC.

Europe/Berlin is UTC+1 in winter (CET) and UTC+2 in summer (CEST); in 2026 summer time
starts Sunday 29 March (02:00 -> 03:00) and ends Sunday 25 October (03:00 -> 02:00).
America/New_York is UTC-5 (EST) / UTC-4 (EDT); in 2026 DST starts Sunday 8 March and
ends Sunday 1 November, both at 02:00 local.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from streams.core.calendar import Calendar

H = 3600.0
OFFICE = ((9 * 60, 17 * 60),)  # 09:00-17:00
SPLIT = ((8 * 60, 12 * 60), (13 * 60, 17 * 60))  # 08:00-12:00,13:00-17:00
NIGHT = ((22 * 60, 30 * 60),)  # 22:00-06:00 (runs into the next day)


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def weekdays(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[tuple[int, int], ...], ...]:
    return (ranges,) * 5 + ((), ())


def office(holidays: tuple[str, ...] = (), zone: str = "Europe/Berlin") -> Calendar:
    days = frozenset(date.fromisoformat(d) for d in holidays)
    return Calendar("office", zone, weekdays(OFFICE), days)


def test_friday_afternoon_ticket_is_due_monday_noon() -> None:
    # Fri 2026-12-04 16:00 CET = 15:00 UTC; 1 h on Friday, 3 h on Monday from 09:00 CET.
    start = utc(2026, 12, 4, 15)
    assert office().due(start, 4 * H) == utc(2026, 12, 7, 11)  # Mon 12:00 CET
    assert office().elapsed(start, utc(2026, 12, 7, 11)) == 4 * H


def test_a_holiday_on_the_due_day_moves_it_to_the_next_open_day() -> None:
    # Thu 2026-12-24 16:00 CET: 1 h Thursday; Fri 25th a holiday; the weekend; Mon 28th
    # is a holiday too; Tue 29th 09:00 + 3 h = 12:00 CET = 11:00 UTC.
    cal = office(("2026-12-25", "2026-12-28"))
    assert cal.due(utc(2026, 12, 24, 15), 4 * H) == utc(2026, 12, 29, 11)


def test_several_ranges_in_one_day() -> None:
    cal = Calendar("split", "Europe/Berlin", weekdays(SPLIT), frozenset())
    # Mon 2026-12-07 11:00 CET: 1 h until 12:00, lunch, 13:00 + 1 h = 14:00 CET.
    assert cal.due(utc(2026, 12, 7, 10), 2 * H) == utc(2026, 12, 7, 13)
    # Starting during lunch counts from 13:00.
    assert cal.due(utc(2026, 12, 7, 11, 30), 0.5 * H) == utc(2026, 12, 7, 12, 30)
    assert cal.elapsed(utc(2026, 12, 7, 7), utc(2026, 12, 7, 15)) == 7 * H  # 08-12, 13-16 CET


def test_due_exactly_at_the_end_of_an_open_range_stays_there() -> None:
    # 8 h from Mon 09:00 CET end at 17:00 CET the same day, not at Tuesday's 09:00.
    assert office().due(utc(2026, 12, 7, 8), 8 * H) == utc(2026, 12, 7, 16)
    cal = Calendar("split", "Europe/Berlin", weekdays(SPLIT), frozenset())
    assert cal.due(utc(2026, 12, 7, 7), 4 * H) == utc(2026, 12, 7, 11)  # 12:00, lunch


def test_a_night_shift_crosses_midnight() -> None:
    cal = Calendar("night", "Europe/Berlin", (NIGHT,) * 7, frozenset())
    # Mon 2026-12-07 21:00 CET: closed until 22:00, then 4 h -> Tue 02:00 CET.
    assert cal.due(utc(2026, 12, 7, 20), 4 * H) == utc(2026, 12, 8, 1)
    # Tue 05:00 CET is inside Monday's night: 1 h to 06:00, then Tue 22:00 + 1 h.
    assert cal.due(utc(2026, 12, 8, 4), 2 * H) == utc(2026, 12, 8, 22)
    assert cal.is_open(utc(2026, 12, 8, 4)) and not cal.is_open(utc(2026, 12, 8, 12))


def test_a_holiday_closes_the_part_of_a_night_range_that_falls_on_it() -> None:
    # Thu 2026-12-24 22:00 CET to midnight only (the 25th is closed), then the night of
    # the 25th is skipped too; Sat 26th 22:00 CET + 1 h = 23:00 CET = 22:00 UTC.
    cal = Calendar("night", "Europe/Berlin", (NIGHT,) * 7, frozenset({date(2026, 12, 25)}))
    assert cal.due(utc(2026, 12, 24, 21), 3 * H) == utc(2026, 12, 26, 22)


def test_berlin_spring_forward_night_has_seven_hours() -> None:
    # Sat 2026-03-28 22:00 CET (21:00 UTC) to Sun 06:00 CEST (04:00 UTC): 7 real hours.
    cal = Calendar("night", "Europe/Berlin", (NIGHT,) * 7, frozenset())
    start = utc(2026, 3, 28, 21)
    assert cal.elapsed(start, utc(2026, 3, 29, 4)) == 7 * H
    # 7.5 h: the whole night, then Sun 22:00 CEST (20:00 UTC) + 0.5 h.
    assert cal.due(start, 7.5 * H) == utc(2026, 3, 29, 20, 30)


def test_berlin_fall_back_night_has_nine_hours() -> None:
    # Sat 2026-10-24 22:00 CEST (20:00 UTC) to Sun 06:00 CET (05:00 UTC): 9 real hours.
    cal = Calendar("night", "Europe/Berlin", (NIGHT,) * 7, frozenset())
    start = utc(2026, 10, 24, 20)
    assert cal.due(start, 8.5 * H) == utc(2026, 10, 25, 4, 30)  # 05:30 CET
    assert cal.elapsed(start, utc(2026, 10, 25, 5)) == 9 * H


def test_new_york_office_across_both_dst_changes() -> None:
    cal = office(zone="America/New_York")
    # Fri 2026-03-06 16:00 EST (21:00 UTC) + 4 h -> Mon 03-09 12:00 EDT (16:00 UTC).
    assert cal.due(utc(2026, 3, 6, 21), 4 * H) == utc(2026, 3, 9, 16)
    # Fri 2026-10-30 16:00 EDT (20:00 UTC) + 4 h -> Mon 11-02 12:00 EST (17:00 UTC).
    assert cal.due(utc(2026, 10, 30, 20), 4 * H) == utc(2026, 11, 2, 17)


def test_new_york_spring_forward_night() -> None:
    # Sat 2026-03-07 22:00 EST (Sun 03:00 UTC) to Sun 06:00 EDT (10:00 UTC): 7 hours.
    cal = Calendar("night", "America/New_York", (NIGHT,) * 7, frozenset())
    assert cal.elapsed(utc(2026, 3, 8, 3), utc(2026, 3, 8, 10)) == 7 * H
    assert cal.due(utc(2026, 3, 8, 3), 7 * H) == utc(2026, 3, 8, 10)


def test_a_calendar_without_open_hours_is_refused() -> None:
    with pytest.raises(ValueError, match="no open hours"):
        Calendar("never", "UTC", ((),) * 7, frozenset())


def test_long_targets_walk_many_days() -> None:
    # 80 business hours = two full 40 h weeks: from Mon 2026-12-07 09:00 CET to Fri 18th
    # 17:00 CET (16:00 UTC), the end of the last open range.
    assert office().due(utc(2026, 12, 7, 8), 80 * H) == utc(2026, 12, 18, 16)
