"""Contact lifecycle metrics of the engine (contact stage and its facts), expectations by hand.

Every expected value below is worked out from the contract (shared/spec/metrics.md) and
the engine's documented behaviour, never copied from the engine's output.
"""

from __future__ import annotations

from tests.support.helpers import T0, WALL, Feed, Metrics, iso

H = "1h"  # every test below fits in one hour after T0 unless it says otherwise


def window(m: Metrics, name: str, queue: str, channel: str, win: str = H) -> float | None:
    return m.get(name, queue=queue, channel=channel, window=win)


def counter(m: Metrics, name: str, queue: str, channel: str) -> float | None:
    return m.get(name, queue=queue, channel=channel)


# ---------------------------------------------------------------- abandons


def test_short_abandons_are_counted_apart_and_excluded_from_ratios() -> None:
    feed = Feed(
        config={
            "defaults": {"answer_within_seconds": 20},
            "targets": [{"queue": "slow", "short_abandon_seconds": 10}],
        }
    )
    # queue q, short_abandon_seconds = 5 (default)
    feed.event("contact.queued", T0, contact_id="a1", queue="q", channel="voice")
    feed.event("contact.abandoned", T0 + 4.999, contact_id="a1")  # wait 4.999 < 5: short
    feed.event("contact.queued", T0 + 10, contact_id="a2", queue="q", channel="voice")
    feed.event("contact.abandoned", T0 + 15, contact_id="a2")  # wait exactly 5: normal abandon
    feed.event("contact.queued", T0 + 20, contact_id="a3", queue="q", channel="voice")
    feed.event("contact.abandoned", T0 + 23, contact_id="a3")  # wait 3: short
    feed.event("contact.queued", T0 + 30, contact_id="a4", queue="q", channel="voice")
    feed.event("contact.answered", T0 + 40, contact_id="a4")  # wait 10 <= 20: met
    # queue slow, short_abandon_seconds = 10
    feed.event("contact.queued", T0 + 50, contact_id="b1", queue="slow", channel="voice")
    feed.event("contact.abandoned", T0 + 57, contact_id="b1")  # wait 7 < 10: short
    feed.event("contact.queued", T0 + 60, contact_id="b2", queue="slow", channel="voice")
    feed.event("contact.abandoned", T0 + 70, contact_id="b2")  # wait exactly 10: normal

    m = feed.metrics()
    q = ("q", "voice")
    assert counter(m, "contactcenter_contacts_offered_total", *q) == 4
    assert counter(m, "contactcenter_contacts_short_abandoned_total", *q) == 2  # a1, a3
    assert counter(m, "contactcenter_contacts_abandoned_total", *q) == 1  # a2
    assert counter(m, "contactcenter_contacts_answered_total", *q) == 1  # a4
    assert window(m, "contactcenter_short_abandoned_contacts", *q) == 2
    assert window(m, "contactcenter_abandoned_contacts", *q) == 1
    # abandoned / (answered + abandoned), short abandons in neither
    assert window(m, "contactcenter_abandon_ratio", *q) == 1 / (1 + 1)
    # standard: answered_met / (answered + abandoned) = 1 / (1 + 1)
    assert window(m, "contactcenter_service_level_ratio", *q) == 1 / (1 + 1)

    slow = ("slow", "voice")
    assert counter(m, "contactcenter_contacts_short_abandoned_total", *slow) == 1  # b1
    assert counter(m, "contactcenter_contacts_abandoned_total", *slow) == 1  # b2
    assert window(m, "contactcenter_abandon_ratio", *slow) == 1 / (0 + 1)
    assert window(m, "contactcenter_service_level_ratio", *slow) == 0 / (0 + 1)


# ---------------------------------------------------------------- transfers


