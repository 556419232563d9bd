"""Contacts at risk and breached (/api/v1/contacts), at a fixed clock, worked out by hand.

Clock: now = T0 + 3 h (2026-11-20 12:00 UTC). Targets are the built-in ones: voice
answer 20 s, chat answer 30 s and first response 120 s, email first response 4 h,
resolution 24 h; at risk with a quarter of the target left.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streams.config import settings_from_mapping
from streams.read.contacts import ContactFilter, contact_rows, fill_agents, merge_parts
from tests.support.helpers import T0, Feed, iso

NOW = T0 + 3 * 3600


def floor() -> Feed:
    feed = Feed()
    q = feed.event
    # v1: voice, waiting 16 s: answer due in 4 s, at risk since 5 s before due.
    q("contact.queued", NOW - 16, contact_id="v1", queue="billing", channel="voice", team="t1")
    # v2: voice, high priority, waiting 25 s: answer due 5 s ago, breached.
    q(
        "contact.queued",
        NOW - 25,
        contact_id="v2",
        queue="billing",
        channel="voice",
        priority="high",
    )
    # v3: answered after 10 s: nothing pending but its 24 h resolution.
    q("contact.queued", NOW - 100, contact_id="v3", queue="billing", channel="voice")
    q("contact.answered", NOW - 90, contact_id="v3", agent_id="a1")
    # e1: email, 3 h 10 min old: first response due in 50 min (at risk from 1 h left).
    q("contact.queued", NOW - 3 * 3600 - 600, contact_id="e1", queue="support", channel="email")
    # e2: email, 5 h old, no reply: first response due 1 h ago.
    q("contact.queued", NOW - 5 * 3600, contact_id="e2", queue="support", channel="email")
    # e3: email, 23 h old, replied within the hour by a2: resolution due in 1 h (at risk).
    q("contact.queued", NOW - 23 * 3600, contact_id="e3", queue="support", channel="email")
    q("contact.responded", NOW - 22 * 3600, contact_id="e3", agent_id="a2")
    # c1: chat answered by a3 after 10 s, no reply yet: first response due 80 s ago.
    q("contact.queued", NOW - 200, contact_id="c1", queue="web", channel="chat")
    q("contact.answered", NOW - 190, contact_id="c1", agent_id="a3")
    feed.advance(NOW)
    return feed


def listed(feed: Feed, **filters: frozenset[str]) -> list[tuple]:
    rows = contact_rows(feed.engine, ContactFilter(**filters))["contacts"]
    return [(r["contact_id"], r["sla"], r["state"], r["seconds_to_due"]) for r in rows]


def test_most_urgent_first_with_each_sla_kind() -> None:
    assert listed(floor()) == [
        ("e2", "first_response", "breached", -3600.0),
        ("c1", "first_response", "breached", -80.0),
        ("v2", "answer", "breached", -5.0),
        ("v1", "answer", "at_risk", 4.0),
        ("e1", "first_response", "at_risk", 3000.0),
        ("e3", "resolution", "at_risk", 3600.0),
    ]


def test_row_fields() -> None:
    listing = contact_rows(floor().engine, ContactFilter())
    rows = {(r["contact_id"], r["sla"]): r for r in listing["contacts"]}
    assert listing["now"] == iso(NOW) and listing["total"] == 6
    assert rows[("v1", "answer")] == {
        "contact_id": "v1",
        "queue": "billing",
        "channel": "voice",
        "team": "t1",
        "priority": "normal",
        "sla": "answer",
        "state": "at_risk",
        "due_at": iso(NOW + 4),
        "seconds_to_due": 4.0,
        "business_seconds_to_due": None,
        "waiting": True,
        "entered_at": iso(NOW - 16),
        "age_seconds": 16.0,
        "agent_id": None,
    }
    e3 = rows[("e3", "resolution")]
    assert (e3["waiting"], e3["age_seconds"], e3["agent_id"]) == (False, 23 * 3600.0, "a2")
    assert e3["due_at"] == iso(NOW + 3600)
    c1 = rows[("c1", "first_response")]
    assert (c1["waiting"], c1["agent_id"], c1["priority"]) == (False, "a3", "normal")
    assert rows[("e2", "first_response")]["waiting"] is True
    assert rows[("v2", "answer")]["priority"] == "high"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"states": frozenset({"at_risk"})}, ["v1", "e1", "e3"]),
        ({"states": frozenset({"breached"})}, ["e2", "c1", "v2"]),
        ({"channels": frozenset({"email"})}, ["e2", "e1", "e3"]),
        ({"priorities": frozenset({"high"})}, ["v2"]),
        ({"kinds": frozenset({"resolution"})}, ["e3"]),
        ({"queues": frozenset({"billing"})}, ["v2", "v1"]),
        ({"teams": frozenset({"t1"})}, ["v2", "v1"]),  # billing's team, from v1
        ({"queues": frozenset({"billing"}), "states": frozenset({"at_risk"})}, ["v1"]),
    ],
)
def test_filters(filters: dict, expected: list[str]) -> None:
    listing = contact_rows(floor().engine, ContactFilter(**filters))
    assert [r["contact_id"] for r in listing["contacts"]] == expected
    assert listing["total"] == len(expected)


def test_limit_keeps_the_most_urgent_and_the_total() -> None:
    listing = contact_rows(floor().engine, ContactFilter(), limit=2)
    assert [r["contact_id"] for r in listing["contacts"]] == ["e2", "c1"]
    assert listing["total"] == 6


def test_the_clock_moves_contacts_from_at_risk_to_breached_and_out() -> None:
    feed = floor()
    feed.advance(NOW + 5)  # v1 due at NOW + 4: breached 1 s ago
    assert ("v1", "answer", "breached", -1.0) in listed(feed)
    feed.event("contact.answered", NOW + 6, contact_id="v1", agent_id="a4")
    feed.event("contact.responded", NOW + 6, contact_id="e1", agent_id="a5")
    assert [r[0] for r in listed(feed)] == ["e2", "c1", "v2", "e3"]


def test_a_transferred_contact_is_listed_once_in_its_new_queue() -> None:
    feed = floor()
    feed.event("contact.queued", NOW + 1, contact_id="e2", queue="tier2", channel="email")
    rows = contact_rows(feed.engine, ContactFilter(), limit=100)["contacts"]
    e2 = [(r["queue"], r["sla"], r["state"]) for r in rows if r["contact_id"] == "e2"]
    assert e2 == [("tier2", "first_response", "breached")]


def test_stale_flags_are_swept_and_order_holds_with_many_contacts() -> None:
    feed = Feed()
    # 300 voice calls, one per second; each answered 30 s after it queued (after its due
    # at 20 s): at any time about 30 wait, 10 at risk-or-breached... the heaps keep order.
    start = T0
    for i in range(300):
        feed.event("contact.queued", start + i, contact_id=f"k{i}", queue="q", channel="voice")
        if i >= 30:
            feed.event("contact.answered", start + i, contact_id=f"k{i - 30}")
    feed.advance(start + 299)
    rows = contact_rows(feed.engine, ContactFilter())["contacts"]
    # waiting: k270..k299 (queued start+270..+299); now start+299: due start+i+20.
    # breached: due < now -> i + 20 < 299 -> k270..k278; at risk: due - 5 <= now -> k279..k284
    assert [r["contact_id"] for r in rows] == [f"k{i}" for i in range(270, 285)]
    qc = feed.engine.queues.stats[("q", "voice")]
    assert len(qc.flags[1]) <= 2 * 9 + 64 + 1  # stale breach flags were swept


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_business_seconds_to_due_with_a_calendar() -> None:
    """Office hours Mon-Fri 09:00-17:00 Europe/Berlin. An email queued Fri 2026-12-04
    16:00 CET, first response within 4 business hours, at risk with 3 left (fraction
    0.75): at risk at Fri 17:00 CET, due Mon 12:00 CET (11:00 UTC)."""
    office = {
        "timezone": "Europe/Berlin",
        **{d: "09:00-17:00" for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
    }
    settings = settings_from_mapping(
        {
            "calendars": {"office": office},
            "targets": [
                {
                    "channel": "email",
                    "calendar": "office",
                    "first_response_within_seconds": 14400,
                    "at_risk_fraction": 0.75,
                }
            ],
        }
    )
    feed = Feed(settings=settings)
    feed.event(
        "contact.queued", utc(2026, 12, 4, 15), contact_id="m1", queue="mail", channel="email"
    )
    feed.advance(utc(2026, 12, 5, 12))  # Saturday 13:00 CET
    (row,) = contact_rows(feed.engine, ContactFilter())["contacts"]
    assert (row["sla"], row["state"], row["due_at"]) == (
        "first_response",
        "at_risk",
        iso(utc(2026, 12, 7, 11)),
    )
    assert row["seconds_to_due"] == 47 * 3600.0  # Sat 12:00 UTC to Mon 11:00 UTC
    assert row["business_seconds_to_due"] == 3 * 3600.0  # Mon 09:00-12:00 CET
    feed.advance(utc(2026, 12, 7, 17))  # Monday 18:00 CET, after closing
    row, resolution = contact_rows(feed.engine, ContactFilter())["contacts"]
    assert (row["sla"], row["state"]) == ("first_response", "breached")
    assert row["seconds_to_due"] == -6 * 3600.0
    assert row["business_seconds_to_due"] == -5 * 3600.0  # 12:00-17:00 CET open
    # Resolution, 24 business hours (lead 18): due Fri 1 h + Mon 8 + Tue 8 + Wed 7 h =
    # Wed 16:00 CET; at risk from 6 business hours (Mon 14:00 CET).
    assert (resolution["sla"], resolution["state"]) == ("resolution", "at_risk")
    assert resolution["due_at"] == iso(utc(2026, 12, 9, 15))
    assert resolution["seconds_to_due"] == 46 * 3600.0  # Mon 17:00 to Wed 15:00 UTC
    assert resolution["business_seconds_to_due"] == 15 * 3600.0  # 24 - (1 + 8)


def test_lists_of_two_workers_merge() -> None:
    a = {
        "now": iso(NOW),
        "total": 3,
        "contacts": [
            {"contact_id": "x", "due_at": iso(NOW - 10), "agent_id": None},
            {"contact_id": "y", "due_at": iso(NOW + 10), "agent_id": "a1"},
        ],
    }
    b = {
        "now": iso(NOW + 1),
        "total": 2,
        "contacts": [
            {"contact_id": "z", "due_at": iso(NOW - 5), "agent_id": None},
            {"contact_id": "w", "due_at": iso(NOW + 20), "agent_id": None},
        ],
    }
    merged = merge_parts([a, b], limit=3)
    assert [r["contact_id"] for r in merged["contacts"]] == ["x", "z", "y"]
    assert (merged["total"], merged["now"]) == (5, iso(NOW + 1))
    fill_agents(merged, {"x": "a9", "y": "a7"})
    assert [r["agent_id"] for r in merged["contacts"]] == ["a9", None, "a1"]
