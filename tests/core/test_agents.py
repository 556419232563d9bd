"""Agents by state per queue and occupancy windows, worked out by hand.

occupancy = (on_contact + after_contact_work seconds) / (that + available seconds) of the
queue's agents within the window, the running state counted up to now.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.helpers import T0, Feed, Metrics

STATES = ("available", "on_contact", "after_contact_work", "away", "offline")


def states(m: Metrics, queue: str) -> dict[str, float | None]:
    return {s: m.get("contactcenter_agents", queue=queue, state=s) for s in STATES}


def occupancy(m: Metrics, queue: str, window: str) -> float | None:
    return m.get("contactcenter_occupancy_ratio", queue=queue, window=window)


def agent(feed: Feed, at: float, agent_id: str, state: str, queues: list[str] | None = None):
    fields: dict = {"agent_id": agent_id, "state": state}
    if queues is not None:
        fields["queues"] = queues
    feed.event("agent.state", at, **fields)


def _floor(feed: Feed) -> None:
    agent(feed, T0, "a1", "available", ["q1", "q2"])
    agent(feed, T0, "a2", "on_contact", ["q1"])
    agent(feed, T0, "a3", "away", ["q2"])
    agent(feed, T0 + 30, "a3", "on_contact")  # queues unchanged when absent
    agent(feed, T0 + 60, "a2", "after_contact_work")
    agent(feed, T0 + 90, "a2", "available")


def test_agents_by_state_in_every_queue_they_serve() -> None:
    feed = Feed()
    agent(feed, T0, "a1", "available", ["q1", "q2"])
    agent(feed, T0, "a2", "on_contact", ["q1"])
    agent(feed, T0, "a3", "away", ["q2"])
    m = feed.metrics()
    assert states(m, "q1") == {
        "available": 1,
        "on_contact": 1,
        "after_contact_work": 0,
        "away": 0,
        "offline": 0,
    }
    assert states(m, "q2") == {
        "available": 1,
        "on_contact": 0,
        "after_contact_work": 0,
        "away": 1,
        "offline": 0,
    }

    agent(feed, T0 + 60, "a2", "after_contact_work")
    agent(feed, T0 + 70, "a1", "offline", ["q2"])  # a1 leaves q1
    m = feed.metrics()
    assert states(m, "q1") == {
        "available": 0,
        "on_contact": 0,
        "after_contact_work": 1,
        "away": 0,
        "offline": 0,
    }
    assert states(m, "q2") == {
        "available": 0,
        "on_contact": 0,
        "after_contact_work": 0,
        "away": 1,
        "offline": 1,
    }


def test_occupancy_over_windows_includes_the_running_state() -> None:
    feed = Feed()
    _floor(feed)
    feed.advance(T0 + 120)
    m = feed.metrics()
    # q1: busy = a2 on_contact 60 + acw 30 = 90; available = a1 120 + a2 (120 - 90) = 150
    for window in ("5m", "15m", "1h", "today"):
        assert occupancy(m, "q1", window) == pytest.approx(90 / (90 + 150)), window
    # q2: busy = a3 on_contact 120 - 30 = 90 (away time not counted); available = a1 120
    assert occupancy(m, "q2", "5m") == pytest.approx(90 / (90 + 120))

    feed.advance(T0 + 400)
    m = feed.metrics()
    # 5m at T0 + 400 covers buckets from T0 + 400 - 290 = T0 + 110: busy 0, available 2 x 290
    assert occupancy(m, "q1", "5m") == 0 / (0 + 290 + 290)
    # 15m reaches back before T0: busy 90, available a1 400 + a2 (400 - 90) = 710
    assert occupancy(m, "q1", "15m") == pytest.approx(90 / (90 + 710))
    # q2 5m: busy a3 290, available a1 290
    assert occupancy(m, "q2", "5m") == pytest.approx(290 / (290 + 290))
    assert occupancy(m, "q2", "15m") == pytest.approx((400 - 30) / ((400 - 30) + 400))


def test_occupancy_absent_without_busy_or_available_time() -> None:
    feed = Feed()
    agent(feed, T0, "a1", "away", ["q"])
    agent(feed, T0 + 10, "a2", "offline", ["q"])
    feed.advance(T0 + 100)
    m = feed.metrics()
    assert states(m, "q")["away"] == 1
    for window in ("5m", "15m", "1h", "today"):
        assert occupancy(m, "q", window) is None


def test_occupancy_today_resets_at_local_midnight() -> None:
    feed = Feed(config={"timezone": "Europe/Berlin"})  # local midnight = 23:00 UTC in November
    midnight = datetime(2026, 11, 20, 23, 0, tzinfo=UTC).timestamp()
    agent(feed, midnight - 600, "a1", "on_contact", ["q"])
    agent(feed, midnight - 300, "a1", "available")
    feed.advance(midnight + 60)
    m = feed.metrics()
    # today: since 23:00 UTC only available, 60 s: 0 / (0 + 60)
    assert occupancy(m, "q", "today") == 0 / (0 + 60)
    # 15m reaches back 900 - 10 s: busy 300, available 300 + 60
    assert occupancy(m, "q", "15m") == pytest.approx(300 / (300 + 360))