def test_transfer_counts_in_old_queue_and_measures_wait_from_the_transfer() -> None:
    feed = Feed()  # voice: answer_within_seconds 20 (default)
    feed.event("contact.queued", T0, contact_id="c1", queue="first", channel="voice")
    feed.event("contact.queued", T0 + 8, contact_id="c1", queue="second", channel="voice")
    feed.advance(T0 + 15)

    m = feed.metrics()
    assert counter(m, "contactcenter_contacts_waiting", "first", "voice") == 0
    assert counter(m, "contactcenter_longest_wait_seconds", "first", "voice") == 0
    assert counter(m, "contactcenter_contacts_waiting", "second", "voice") == 1
    # waiting in "second" since the transfer at T0 + 8: 15 - 8
    assert counter(m, "contactcenter_longest_wait_seconds", "second", "voice") == 15 - 8

    feed.event("contact.answered", T0 + 20, contact_id="c1")
    m = feed.metrics()
    first = ("first", "voice")
    assert counter(m, "contactcenter_contacts_offered_total", *first) == 1
    assert counter(m, "contactcenter_contacts_transferred_total", *first) == 1
    assert counter(m, "contactcenter_contacts_answered_total", *first) == 0
    assert counter(m, "contactcenter_contacts_abandoned_total", *first) == 0
    assert counter(m, "contactcenter_contacts_short_abandoned_total", *first) == 0
    assert window(m, "contactcenter_answered_contacts", *first) == 0
    assert window(m, "contactcenter_abandoned_contacts", *first) == 0
    # neither answered nor abandoned in "first": no service level there
    assert window(m, "contactcenter_service_level_ratio", *first) is None

    second = ("second", "voice")
    assert counter(m, "contactcenter_contacts_offered_total", *second) == 1
    assert counter(m, "contactcenter_contacts_answered_total", *second) == 1
    assert counter(m, "contactcenter_contacts_transferred_total", *second) == 0
    assert window(m, "contactcenter_wait_seconds_average", *second) == 20 - 8
    # voice FRT = first answered - first entry into any queue
    assert window(m, "contactcenter_first_response_seconds_average", *second) == 20 - 0
    # wait 12 <= 20: met, 1 / (1 + 0)
    assert window(m, "contactcenter_service_level_ratio", *second) == 1.0

    # backlog age counts from the first entry (T0), not from the transfer (T0 + 8)
    feed.advance(T0 + 3600)
    m = feed.metrics()
    assert (
        m.get("contactcenter_backlog_contacts", queue="second", channel="voice", age="1h_4h") == 1
    )
    assert (
        m.get("contactcenter_backlog_contacts", queue="second", channel="voice", age="lt_1h") == 0
    )


def test_transfer_after_answer_is_a_new_entry_in_the_new_queue() -> None:
    feed = Feed()
    feed.event("contact.queued", T0, contact_id="c1", queue="q1", channel="voice")
    feed.event("contact.answered", T0 + 10, contact_id="c1")
    feed.event("contact.queued", T0 + 100, contact_id="c1", queue="q2", channel="voice")
    feed.advance(T0 + 120)
    m = feed.metrics()
    assert counter(m, "contactcenter_contacts_waiting", "q2", "voice") == 1
    assert counter(m, "contactcenter_longest_wait_seconds", "q2", "voice") == 120 - 100

    feed.event("contact.answered", T0 + 130, contact_id="c1")
    m = feed.metrics()
    assert counter(m, "contactcenter_contacts_offered_total", "q1", "voice") == 1
    assert counter(m, "contactcenter_contacts_answered_total", "q1", "voice") == 1
    assert window(m, "contactcenter_wait_seconds_average", "q1", "voice") == 10 - 0
    assert counter(m, "contactcenter_contacts_offered_total", "q2", "voice") == 1
    assert counter(m, "contactcenter_contacts_answered_total", "q2", "voice") == 1
    assert window(m, "contactcenter_wait_seconds_average", "q2", "voice") == 130 - 100
    # voice FRT is the first answer only (10 s, in q1)
    assert window(m, "contactcenter_first_response_seconds_average", "q1", "voice") == 10
    assert window(m, "contactcenter_first_response_seconds_average", "q2", "voice") is None


def test_transferred_chat_keeps_first_entry_for_frt_and_resolution() -> None:
    feed = Feed()  # chat: answer 30 s, first response 120 s (built-in targets)
    feed.event("contact.queued", T0, contact_id="h1", queue="sales", channel="chat")
    feed.event("contact.queued", T0 + 10, contact_id="h1", queue="support", channel="chat")
    feed.event("contact.answered", T0 + 25, contact_id="h1")
    feed.event("contact.responded", T0 + 50, contact_id="h1")
    feed.event("contact.ended", T0 + 300, contact_id="h1")
    feed.event("contact.resolved", T0 + 400, contact_id="h1")
    m = feed.metrics()
    sup = ("support", "chat")
    assert window(m, "contactcenter_wait_seconds_average", *sup) == 25 - 10
    assert window(m, "contactcenter_first_response_seconds_average", *sup) == 50 - 0
    assert window(m, "contactcenter_resolution_seconds_average", *sup) == 400 - 0
    assert window(m, "contactcenter_first_response_seconds_average", "sales", "chat") is None
    assert counter(m, "contactcenter_contacts_transferred_total", "sales", "chat") == 1


