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


# ---------------------------------------------------------------- the floor's view (issue 16)


def _shift(feed: Feed) -> None:
    """a1 answers c1 (handled 90 s), misses c2 twice, then answers it; a2 is at lunch,
    a3 away for a reason not configured."""
    agent(feed, T0, "a1", "available", ["q1", "q2"])
    feed.event("agent.state", T0, agent_id="a2", state="away", reason="lunch", queues=["q1"])
    feed.event("agent.state", T0, agent_id="a3", state="away", reason="smoke", queues=["q2"])
    feed.event("contact.queued", T0 + 10, contact_id="c1", queue="q1", channel="voice")
    agent(feed, T0 + 30, "a1", "on_contact")
    feed.event("contact.answered", T0 + 30, contact_id="c1", agent_id="a1")
    feed.event("contact.ended", T0 + 90, contact_id="c1")
    agent(feed, T0 + 90, "a1", "after_contact_work")
    feed.event("contact.queued", T0 + 100, contact_id="c2", queue="q1", channel="voice")
    feed.event("contact.missed", T0 + 105, contact_id="c2", agent_id="a1", ring_seconds=5)
    feed.event("contact.missed", T0 + 110, contact_id="c2", agent_id="a1")
    feed.event("contact.wrapped", T0 + 120, contact_id="c1")
    agent(feed, T0 + 120, "a1", "available")
    agent(feed, T0 + 130, "a1", "on_contact")
    feed.event("contact.answered", T0 + 130, contact_id="c2", agent_id="a1")


def test_activity_of_an_agent_from_contact_events() -> None:
    feed = Feed()
    _shift(feed)
    feed.advance(T0 + 200)
    record = feed.engine.contacts.activity["a1"]
    # handled: c1, answered T0 + 30, wrapped T0 + 120 -> 90 s; c2 is still on.
    assert record.counts_on(feed.engine.contacts.day_start) == (1, 90.0, 2, 0)
    assert record.current == {"c2": ("q1", "voice", T0 + 130)}
    assert "a2" not in feed.engine.contacts.activity  # no contact event named a2


def test_activity_counts_only_the_floors_day() -> None:
    feed = Feed()
    _shift(feed)
    midnight = datetime(2026, 11, 21, 0, 0, tzinfo=UTC).timestamp()
    feed.advance(midnight + 10)
    tracker = feed.engine.contacts
    assert tracker.day_start == midnight
    assert tracker.activity["a1"].counts_on(midnight) == (0, 0.0, 0, 0)
    assert tracker.activity["a1"].current == {"c2": ("q1", "voice", T0 + 130)}  # still on it
    feed.event("contact.ended", midnight + 20, contact_id="c2")
    feed.event("contact.wrapped", midnight + 50, contact_id="c2")  # 130 + ... handled today
    # c2: answered T0 + 130 (yesterday), wrapped after midnight: counted on the day it ended
    handle = midnight + 50 - (T0 + 130)
    assert tracker.activity["a1"].counts_on(midnight) == (1, handle, 0, 0)
    assert tracker.activity["a1"].current == {}
    # a late missed offer from yesterday counts nowhere
    feed.event("contact.queued", midnight + 60, contact_id="c3", queue="q1", channel="voice")
    feed.event("contact.missed", midnight - 5, contact_id="c3", agent_id="a1")
    assert tracker.activity["a1"].counts_on(midnight) == (1, handle, 0, 0)


