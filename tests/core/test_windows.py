"""Window metrics: bucket expiry, the local day, service-level formulas, empty
denominators and wait quantiles. Expectations are worked out by hand.

Buckets are 10 s; a trailing window of W at now covers the bucket holding now and the
W / 10 - 1 buckets before it (bucket index = floor(epoch seconds / 10)).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from streams.core.windows import day_bounds
from tests.support.helpers import T0, Feed, Metrics

OFFERED = "contactcenter_offered_contacts"


def win(m: Metrics, name: str, queue: str, channel: str, window: str) -> float | None:
    return m.get(name, queue=queue, channel=channel, window=window)


def play(feed: Feed, events: list[tuple[float, str, dict]]) -> None:
    """Send (time, type, fields) in time order."""
    for at, type_, fields in sorted(events, key=lambda e: e[0]):
        feed.event(type_, at, **fields)


# ---------------------------------------------------------------- buckets


def test_a_fact_falls_out_of_5m_but_stays_in_15m() -> None:
    assert T0 % 10 == 0  # T0 starts a bucket, b = T0 / 10
    feed = Feed()
    feed.event("contact.queued", T0 + 5, contact_id="c1", queue="q", channel="voice")  # bucket b

    def offered(at: float) -> list[float | None]:
        feed.advance(at)
        m = feed.metrics()
        return [win(m, OFFERED, "q", "voice", w) for w in ("5m", "15m", "1h")]

    # 5m at now covers buckets idx(now) - 29 .. idx(now); b is inside while idx(now) <= b + 29
    assert offered(T0 + 299.999) == [1, 1, 1]  # idx = b + 29
    assert offered(T0 + 300) == [0, 1, 1]  # idx = b + 30
    # 15m covers idx(now) - 89 .. idx(now)
    assert offered(T0 + 899.999) == [0, 1, 1]  # idx = b + 89
    assert offered(T0 + 900) == [0, 0, 1]  # idx = b + 90
    # 1h covers idx(now) - 359 .. idx(now)
    assert offered(T0 + 3599.999) == [0, 0, 1]
    assert offered(T0 + 3600) == [0, 0, 0]


def test_configured_windows_and_bucket_size() -> None:
    feed = Feed(config={"windows": ["1m", "today"], "engine": {"bucket_seconds": 5}})
    feed.event("contact.queued", T0 + 2, contact_id="c1", queue="q", channel="voice")
    # 5 s buckets: 1m covers idx(now) - 11 .. idx(now); T0 + 2 is in bucket b = T0 / 5
    feed.advance(T0 + 59.999)  # idx = b + 11
    m = feed.metrics()
    assert win(m, OFFERED, "q", "voice", "1m") == 1
    assert {dict(k)["window"] for k in m.matching(OFFERED, queue="q")} == {"1m", "today"}
    feed.advance(T0 + 60)  # idx = b + 12
    assert win(feed.metrics(), OFFERED, "q", "voice", "1m") == 0
    assert win(feed.metrics(), OFFERED, "q", "voice", "today") == 1


# ---------------------------------------------------------------- today


NOV20_2258_UTC = datetime(2026, 11, 20, 22, 58, tzinfo=UTC).timestamp()
NOV20_2300_UTC = datetime(2026, 11, 20, 23, 0, tzinfo=UTC).timestamp()


def test_today_resets_at_local_midnight_in_berlin_and_trailing_windows_keep() -> None:
    # Berlin is UTC+1 in November: local midnight of 21 Nov is 20 Nov 23:00 UTC
    feed = Feed(config={"timezone": "Europe/Berlin"})
    feed.event("contact.queued", NOV20_2258_UTC, contact_id="c1", queue="q", channel="voice")
    feed.event("contact.answered", NOV20_2258_UTC + 12, contact_id="c1")

    feed.advance(NOV20_2300_UTC - 0.001)
    m = feed.metrics()
    assert win(m, OFFERED, "q", "voice", "today") == 1
    assert win(m, "contactcenter_wait_seconds_average", "q", "voice", "today") == 12

    feed.advance(NOV20_2300_UTC)  # no event: the clock alone starts the new day
    m = feed.metrics()
    assert win(m, OFFERED, "q", "voice", "today") == 0
    assert win(m, "contactcenter_wait_seconds_average", "q", "voice", "today") is None
    # 22:58:00 is 12 buckets before 23:00:00: inside 5m (30 buckets), 15m and 1h
    for window in ("5m", "15m", "1h"):
        assert win(m, OFFERED, "q", "voice", window) == 1, window
        assert win(m, "contactcenter_wait_seconds_average", "q", "voice", window) == 12, window

    feed.event("contact.queued", NOV20_2300_UTC + 5, contact_id="c2", queue="q", channel="voice")
    m = feed.metrics()
    assert win(m, OFFERED, "q", "voice", "today") == 1  # c2 only
    assert win(m, OFFERED, "q", "voice", "5m") == 2


def test_today_in_utc_does_not_reset_at_23_utc() -> None:
    feed = Feed()  # default timezone UTC: the day ends at 24:00 UTC
    feed.event("contact.queued", NOV20_2258_UTC, contact_id="c1", queue="q", channel="voice")
    feed.advance(NOV20_2300_UTC)
    assert win(feed.metrics(), OFFERED, "q", "voice", "today") == 1
    feed.advance(NOV20_2300_UTC + 3600)  # 21 Nov 00:00 UTC
    assert win(feed.metrics(), OFFERED, "q", "voice", "today") == 0


def test_today_lasts_25_hours_on_the_day_daylight_saving_time_ends_in_berlin() -> None:
    # 25 Oct 2026: local midnight is 24 Oct 22:00 UTC (CEST, UTC+2), the next one is
    # 25 Oct 23:00 UTC (CET, UTC+1): that local day is 25 hours long
    start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC).timestamp()
    feed = Feed(config={"timezone": "Europe/Berlin"})
    feed.event("contact.queued", start + 1800, contact_id="c1", queue="q", channel="voice")
    feed.advance(start + 24 * 3600 + 30 * 60)  # 25 Oct 22:30 UTC = 23:30 local, same day
    assert win(feed.metrics(), OFFERED, "q", "voice", "today") == 1
    feed.advance(start + 25 * 3600)  # 25 Oct 23:00 UTC = local midnight
    assert win(feed.metrics(), OFFERED, "q", "voice", "today") == 0


# ---------------------------------------------------------------- service level

# (outcome, wait in seconds) with T = 20 and short_abandon_seconds = 5
MIXED = [
    ("answered", 10),  # met
    ("answered", 20),  # met (wait = T counts as met)
    ("answered", 35),
    ("answered", 50),
    ("abandoned", 12),  # normal abandon, wait <= T
    ("abandoned", 20),  # normal abandon, wait = T: <= T
    ("abandoned", 40),  # normal abandon, wait > T
    ("abandoned", 3),  # short: excluded everywhere
    ("abandoned", 5),  # exactly 5: normal abandon, wait <= T
]
# answered 4, answered_met 2 (10, 20);
# abandoned 4 (12, 20, 40, 5), abandoned with wait <= T 3 (12, 20, 5); short 1 (3)
FORMULAS = {
    "std": 2 / (4 + 4),  # standard: answered_met / (answered + abandoned)
    "abm": (2 + 3)
    / (4 + 4),  # abandons_met: (answered_met + abandoned_met) / (answered + abandoned)
    "ans": 2 / 4,  # answered_only: answered_met / answered
}


def test_service_level_formulas_on_one_mixed_data_set() -> None:
    feed = Feed(
        config={
            "defaults": {"answer_within_seconds": 20},
            "targets": [
                {"queue": "abm", "service_level_formula": "abandons_met"},
                {"queue": "ans", "service_level_formula": "answered_only"},
            ],
        }
    )
    events = []
    for j, queue in enumerate(FORMULAS):
        for i, (outcome, wait) in enumerate(MIXED):
            cid = f"{queue}-{i}"
            start = T0 + 100 * i + j
            queued = {"contact_id": cid, "queue": queue, "channel": "voice"}
            events.append((start, "contact.queued", queued))
            events.append((start + wait, f"contact.{outcome}", {"contact_id": cid}))
    play(feed, events)

    m = feed.metrics()
    for queue, expected in FORMULAS.items():
        for window in ("15m", "1h", "today"):
            got = win(m, "contactcenter_service_level_ratio", queue, "voice", window)
            assert got == pytest.approx(expected, abs=1e-12), (queue, window)
            assert win(m, "contactcenter_abandon_ratio", queue, "voice", window) == pytest.approx(
                4 / (4 + 4), abs=1e-12
            )
        labels = {"queue": queue, "channel": "voice"}
        assert m.get("contactcenter_contacts_answered_within_target_total", **labels) == 2
        assert m.get("contactcenter_contacts_short_abandoned_total", **labels) == 1


# ---------------------------------------------------------------- empty denominators

RATIOS = (
    "contactcenter_abandon_ratio",
    "contactcenter_service_level_ratio",
    "contactcenter_wait_seconds_average",
    "contactcenter_wait_seconds_max",
    "contactcenter_first_response_seconds_average",
    "contactcenter_handle_seconds_average",
    "contactcenter_resolution_seconds_average",
    "contactcenter_first_contact_resolution_ratio",
    "contactcenter_reopen_ratio",
    "contactcenter_csat_ratio",
    "contactcenter_csat_score_average",
    "contactcenter_ces_score_average",
    "contactcenter_nps_score",
)
WINDOWS = ("5m", "15m", "1h", "today")


def test_empty_denominators_export_no_sample() -> None:
    feed = Feed(
        config={
            "targets": [
                {"queue": "ans", "service_level_formula": "answered_only"},
                {"queue": "std", "service_level_formula": "standard"},
            ]
        }
    )
    feed.event("contact.queued", T0, contact_id="i1", queue="idle", channel="voice")  # waits
    feed.event("contact.queued", T0, contact_id="s1", queue="shorty", channel="voice")
    feed.event("contact.abandoned", T0 + 2, contact_id="s1")  # short abandon only
    feed.event("contact.queued", T0, contact_id="a1", queue="ans", channel="voice")
    feed.event("contact.abandoned", T0 + 30, contact_id="a1")  # normal abandon
    feed.event("contact.queued", T0, contact_id="t1", queue="std", channel="voice")
    feed.event("contact.abandoned", T0 + 30, contact_id="t1")  # normal abandon

    m = feed.metrics()
    assert "NaN" not in m.text
    for window in WINDOWS:
        assert win(m, OFFERED, "idle", "voice", window) == 1
        assert win(m, "contactcenter_answered_contacts", "idle", "voice", window) == 0
        for name in RATIOS:
            assert win(m, name, "idle", "voice", window) is None, (name, window)
        for q in ("0.5", "0.9"):
            assert (
                m.get(
                    "contactcenter_wait_seconds_quantile",
                    queue="idle",
                    channel="voice",
                    window=window,
                    quantile=q,
                )
                is None
            )
        # only a short abandon: answered + abandoned = 0
        assert win(m, "contactcenter_service_level_ratio", "shorty", "voice", window) is None
        assert win(m, "contactcenter_abandon_ratio", "shorty", "voice", window) is None
        # answered_only with answered = 0: no sample; abandon ratio 1 / (0 + 1)
        assert win(m, "contactcenter_service_level_ratio", "ans", "voice", window) is None
        assert win(m, "contactcenter_abandon_ratio", "ans", "voice", window) == 1 / (0 + 1)
        # standard with one abandon: 0 / (0 + 1) = 0, a real zero
        assert win(m, "contactcenter_service_level_ratio", "std", "voice", window) == 0 / (0 + 1)


# ---------------------------------------------------------------- quantiles

# 13 waits: rank ceil(0.5 * 13) = 7 differs from round(6.5) = 6
WAITS = [44, 3.25, 150.5, 7.5, 90.25, 12, 201, 18.125, 58.5, 25, 120, 31.75, 73]


def test_wait_quantiles_within_1_percent_of_nearest_rank() -> None:
    feed = Feed()
    events = []
    for i, wait in enumerate(WAITS):
        start = T0 + 10 * i
        events.append(
            (start, "contact.queued", {"contact_id": f"c{i}", "queue": "q", "channel": "voice"})
        )
        events.append((start + wait, "contact.answered", {"contact_id": f"c{i}"}))
    play(feed, events)

    m = feed.metrics()
    ordered = sorted(WAITS)
    n = len(ordered)
    for q in (0.5, 0.9):
        exact = ordered[math.ceil(q * n) - 1]  # nearest rank ceil(q * n), 1-based
        got = m.get(
            "contactcenter_wait_seconds_quantile",
            queue="q",
            channel="voice",
            window="1h",
            quantile=str(q),
        )
        assert got is not None
        assert abs(got - exact) <= 0.01 * exact + 1e-9, (q, got, exact)
    # averages and maxima are exact
    average = win(m, "contactcenter_wait_seconds_average", "q", "voice", "1h")
    assert average == pytest.approx(sum(WAITS) / n, rel=1e-9)
    assert win(m, "contactcenter_wait_seconds_max", "q", "voice", "1h") == max(WAITS)


def test_the_floors_day_can_start_at_six_across_both_dst_changes() -> None:
    """Europe/Berlin, day from 06:00: hand-computed UTC bounds (CET = UTC+1, CEST = UTC+2)."""
    zone = ZoneInfo("Europe/Berlin")
    six = 6 * 60

    def utc(*args: int) -> float:
        return datetime(*args, tzinfo=UTC).timestamp()

    # Sun 2026-03-29 05:00 CEST is before 06:00: the day began Sat 06:00 CET and lasts
    # 23 hours (the clocks went forward at 02:00).
    assert day_bounds(utc(2026, 3, 29, 3), zone, six) == (utc(2026, 3, 28, 5), utc(2026, 3, 29, 4))
    # Sat 2026-10-24 06:00 CEST to Sun 06:00 CET: 25 hours.
    assert day_bounds(utc(2026, 10, 24, 12), zone, six) == (
        utc(2026, 10, 24, 4),
        utc(2026, 10, 25, 5),
    )
    # Without a configured start the day is midnight to midnight.
    assert day_bounds(utc(2026, 12, 7, 4), zone) == (utc(2026, 12, 6, 23), utc(2026, 12, 7, 23))


def test_today_resets_at_the_floors_day_start() -> None:
    """Offered calls in `today` with the day starting at 06:00 UTC."""
    feed = Feed({"day_starts_at": "06:00"})
    night = datetime(2026, 12, 7, 5, 30, tzinfo=UTC).timestamp()
    feed.event("contact.queued", night, contact_id="n1", queue="q", channel="voice")
    assert win(feed.metrics(), OFFERED, "q", "voice", "today") == 1
    feed.event("contact.queued", night + 3600, contact_id="d1", queue="q", channel="voice")
    # 06:30: the night call belongs to the day before; midnight would have kept both
    assert win(feed.metrics(), OFFERED, "q", "voice", "today") == 1


def test_windows_count_each_fact_once_with_late_facts_and_cached_blocks() -> None:
    """Offers at random times over 2 hours, a fifth of them late (up to 30 min back, into
    buckets whose 5-minute block was merged and cached already), read every few minutes:
    each window counts exactly the offers whose time falls in it (worked out from the
    event times alone: a window of W covers [bucket start of now - W + 10 s, now])."""
    import random

    rng = random.Random(11)
    feed = Feed()
    sent: list[float] = []
    now = T0
    for n in range(1500):
        now += rng.uniform(0, 10)
        at = now - rng.uniform(0, 1800) if rng.random() < 0.2 else now
        feed.advance(now)
        feed.event("contact.queued", at, contact_id=f"c{n}", queue="q", channel="voice")
        sent.append(min(at, now))
        if n % 97 == 0:
            m = feed.metrics()
            bucket_start = now // 10 * 10
            for window, seconds in (("5m", 300), ("15m", 900), ("1h", 3600)):
                first = bucket_start - seconds + 10
                expected = sum(1 for t in sent if first <= t <= now)
                assert win(m, OFFERED, "q", "voice", window) == expected, (n, window)


def test_windows_stay_exact_across_quiet_spells_and_kept_merges() -> None:
    """Bursts of offers (a fifth late), then quiet spells read at growing times, in whole
    seconds (events carry milliseconds) from one second to two hours, so that sometimes
    only the 1h window loses a bucket. With no fact in between, a window's merge is kept
    only while the buckets leaving it are empty. Each read is checked against the event
    times alone: windows 5m and 1h, and the staffing arrival window (20m, nothing else)."""
    import random

    rng = random.Random(5)
    feed = Feed({"windows": ["5m", "1h", "today"], "staffing": {"arrival_window": "20m"}})
    sent: list[float] = []
    now = T0
    n = 0
    for _ in range(60):
        for _ in range(rng.randrange(1, 12)):
            n += 1
            now += rng.randrange(21)
            at = now - rng.randrange(1200) if rng.random() < 0.2 else now
            feed.advance(now)
            feed.event("contact.queued", at, contact_id=f"c{n}", queue="q", channel="voice")
            sent.append(min(at, now))
        for _ in range(rng.randrange(1, 9)):
            now += rng.choice((1, 7, 10, rng.randrange(10, 400), rng.randrange(400, 1500), 7200))
            feed.advance(now)
            m = feed.metrics()
            bucket_start = now // 10 * 10
            for window, seconds in (("5m", 300), ("1h", 3600)):
                first = bucket_start - seconds + 10
                expected = sum(1 for t in sent if first <= t <= now)
                assert win(m, OFFERED, "q", "voice", window) == expected, (n, now, window)
            first = bucket_start - 1200 + 10
            span = now - max(first, min(sent))  # from the window's start or the first fact
            arrivals = sum(1 for t in sent if first <= t <= now) / max(span, 10.0)
            rate = "contactcenter_staffing_arrival_rate_per_second"
            got = m.get(rate, queue="q", channel="voice")
            assert got == pytest.approx(arrivals, rel=1e-12), (n, now)