def test_first_response_time_by_channel() -> None:
    feed = Feed()
    # voice: first answered - first entry
    feed.event("contact.queued", T0, contact_id="v1", queue="f", channel="voice")
    feed.event("contact.answered", T0 + 14, contact_id="v1")
    feed.event("contact.responded", T0 + 40, contact_id="v1")  # no FRT for voice
    # chat: first responded - first entry (answering is not a response)
    feed.event("contact.queued", T0, contact_id="h1", queue="f", channel="chat")
    feed.event("contact.answered", T0 + 10, contact_id="h1")
    feed.event("contact.responded", T0 + 45, contact_id="h1")
    feed.event("contact.responded", T0 + 90, contact_id="h1")  # not the first
    # email: two contacts, first responses 600 and 1500
    feed.event("contact.queued", T0, contact_id="e1", queue="f", channel="email")
    feed.event("contact.queued", T0 + 100, contact_id="e2", queue="f", channel="email")
    feed.event("contact.responded", T0 + 600, contact_id="e1")
    feed.event("contact.responded", T0 + 1600, contact_id="e2")
    feed.event("contact.responded", T0 + 1700, contact_id="e1")  # not the first
    m = feed.metrics()
    assert window(m, "contactcenter_first_response_seconds_average", "f", "voice") == 14
    assert window(m, "contactcenter_first_response_seconds_average", "f", "chat") == 45
    assert window(m, "contactcenter_wait_seconds_average", "f", "chat") == 10
    assert window(m, "contactcenter_first_response_seconds_average", "f", "email") == (
        (600 + (1600 - 100)) / 2
    )
    assert counter(m, "contactcenter_first_response_seconds_count", "f", "email") == 2


# ---------------------------------------------------------------- reopen


def test_reopen_ratio_and_backlog_of_a_reopened_contact() -> None:
    feed = Feed()
    mail = ("mail", "email")
    feed.event("contact.queued", T0, contact_id="m1", queue="mail", channel="email")
    feed.event("contact.queued", T0 + 10, contact_id="m2", queue="mail", channel="email")
    feed.event("contact.responded", T0 + 60, contact_id="m1")
    feed.event("contact.responded", T0 + 70, contact_id="m2")
    feed.event("contact.resolved", T0 + 600, contact_id="m1")
    feed.event("contact.resolved", T0 + 700, contact_id="m2")

    m = feed.metrics()
    # one reply each, field absent, not reopened (yet): both first-contact resolutions
    assert window(m, "contactcenter_first_contact_resolution_ratio", *mail) == 2 / 2
    # both resolved: email closes at resolved, nothing open
    assert m.get("contactcenter_backlog_contacts", queue="mail", channel="email", age="lt_1h") == 0

    feed.event("contact.reopened", T0 + 1200, contact_id="m1")
    m = feed.metrics()
    assert counter(m, "contactcenter_contacts_resolved_total", *mail) == 2
    # reopened / resolved in the window = 1 / 2
    assert window(m, "contactcenter_reopen_ratio", *mail) == 1 / 2

    def backlog(age: str) -> float | None:
        return feed.metrics().get(
            "contactcenter_backlog_contacts", queue="mail", channel="email", age=age
        )

    # m1 is open again; age = now - first entry = 1200 s < 3600
    assert [backlog(a) for a in ("lt_1h", "1h_4h", "4h_24h", "ge_24h")] == [1, 0, 0, 0]
    feed.advance(T0 + 3599.999)
    assert backlog("lt_1h") == 1
    feed.advance(T0 + 3600)  # age exactly 3600: not < 3600
    assert [backlog(a) for a in ("lt_1h", "1h_4h", "4h_24h", "ge_24h")] == [0, 1, 0, 0]
    feed.advance(T0 + 4 * 3600)
    assert [backlog(a) for a in ("lt_1h", "1h_4h", "4h_24h", "ge_24h")] == [0, 0, 1, 0]
    feed.advance(T0 + 24 * 3600)
    assert [backlog(a) for a in ("lt_1h", "1h_4h", "4h_24h", "ge_24h")] == [0, 0, 0, 1]

    feed.event("contact.resolved", T0 + 24 * 3600 + 5, contact_id="m1")
    m = feed.metrics()
    assert counter(m, "contactcenter_contacts_resolved_total", *mail) == 3
    # the new local day (UTC) holds only m1's second resolution: reopened, so not FCR
    assert window(m, "contactcenter_first_contact_resolution_ratio", *mail, "today") == 0 / 1
    assert window(m, "contactcenter_resolution_seconds_average", *mail, "today") == 24 * 3600 + 5
    for age in ("lt_1h", "1h_4h", "4h_24h", "ge_24h"):
        assert m.get("contactcenter_backlog_contacts", queue="mail", channel="email", age=age) == 0


# ---------------------------------------------------------------- duplicates and rejects


