"""SLA clocks, at-risk and breached gauges, breach counters and live waiting state.

Due = first entry + target; at risk from due - at_risk_fraction * target (inclusive) until
due; breached when now > due. Expectations are worked out by hand from the contract.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core import sla as clocks
from streams.core.sla import OpenContact, SlaClock, SlaCounts
from tests.support.helpers import T0, Feed, Metrics

BREACHED = "contactcenter_sla_breached_contacts"
AT_RISK = "contactcenter_sla_at_risk_contacts"
BREACHES = "contactcenter_sla_breaches_total"


def sla(m: Metrics, name: str, queue: str, channel: str, kind: str, priority: str = "normal"):
    return m.get(name, queue=queue, channel=channel, priority=priority, sla=kind)


def total(m: Metrics, name: str, **labels: str) -> float:
    return sum(m.matching(name, **labels).values())


def test_breach_exactly_at_the_due_second_and_just_after() -> None:
    feed = Feed()  # voice answer target: 20 s (default), at_risk_fraction 0.25
    feed.event("contact.queued", T0, contact_id="c1", queue="q", channel="voice")
    feed.event("contact.queued", T0, contact_id="c2", queue="q", channel="voice")
    due = T0 + 20

    feed.advance(due)  # at the due instant: still at risk, not breached
    m = feed.metrics()
    assert sla(m, AT_RISK, "q", "voice", "answer") == 2
    assert sla(m, BREACHED, "q", "voice", "answer") == 0
    assert sla(m, BREACHES, "q", "voice", "answer") == 0

    feed.advance(due + 0.001)  # the clock alone, no new event
    m = feed.metrics()
    assert sla(m, AT_RISK, "q", "voice", "answer") == 0
    assert sla(m, BREACHED, "q", "voice", "answer") == 2
    assert sla(m, BREACHES, "q", "voice", "answer") == 2

    feed.event("contact.answered", T0 + 25, contact_id="c1")  # meets the SLA late
    m = feed.metrics()
    assert sla(m, BREACHED, "q", "voice", "answer") == 1
    assert sla(m, BREACHES, "q", "voice", "answer") == 2

    feed.event("contact.abandoned", T0 + 30, contact_id="c2")  # closes
    feed.advance(T0 + 100)
    m = feed.metrics()
    assert sla(m, BREACHED, "q", "voice", "answer") == 0
    assert sla(m, BREACHES, "q", "voice", "answer") == 2


def test_many_contacts_due_at_the_same_instant_all_go_at_risk_and_breach() -> None:
    """Seven contacts queued at one instant share their at-risk and due times; one is
    answered and one abandoned before then: the other five are each counted once, and
    listed in the order they queued (the clock wakes equal times in scheduling order)."""
    feed = Feed()  # voice answer target: 20 s, at risk from 15 s
    for n in (0, 1, 4, 2, 6, 3, 5):
        feed.event("contact.queued", T0, contact_id=f"c{n}", queue="q", channel="voice")
    feed.event("contact.answered", T0 + 10, contact_id="c0", agent_id="a1")
    feed.event("contact.abandoned", T0 + 12, contact_id="c1")
    feed.advance(T0 + 15)
    m = feed.metrics()
    assert sla(m, AT_RISK, "q", "voice", "answer") == 5
    feed.advance(T0 + 20.001)
    m = feed.metrics()
    assert sla(m, AT_RISK, "q", "voice", "answer") == 0
    assert sla(m, BREACHED, "q", "voice", "answer") == 5
    assert sla(m, BREACHES, "q", "voice", "answer") == 5
    listed = feed.engine.queues.stats[("q", "voice")].flagged(2)  # 2: breached
    assert [flag[2].contact_id for flag in listed] == ["c4", "c2", "c6", "c3", "c5"]


def test_answered_at_the_due_instant_meets_the_sla() -> None:
    feed = Feed()
    feed.event("contact.queued", T0, contact_id="c1", queue="q", channel="voice")
    feed.event("contact.answered", T0 + 20, contact_id="c1")  # wait 20 = target
    feed.advance(T0 + 1000)
    m = feed.metrics()
    assert sla(m, BREACHES, "q", "voice", "answer") == 0
    assert sla(m, BREACHED, "q", "voice", "answer") == 0
    assert sla(m, AT_RISK, "q", "voice", "answer") == 0
    assert m.get("contactcenter_service_level_ratio", queue="q", channel="voice", window="1h") == 1


def test_at_risk_boundaries() -> None:
    feed = Feed(
        config={
            "defaults": {"at_risk_fraction": 0.5},
            "targets": [
                {"channel": "voice", "answer_within_seconds": 40},
                {"channel": "email", "first_response_within_seconds": 3600},
            ],
        }
    )
    feed.event("contact.queued", T0, contact_id="v1", queue="q", channel="voice", priority="high")
    feed.event("contact.queued", T0, contact_id="e1", queue="q", channel="email")

    def check(now: float, voice_answer: int, email_frt: int, email_res: int) -> None:
        feed.advance(now)
        m = feed.metrics()
        assert sla(m, AT_RISK, "q", "voice", "answer", "high") == voice_answer, now - T0
        assert sla(m, AT_RISK, "q", "email", "first_response") == email_frt, now - T0
        assert sla(m, AT_RISK, "q", "email", "resolution") == email_res, now - T0

    # voice answer: due T0 + 40, at risk from 40 - 0.5 * 40 = 20
    check(T0 + 19.999, 0, 0, 0)
    check(T0 + 20, 1, 0, 0)
    check(T0 + 40, 1, 0, 0)
    # email first response: due T0 + 3600, at risk from 3600 - 0.5 * 3600 = 1800
    check(T0 + 1799.999, 0, 0, 0)  # voice answer breached at T0 + 40.001: no longer at risk
    check(T0 + 1800, 0, 1, 0)
    # email resolution: default 86400, at risk from 86400 - 0.5 * 86400 = 43200
    check(T0 + 43199.999, 0, 0, 0)  # first response breached since T0 + 3600.001
    check(T0 + 43200, 0, 0, 1)
    m = feed.metrics()
    assert sla(m, BREACHED, "q", "voice", "answer", "high") == 1
    assert sla(m, BREACHED, "q", "email", "first_response") == 1
    assert sla(m, BREACHED, "q", "email", "resolution") == 0


def test_breach_is_counted_once_even_after_later_transfers() -> None:
    feed = Feed()  # voice answer target 20 s
    feed.event("contact.queued", T0, contact_id="c1", queue="q1", channel="voice")
    feed.advance(T0 + 21)
    m = feed.metrics()
    assert sla(m, BREACHES, "q1", "voice", "answer") == 1
    assert sla(m, BREACHED, "q1", "voice", "answer") == 1

    feed.event("contact.queued", T0 + 30, contact_id="c1", queue="q2", channel="voice")
    feed.advance(T0 + 100)
    m = feed.metrics()
    assert total(m, BREACHES, sla="answer") == 1
    assert sla(m, BREACHED, "q1", "voice", "answer") == 0
    assert sla(m, BREACHED, "q2", "voice", "answer") == 1  # still open, still past due

    feed.event("contact.queued", T0 + 110, contact_id="c1", queue="q1", channel="voice")
    feed.advance(T0 + 200)
    m = feed.metrics()
    assert total(m, BREACHES, sla="answer") == 1
    assert total(m, BREACHED, sla="answer") == 1

    feed.event("contact.answered", T0 + 210, contact_id="c1")
    m = feed.metrics()
    assert total(m, BREACHES, sla="answer") == 1
    assert total(m, BREACHED, sla="answer") == 0


def test_breach_of_a_contact_queued_again_after_its_due_time_is_counted() -> None:
    feed = Feed()  # voice answer target 20 s: due T0 + 20
    feed.event("contact.queued", T0, contact_id="c1", queue="q", channel="voice")
    feed.event("contact.abandoned", T0 + 10, contact_id="c1")  # closed before due: no breach
    feed.advance(T0 + 50)
    m = feed.metrics()
    assert sla(m, BREACHES, "q", "voice", "answer") == 0
    assert sla(m, BREACHED, "q", "voice", "answer") == 0

    feed.event("contact.queued", T0 + 100, contact_id="c1", queue="q", channel="voice")
    m = feed.metrics()
    # open again, past due (T0 + 100 > T0 + 20), not answered: breached, and counted once
    assert sla(m, BREACHED, "q", "voice", "answer") == 1
    assert sla(m, BREACHES, "q", "voice", "answer") == 1


def test_sla_kinds_apply_by_channel() -> None:
    feed = Feed()
    channels = ("voice", "chat", "email", "messaging", "social")
    for i, channel in enumerate(channels):
        feed.event("contact.queued", T0, contact_id=f"c{i}", queue="k", channel=channel)
    m = feed.metrics()
    kinds = {
        channel: {
            dict(labels)["sla"] for labels in m.matching(BREACHED, queue="k", channel=channel)
        }
        for channel in channels
    }
    assert kinds == {
        "voice": {"answer", "resolution"},
        "chat": {"answer", "first_response", "resolution"},
        "email": {"first_response", "resolution"},
        "messaging": {"first_response", "resolution"},
        "social": {"first_response", "resolution"},
    }
    # built-in chat answer target 30 s, voice default 20 s
    feed.advance(T0 + 25)
    m = feed.metrics()
    assert sla(m, BREACHED, "k", "voice", "answer") == 1
    assert sla(m, BREACHED, "k", "chat", "answer") == 0
    feed.advance(T0 + 30.001)
    assert sla(feed.metrics(), BREACHED, "k", "chat", "answer") == 1


def test_resolution_sla_follows_the_closing_rules() -> None:
    feed = Feed()  # resolution target 86400 s (default) for every channel
    feed.event("contact.queued", T0, contact_id="v1", queue="r", channel="voice")
    feed.event("contact.queued", T0, contact_id="e1", queue="r", channel="email")
    feed.event("contact.queued", T0, contact_id="e2", queue="r", channel="email")
    feed.event("contact.answered", T0 + 5, contact_id="v1")
    feed.event("contact.responded", T0 + 60, contact_id="e1")
    feed.event("contact.responded", T0 + 60, contact_id="e2")
    feed.event("contact.ended", T0 + 60, contact_id="v1")  # voice closes at ended
    feed.event("contact.resolved", T0 + 600, contact_id="e2")  # email closes at resolved

    feed.advance(T0 + 86400)
    m = feed.metrics()
    assert sla(m, AT_RISK, "r", "email", "resolution") == 1  # e1
    assert sla(m, BREACHED, "r", "email", "resolution") == 0
    feed.advance(T0 + 86400.001)
    m = feed.metrics()
    assert sla(m, BREACHED, "r", "email", "resolution") == 1  # e1 only
    assert sla(m, BREACHES, "r", "email", "resolution") == 1
    assert sla(m, BREACHED, "r", "voice", "resolution") == 0
    assert sla(m, BREACHES, "r", "voice", "resolution") == 0
    # e1 open, age now - first entry = 86400.001 s >= 24 h
    assert m.get("contactcenter_backlog_contacts", queue="r", channel="email", age="ge_24h") == 1
    assert m.get("contactcenter_backlog_contacts", queue="r", channel="voice", age="ge_24h") == 0

    feed.event("contact.resolved", T0 + 86500, contact_id="e1")
    m = feed.metrics()
    assert sla(m, BREACHED, "r", "email", "resolution") == 0
    assert sla(m, BREACHES, "r", "email", "resolution") == 1


def test_waiting_and_longest_wait() -> None:
    feed = Feed()
    v = {"queue": "q", "channel": "voice"}
    feed.event("contact.queued", T0, contact_id="w1", **v)
    feed.event("contact.queued", T0 + 10, contact_id="w2", **v)
    feed.event("contact.queued", T0 + 20, contact_id="w3", **v)
    feed.advance(T0 + 50)
    m = feed.metrics()
    assert m.get("contactcenter_contacts_waiting", **v) == 3
    assert m.get("contactcenter_longest_wait_seconds", **v) == 50 - 0  # w1

    feed.event("contact.answered", T0 + 60, contact_id="w1")
    m = feed.metrics()
    assert m.get("contactcenter_contacts_waiting", **v) == 2
    assert m.get("contactcenter_longest_wait_seconds", **v) == 60 - 10  # w2 now

    feed.event("contact.abandoned", T0 + 70, contact_id="w2")
    feed.event("contact.answered", T0 + 80, contact_id="w3")
    m = feed.metrics()
    assert m.get("contactcenter_contacts_waiting", **v) == 0
    assert m.get("contactcenter_longest_wait_seconds", **v) == 0


# The clock alone, against the states worked out from each contact's times: contacts
# enter (with targets of a few values, so that wake times tie), leave, and time moves.
CLOCK_OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("enter"), st.sampled_from([5.0, 10.0, 20.0]), st.sampled_from([0.0, 2.5])
        ),
        st.tuples(st.just("leave"), st.integers(0, 30), st.just(0.0)),
        st.tuples(st.just("settle"), st.integers(0, 30), st.sampled_from([1.0, 4.0, 30.0])),
        st.tuples(st.just("advance"), st.sampled_from([0.5, 2.5, 5.0, 7.5]), st.just(0.0)),
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(CLOCK_OPS)
def test_the_clock_moves_each_contact_at_its_own_times(ops: list[tuple[str, float, float]]) -> None:
    """After every step each open contact's answer SLA is in the state its own due and
    at-risk times give at the clock's time, or at the later time it was settled at by a
    fact (pending before `due - lead`, at risk up to `due`, breached after), and the
    clock holds exactly the open contacts that still have a time to wake at, each where
    it says it is, in heap order."""
    clock = SlaClock()
    clock.advance(T0)
    counts = SlaCounts()
    open_: list[OpenContact] = []
    settled: dict[int, float] = {}  # id(contact) -> the latest time a fact settled it at
    for op, a, b in ops:
        if op == "enter":
            plan = ((clocks.ANSWER, a, b, None),)
            rec = OpenContact(f"c{len(open_)}", clock.now, clock.now, 2, plan, 0, True, counts)
            open_.append(rec)
            clock.start(rec)
        elif op == "leave" and open_:
            rec = open_.pop(int(a) % len(open_))
            clock.remove(rec)
            rec.wake = clocks.LEFT
        elif op == "settle" and open_:
            rec = open_[int(a) % len(open_)]
            clock.settle(rec, clock.now + b)
            settled[id(rec)] = max(settled.get(id(rec), 0.0), clock.now + b)
        elif op == "advance":
            clock.advance(clock.now + a)
        for rec in open_:
            now = max(clock.now, settled.get(id(rec), 0.0))
            ((_, target, lead, _),) = rec.plan
            due = rec.first_entry + target
            if now < due - lead:
                expected = clocks.PENDING
            else:
                expected = clocks.AT_RISK if now <= due else clocks.BREACHED
            assert rec.state(clocks.ANSWER) == expected, (now, due, lead)
        heap = clock._heap
        assert sorted(id(rec) for rec in heap) == sorted(
            id(rec) for rec in open_ if rec.wake != math.inf
        )
        for i, rec in enumerate(heap):
            assert rec.slot == i
            parent = heap[(i - 1) // 2]
            assert i == 0 or (parent.wake, parent.order) < (rec.wake, rec.order)