def test_transfer_takes_the_contact_off_its_agent_and_replies_count() -> None:
    feed = Feed()
    feed.event("contact.queued", T0, contact_id="c1", queue="q1", channel="chat")
    feed.event("contact.answered", T0 + 5, contact_id="c1", agent_id="a1")
    feed.event("contact.responded", T0 + 20, contact_id="c1", agent_id="a1")
    tracker = feed.engine.contacts
    assert tracker.activity["a1"].current == {"c1": ("q1", "chat", T0 + 5)}
    feed.event("contact.queued", T0 + 30, contact_id="c1", queue="q2", channel="chat")
    assert tracker.activity["a1"].current == {}
    assert tracker.contacts["c1"].agent_id is None
    # an email reply assigns the contact to the replying agent, no live contact
    feed.event("contact.queued", T0, contact_id="m1", queue="mail", channel="email")
    feed.event("contact.responded", T0 + 40, contact_id="m1", agent_id="a2")
    assert tracker.contacts["m1"].agent_id == "a2"
    assert tracker.activity["a2"].counts_on(tracker.day_start) == (0, 0.0, 0, 1)
    assert tracker.activity["a2"].current == {}
    assert tracker.activity["a1"].counts_on(tracker.day_start) == (0, 0.0, 0, 1)


def test_time_in_state_histograms_per_queue() -> None:
    feed = Feed()
    _shift(feed)
    feed.advance(T0 + 200)
    q1 = feed.engine.agents.queues["q1"]
    available, on_contact, acw, away, _ = q1.state_seconds
    # a1 in q1: available 30 s (T0..+30) and 10 s (+120..+130); on_contact 60 s
    # (+30..+90); after-contact work 30 s (+90..+120); the running intervals not yet.
    assert (sum(available.counts), available.total) == (2, 40.0)
    assert (sum(on_contact.counts), on_contact.total) == (1, 60.0)
    assert (sum(acw.counts), acw.total) == (1, 30.0)
    assert sum(away.counts) == 0  # a2 still at lunch
    # 30 s falls in the bucket <= 30, 10 s too; 60 s in <= 60
    assert available.counts[0] == 2 and on_contact.counts[1] == 1
    # exported as a histogram per queue and state (cumulative buckets)
    m = feed.metrics()
    name = "contactcenter_agent_state_seconds"
    assert m.get(name + "_bucket", queue="q1", state="available", le="30") == 2
    assert m.get(name + "_bucket", queue="q1", state="on_contact", le="30") == 0
    assert m.get(name + "_bucket", queue="q1", state="on_contact", le="60") == 1
    assert m.get(name + "_count", queue="q1", state="after_contact_work") == 1
    assert m.get(name + "_sum", queue="q1", state="available") == 40.0
    assert m.get(name + "_count", queue="q1", state="away") == 0


def test_the_same_state_again_keeps_its_start() -> None:
    feed = Feed()
    feed.event("agent.state", T0, agent_id="a2", state="away", reason="lunch", queues=["q1"])
    feed.event("agent.state", T0 + 500, agent_id="a2", state="away", reason="lunch")
    feed.advance(T0 + 600)
    assert feed.engine.agent_tracker.agents["a2"].since == T0
    q1 = feed.engine.agents.queues["q1"]
    assert q1.agents["a2"] == ("away", T0, "lunch")
    assert sum(q1.state_seconds[3].counts) == 0
    feed.event("agent.state", T0 + 700, agent_id="a2", state="away", reason="training")
    assert q1.agents["a2"] == ("away", T0 + 700, "training")
    assert q1.state_seconds[3].total == 700.0


def test_agents_by_reason() -> None:
    feed = Feed()
    _shift(feed)
    feed.advance(T0 + 200)
    m = feed.metrics()

    def by_reason(queue: str) -> dict[tuple[str, str], float]:
        found = m.matching("contactcenter_agents_by_reason", queue=queue)
        return {(dict(k)["state"], dict(k)["reason"]): v for k, v in found.items() if v}

    assert by_reason("q1") == {("away", "lunch"): 1, ("on_contact", "none"): 1}
    assert by_reason("q2") == {("away", "other"): 1, ("on_contact", "none"): 1}
    # every configured reason, "other" and "none" of away are exported, 0 when empty
    for reason in ("break", "lunch", "training", "meeting", "coaching", "other", "none"):
        assert m.get("contactcenter_agents_by_reason", queue="q2", state="away", reason=reason) in (
            0,
            1,
        )
    assert not any("a1" in line or "c1" in line for line in m.text.splitlines())