def _sequence() -> list[dict]:
    events: list[dict] = []

    def add(type_: str, at: float, **fields: object) -> None:
        events.append(
            {"event_id": f"d{len(events)}", "type": type_, "occurred_at": iso(at), **fields}
        )

    add("agent.state", T0, agent_id="a1", state="available", queues=["q"])
    add("contact.queued", T0, contact_id="c1", queue="q", channel="voice", priority="high")
    add("contact.queued", T0 + 5, contact_id="c2", queue="q", channel="voice")
    add("agent.state", T0 + 12, agent_id="a1", state="on_contact")
    add("contact.answered", T0 + 12, contact_id="c1", agent_id="a1")
    add("contact.abandoned", T0 + 30, contact_id="c2")
    add("contact.queued", T0 + 40, contact_id="m1", queue="mail", channel="email")
    add("contact.ended", T0 + 100, contact_id="c1", hold_seconds=10)
    add("agent.state", T0 + 100, agent_id="a1", state="after_contact_work")
    add("contact.wrapped", T0 + 130, contact_id="c1")
    add("contact.resolved", T0 + 130, contact_id="c1", first_contact=True)
    add("survey.responded", T0 + 200, contact_id="c1", csat=5, nps=9)
    add("contact.responded", T0 + 300, contact_id="m1")
    add("contact.resolved", T0 + 400, contact_id="m1")
    add("contact.reopened", T0 + 500, contact_id="m1")
    return events


DUPLICATES = "contactcenter_events_duplicate_total"


def test_whole_sequence_sent_twice_gives_identical_metrics() -> None:
    events = _sequence()
    once = Feed()
    for event in events:
        assert once.send(event)
    twice = Feed()
    for event in events + events:
        assert twice.send(event)

    a, b = once.metrics(), twice.metrics()
    assert a.get(DUPLICATES) == 0
    assert b.get(DUPLICATES) == len(events)
    # not vacuous: q had c1 and c2 once each, not twice
    assert b.get("contactcenter_contacts_offered_total", queue="q", channel="voice") == 2
    assert b.get("contactcenter_contacts_answered_total", queue="q", channel="voice") == 1
    without = {k: v for k, v in a.samples.items() if k[0] != DUPLICATES}
    assert without == {k: v for k, v in b.samples.items() if k[0] != DUPLICATES}


def test_an_event_id_seen_before_is_a_duplicate_whatever_its_content() -> None:
    feed = Feed()
    feed.send(
        {"event_id": "x", "type": "contact.queued", "occurred_at": iso(T0), "contact_id": "c1"}
        | {"queue": "q", "channel": "voice"}
    )
    same_id = {"event_id": "x", "type": "contact.answered", "occurred_at": iso(T0 + 9)}
    assert feed.send(same_id | {"contact_id": "c1"}) is True  # valid, but dropped
    m = feed.metrics()
    assert m.get(DUPLICATES) == 1
    assert m.get("contactcenter_contacts_answered_total", queue="q", channel="voice") == 0
    assert m.get("contactcenter_contacts_waiting", queue="q", channel="voice") == 1


def test_a_rejected_event_changes_no_metric() -> None:
    feed = Feed()
    feed.event("contact.queued", T0, contact_id="c1", queue="q", channel="voice")
    feed.event("contact.queued", T0 + 5, contact_id="c2", queue="q", channel="voice")
    feed.event("contact.answered", T0 + 10, contact_id="c2")
    before = feed.metrics().samples

    base = {"occurred_at": iso(T0 + 50), "contact_id": "c1"}
    bad: list[tuple[dict | bytes, str]] = [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        ({"event_id": "r1", "type": "contact.queued", **base, "queue": "q"}, "missing_field"),
        (
            {"event_id": "r2", "type": "contact.answered", **base, "priority": "asap"},
            "invalid_value",
        ),
        ({"event_id": "r3", "type": "contact.teleported", **base}, "unknown_type"),
        ({"event_id": "r4", "type": "survey.responded", **base, "csat": 6}, "out_of_range"),
        (
            {"event_id": "r5", "type": "contact.abandoned", **base, "occurred_at": iso(WALL + 301)},
            "future_timestamp",
        ),
        ({"event_id": "r6", "type": "contact.abandoned", **base, "occurred_at": "yesterday"}, ""),
    ]
    for event, _ in bad:
        assert feed.send(event) is False
    after = feed.metrics().samples

    rejected = "contactcenter_events_rejected_total"
    reasons = [reason for _, reason in bad if reason]
    reasons.append("invalid_timestamp")  # r6
    assert set(before) == set(after)
    for key, value in after.items():
        name, labels = key
        if name == rejected:
            reason = dict(labels)["reason"]
            assert value - before[key] == reasons.count(reason), reason
        else:
            assert value == before[key], key


# ---------------------------------------------------------------- out of order


def test_answered_before_its_queued_is_parked_then_applied() -> None:
    feed = Feed()
    feed.event("contact.answered", T0 + 15, contact_id="c1", agent_id="a1")
    m = feed.metrics()
    assert m.get("contactcenter_contacts_answered_total", queue="q", channel="voice") is None

    feed.event("contact.queued", T0, contact_id="c1", queue="q", channel="voice")
    feed.advance(T0 + 15 + 61)  # past orphan_hold (60 s) after the answered was parked
    m = feed.metrics()
    q = ("q", "voice")
    assert counter(m, "contactcenter_contacts_offered_total", *q) == 1
    assert counter(m, "contactcenter_contacts_answered_total", *q) == 1
    assert counter(m, "contactcenter_contacts_waiting", *q) == 0
    assert window(m, "contactcenter_wait_seconds_average", *q) == 15 - 0
    assert window(m, "contactcenter_first_response_seconds_average", *q) == 15 - 0
    assert m.get("contactcenter_events_rejected_total", reason="unknown_contact") == 0
    assert feed.rejects == []


def test_several_parked_events_are_applied_in_time_order() -> None:
    feed = Feed()
    feed.event("contact.ended", T0 + 60, contact_id="c1")  # arrives first
    feed.event("contact.answered", T0 + 15, contact_id="c1")
    feed.event("contact.queued", T0, contact_id="c1", queue="q", channel="voice")
    feed.event("contact.wrapped", T0 + 90, contact_id="c1")
    m = feed.metrics()
    q = ("q", "voice")
    assert counter(m, "contactcenter_contacts_answered_total", *q) == 1
    assert window(m, "contactcenter_wait_seconds_average", *q) == 15 - 0
    assert window(m, "contactcenter_handle_seconds_average", *q) == 90 - 15  # wrapped - answered
    assert window(m, "contactcenter_after_contact_work_seconds_average", *q) == 90 - 60
    # voice closes at ended: nothing open
    assert m.get("contactcenter_backlog_contacts", queue="q", channel="voice", age="lt_1h") == 0


def test_parked_event_of_a_contact_that_never_appears_is_rejected_after_orphan_hold() -> None:
    feed = Feed()
    feed.event("contact.queued", T0, contact_id="c1", queue="q", channel="voice")
    feed.event("contact.answered", T0 + 20, contact_id="ghost")  # parked at now = T0 + 20
    feed.advance(T0 + 20 + 59.999)
    m = feed.metrics()
    assert m.get("contactcenter_events_rejected_total", reason="unknown_contact") == 0
    feed.advance(T0 + 20 + 60.001)
    m = feed.metrics()
    assert m.get("contactcenter_events_rejected_total", reason="unknown_contact") == 1
    assert [r.reason for r in feed.rejects] == ["unknown_contact"]
    # the orphan answered nothing
    assert counter(m, "contactcenter_contacts_answered_total", "q", "voice") == 0


def test_an_orphan_rejected_as_unknown_contact_changes_no_other_metric() -> None:
    without, with_orphan = Feed(), Feed()
    for feed in (without, with_orphan):
        feed.event("contact.queued", T0, contact_id="c0", queue="q", channel="voice")
    with_orphan.event("contact.answered", T0 + 15, contact_id="ghost")
    for feed in (without, with_orphan):
        feed.advance(T0 + 100)  # same clock for both; the orphan is rejected at T0 + 75
    a, b = without.metrics(), with_orphan.metrics()
    rejected = ("contactcenter_events_rejected_total", frozenset({("reason", "unknown_contact")}))
    assert a.samples[rejected] == 0
    assert b.samples[rejected] == 1
    assert {k: v for k, v in a.samples.items() if k != rejected} == {
        k: v for k, v in b.samples.items() if k != rejected
    }


def test_out_of_order_times_never_give_negative_durations() -> None:
    feed = Feed()
    v = ("q", "voice")
    feed.event("contact.queued", T0 + 10, contact_id="c1", queue="q", channel="voice")
    feed.event("contact.answered", T0 + 5, contact_id="c1")  # before its queued
    feed.event("contact.ended", T0 + 4, contact_id="c1")  # before its answered
    feed.event("contact.wrapped", T0 + 2, contact_id="c1")  # before its ended
    feed.event("contact.resolved", T0 + 1, contact_id="c1")  # before its queued
    feed.event("contact.queued", T0 + 20, contact_id="m1", queue="mail", channel="email")
    feed.event("contact.responded", T0 + 15, contact_id="m1")  # before its queued

    m = feed.metrics()
    # every duration is clamped at 0: wait max(0, 5 - 10), FRT max(0, 5 - 10),
    # handle max(0, 2 - 5), ACW max(0, 2 - 4), resolution max(0, 1 - 10), email FRT max(0, 15 - 20)
    assert counter(m, "contactcenter_contacts_answered_total", *v) == 1
    assert window(m, "contactcenter_wait_seconds_average", *v) == 0
    assert window(m, "contactcenter_wait_seconds_max", *v) == 0
    assert window(m, "contactcenter_first_response_seconds_average", *v) == 0
    assert window(m, "contactcenter_handle_seconds_average", *v) == 0
    assert window(m, "contactcenter_after_contact_work_seconds_average", *v) == 0
    assert window(m, "contactcenter_resolution_seconds_average", *v) == 0
    assert window(m, "contactcenter_first_response_seconds_average", "mail", "email") == 0
    for hist in ("wait", "first_response", "handle", "resolution"):
        assert counter(m, f"contactcenter_{hist}_seconds_count", *v) == 1
        assert counter(m, f"contactcenter_{hist}_seconds_sum", *v) == 0
    for (name, _), value in m.samples.items():
        if "seconds" in name:
            assert value >= 0, name


# ---------------------------------------------------------------- handle time


def test_handle_time_without_wrap_up_is_emitted_at_resolve() -> None:
    feed = Feed()
    v = ("q", "voice")
    feed.event("contact.queued", T0, contact_id="c1", queue="q", channel="voice")
    feed.event("contact.answered", T0 + 10, contact_id="c1")
    feed.event("contact.ended", T0 + 130, contact_id="c1", hold_seconds=20)
    m = feed.metrics()
    assert window(m, "contactcenter_handle_seconds_average", *v) is None  # not yet
    assert counter(m, "contactcenter_handle_seconds_count", *v) == 0

    feed.event("contact.resolved", T0 + 200, contact_id="c1")
    m = feed.metrics()
    assert window(m, "contactcenter_handle_seconds_average", *v) == 130 - 10  # ended - answered
    assert window(m, "contactcenter_hold_seconds_average", *v) == 20
    assert window(m, "contactcenter_after_contact_work_seconds_average", *v) is None  # no wrap
    assert counter(m, "contactcenter_handle_seconds_count", *v) == 1

    feed.advance(T0 + 130 + 1800 + 1)  # the 30-minute rule must not count it again
    m = feed.metrics()
    assert counter(m, "contactcenter_handle_seconds_count", *v) == 1
    assert counter(m, "contactcenter_handle_seconds_sum", *v) == 130 - 10


def test_handle_time_without_wrap_up_is_emitted_30_minutes_after_ended() -> None:
    feed = Feed()
    v = ("q", "voice")
    w = ("wrapq", "voice")
    feed.event("contact.queued", T0, contact_id="c1", queue="q", channel="voice")
    feed.event("contact.answered", T0 + 10, contact_id="c1")
    feed.event("contact.ended", T0 + 310, contact_id="c1")  # never wrapped, never resolved
    # control: a wrapped contact has its handle time at wrap-up, once
    feed.event("contact.queued", T0 + 300, contact_id="c2", queue="wrapq", channel="voice")
    feed.event("contact.answered", T0 + 310, contact_id="c2")
    feed.event("contact.ended", T0 + 400, contact_id="c2")
    feed.event("contact.wrapped", T0 + 445, contact_id="c2")

    feed.advance(T0 + 310 + 1799.999)
    m = feed.metrics()
    assert counter(m, "contactcenter_handle_seconds_count", *v) == 0
    assert window(m, "contactcenter_handle_seconds_average", *v) is None
    assert window(m, "contactcenter_handle_seconds_average", *w) == 445 - 310
    assert window(m, "contactcenter_after_contact_work_seconds_average", *w) == 445 - 400

    feed.advance(T0 + 310 + 1800)  # 30 min after ended, no new event
    m = feed.metrics()
    assert counter(m, "contactcenter_handle_seconds_count", *v) == 1
    assert window(m, "contactcenter_handle_seconds_average", *v) == 310 - 10
    assert counter(m, "contactcenter_handle_seconds_count", *w) == 1


# ---------------------------------------------------------------- surveys


def test_late_survey_after_close_counts_in_the_contacts_queue() -> None:
    feed = Feed()
    feed.event("contact.queued", T0, contact_id="c1", queue="billing", channel="voice")
    feed.event("contact.answered", T0 + 10, contact_id="c1")
    feed.event("contact.ended", T0 + 100, contact_id="c1")  # voice closes at ended
    feed.event("contact.queued", T0 + 120, contact_id="c2", queue="other", channel="voice")
    # a survey without queue/channel for the closed (remembered) contact
    feed.event("survey.responded", T0 + 600, contact_id="c1", csat=4)
    # a survey for a contact never seen, carrying its queue and channel
    feed.event("survey.responded", T0 + 610, contact_id="gone", queue="old", channel="chat", ces=3)

    m = feed.metrics()
    assert window(m, "contactcenter_csat_score_average", "billing", "voice") == 4
    assert window(m, "contactcenter_csat_ratio", "billing", "voice") == 1 / 1
    assert window(m, "contactcenter_csat_score_average", "other", "voice") is None
    assert window(m, "contactcenter_ces_score_average", "old", "chat") == 3
    assert m.get("contactcenter_events_rejected_total", reason="unknown_contact") == 0


def test_survey_for_a_forgotten_contact_without_queue_is_rejected() -> None:
    feed = Feed(config={"engine": {"closed_contact_retention": "1h"}})
    feed.event("contact.queued", T0, contact_id="c1", queue="billing", channel="voice")
    feed.event("contact.answered", T0 + 10, contact_id="c1")
    feed.event("contact.ended", T0 + 100, contact_id="c1")  # closed at T0 + 100
    feed.advance(T0 + 100 + 3600 + 1)  # retention (1 h) over: c1 forgotten
    feed.event("survey.responded", T0 + 3800, contact_id="c1", csat=5)  # parked
    feed.advance(T0 + 3800 + 61)  # orphan_hold (60 s) over
    m = feed.metrics()
    assert window(m, "contactcenter_csat_score_average", "billing", "voice", "today") is None
    assert m.get("contactcenter_events_rejected_total", reason="unknown_contact") == 1


def test_csat_ces_nps() -> None:
    feed = Feed()
    answers: list[dict] = [
        {"csat": 5, "ces": 6, "nps": 10},
        {"csat": 4, "nps": 9},
        {"csat": 3, "ces": 2, "nps": 7},
        {"csat": 1, "ces": 7, "nps": 6},
        {"ces": 1, "nps": 8},
    ]
    for i, answer in enumerate(answers):
        cid = f"c{i}"
        start = T0 + 100 * i
        feed.event("contact.queued", start, contact_id=cid, queue="s", channel="voice")
        feed.event("contact.answered", start + 5, contact_id=cid)
        feed.event("contact.ended", start + 60, contact_id=cid)
        feed.event("survey.responded", start + 90, contact_id=cid, **answer)

    m = feed.metrics()
    s = ("s", "voice")
    # csat 5, 4, 3, 1: two of four are 4 or 5
    assert window(m, "contactcenter_csat_ratio", *s) == 2 / 4
    assert window(m, "contactcenter_csat_score_average", *s) == (5 + 4 + 3 + 1) / 4
    # ces 6, 2, 7, 1
    assert window(m, "contactcenter_ces_score_average", *s) == (6 + 2 + 7 + 1) / 4
    # nps 10, 9, 7, 6, 8: promoters 2 (10, 9), detractors 1 (6), passives 2 (7, 8)
    assert window(m, "contactcenter_nps_score", *s) == 100 * (2 - 1) / 5


# ---------------------------------------------------------------- FCR


def test_first_contact_resolution_with_and_without_the_field() -> None:
    feed = Feed()
    t = T0

    def step(seconds: float = 10) -> float:
        nonlocal t
        t += seconds
        return t

    def voice(cid: str, **resolved: object) -> None:
        feed.event("contact.queued", step(), contact_id=cid, queue="f", channel="voice")
        feed.event("contact.answered", step(), contact_id=cid)
        feed.event("contact.ended", step(), contact_id=cid)
        feed.event("contact.resolved", step(), contact_id=cid, **resolved)

    voice("v1")  # absent: one interaction (the answer) -> FCR
    voice("v2", first_contact=False)  # the field wins -> not FCR

    def email(cid: str, replies: int, **resolved: object) -> None:
        feed.event("contact.queued", step(), contact_id=cid, queue="f", channel="email")
        for _ in range(replies):
            feed.event("contact.responded", step(), contact_id=cid)
        feed.event("contact.resolved", step(), contact_id=cid, **resolved)

    email("e1", 1)  # absent, one reply -> FCR
    email("e2", 2)  # absent, two replies -> not FCR
    email("e3", 2, first_contact=True)  # the field wins -> FCR
    email("e4", 0)  # absent, no interaction at all (zero, not one) -> not FCR

    # chat: a reply inside the live conversation is not a second interaction
    feed.event("contact.queued", step(), contact_id="h1", queue="f", channel="chat")
    feed.event("contact.answered", step(), contact_id="h1")
    feed.event("contact.responded", step(), contact_id="h1")
    feed.event("contact.ended", step(), contact_id="h1")
    feed.event("contact.resolved", step(), contact_id="h1")  # -> FCR
    # ... but a reply after the conversation ended is
    feed.event("contact.queued", step(), contact_id="h2", queue="f", channel="chat")
    feed.event("contact.answered", step(), contact_id="h2")
    feed.event("contact.ended", step(), contact_id="h2")
    feed.event("contact.responded", step(), contact_id="h2")
    feed.event("contact.resolved", step(), contact_id="h2")  # answer + reply -> not FCR

    m = feed.metrics()
    assert window(m, "contactcenter_first_contact_resolution_ratio", "f", "voice") == 1 / 2
    assert window(m, "contactcenter_first_contact_resolution_ratio", "f", "email") == 2 / 4
    assert window(m, "contactcenter_first_contact_resolution_ratio", "f", "chat") == 1 / 2
    assert counter(m, "contactcenter_contacts_resolved_total", "f", "email") == 4


# ---------------------------------------------------------------- cardinality


def test_queue_channel_pairs_beyond_the_cap_fold_into_overflow() -> None:
    feed = Feed(config={"engine": {"max_queue_channels": 2}})
    feed.event("contact.queued", T0, contact_id="c1", queue="q1", channel="voice")
    feed.event("contact.queued", T0 + 1, contact_id="c2", queue="q2", channel="voice")
    feed.event("contact.queued", T0 + 2, contact_id="c3", queue="q3", channel="voice")  # 3rd pair
    feed.event("contact.queued", T0 + 3, contact_id="c4", queue="q4", channel="chat")  # 4th pair
    feed.event("contact.queued", T0 + 4, contact_id="c5", queue="q3", channel="voice")  # again
    feed.event("contact.answered", T0 + 10, contact_id="c3")

    m = feed.metrics()
    offered = "contactcenter_contacts_offered_total"
    assert m.get(offered, queue="q1", channel="voice") == 1
    assert m.get(offered, queue="q2", channel="voice") == 1
    assert m.get(offered, queue="_overflow", channel="voice") == 2  # c3, c5
    assert m.get(offered, queue="_overflow", channel="chat") == 1  # c4
    assert m.get("contactcenter_contacts_answered_total", queue="_overflow", channel="voice") == 1
    assert m.get("contactcenter_overflow_queue_channels") == 2  # q3/voice, q4/chat
    queues = {dict(labels).get("queue") for _, labels in m.samples}
    assert queues == {None, "q1", "q2", "_overflow"}


def test_missed_offers_count_and_the_contact_keeps_waiting() -> None:
    """Two agents let a call ring out, the third answers: 2 missed, 1 answered after 40 s."""
    feed = Feed()
    feed.event("contact.queued", T0, contact_id="v1", queue="q", channel="voice")
    feed.event("contact.missed", T0 + 15, contact_id="v1", agent_id="a1", ring_seconds=15)
    feed.event("contact.missed", T0 + 30, contact_id="v1", agent_id="a2")
    m = feed.metrics()
    assert counter(m, "contactcenter_contacts_missed_total", "q", "voice") == 2
    assert m.get("contactcenter_contacts_waiting", queue="q", channel="voice") == 1
    feed.event("contact.answered", T0 + 40, contact_id="v1", agent_id="a3")
    m = feed.metrics()
    assert window(m, "contactcenter_wait_seconds_average", "q", "voice") == 40
    assert counter(m, "contactcenter_contacts_answered_total", "q", "voice") == 1


def test_contacts_of_one_queue_share_its_name_and_their_teams() -> None:
    """Each message decodes to new strings; a contact keeps the interned queue and team,
    so 300,000 open contacts do not hold 300,000 copies of a few hundred names."""
    feed = Feed()
    for n in range(3):
        feed.send(
            {
                "event_id": f"q{n}",
                "type": "contact.queued",
                "occurred_at": iso(T0 + n),
                "contact_id": f"c{n}",
                "queue": "billing" if n < 2 else "sales",
                "channel": "email",
                "team": "north",
            }
        )
    feed.send(
        {
            "event_id": "t2",
            "type": "contact.queued",  # c2 moves to billing
            "occurred_at": iso(T0 + 5),
            "contact_id": "c2",
            "queue": "billing",
            "channel": "email",
        }
    )
    contacts = feed.engine.contacts.contacts
    assert {c.queue for c in contacts.values()} == {"billing"}
    assert len({id(c.queue) for c in contacts.values()}) == 1
    assert len({id(c.team) for c in contacts.values()}) == 1
