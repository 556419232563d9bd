"""SLA clocks counting business seconds, at fixed clocks worked out by hand.

Calendar "office": Monday to Friday 09:00-17:00 Europe/Berlin (CET = UTC+1 in December).
An email ticket queued Friday 2026-12-04 16:00 CET with first response within 4 business
hours (at-risk fraction 0.25, so at risk with 1 business hour left):
- at risk at 3 business hours: 1 h on Friday + 2 h on Monday = Mon 11:00 CET (10:00 UTC);
- due at 4 business hours: Mon 12:00 CET (11:00 UTC); breached just after.
Its resolution (24 business hours) is due Fri 1 h + Mon 8 h + Tue 8 h + Wed 7 h =
Wed 2026-12-09 16:00 CET (15:00 UTC), at risk from 18 h = Wed 10:00 CET (09:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime

from streams.config import settings_from_mapping
from tests.support.helpers import Feed, Metrics

BREACHED = "contactcenter_sla_breached_contacts"
AT_RISK = "contactcenter_sla_at_risk_contacts"
OFFICE = {
    "timezone": "Europe/Berlin",
    **{day: "09:00-17:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
}


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def office_feed(**targets: object) -> Feed:
    config = {
        "calendars": {"office": OFFICE},
        "targets": [
            {
                "channel": "email",
                "calendar": "office",
                "first_response_within_seconds": 14400,
                **targets,
            }
        ],
    }
    return Feed(settings=settings_from_mapping(config))


def state(m: Metrics, kind: str) -> tuple[float | None, float | None]:
    labels = {"queue": "mail", "channel": "email", "priority": "normal", "sla": kind}
    return m.get(AT_RISK, **labels), m.get(BREACHED, **labels)


def test_a_friday_ticket_is_not_breached_over_the_weekend() -> None:
    feed = office_feed()
    feed.event(
        "contact.queued", utc(2026, 12, 4, 15), contact_id="t1", queue="mail", channel="email"
    )
    feed.advance(utc(2026, 12, 5, 1))  # Sat 02:00 CET: 10 wall-clock hours later
    assert state(feed.metrics(), "first_response") == (0, 0)
    feed.advance(utc(2026, 12, 7, 9, 59, 59))  # Mon 10:59:59 CET
    assert state(feed.metrics(), "first_response") == (0, 0)
    feed.advance(utc(2026, 12, 7, 10))  # Mon 11:00 CET: 1 business hour left (inclusive)
    assert state(feed.metrics(), "first_response") == (1, 0)
    feed.advance(utc(2026, 12, 7, 11))  # the due instant: still at risk
    assert state(feed.metrics(), "first_response") == (1, 0)
    feed.advance(utc(2026, 12, 7, 11, 0, 1))
    assert state(feed.metrics(), "first_response") == (0, 1)


def test_resolution_counts_business_days() -> None:
    feed = office_feed()
    feed.event(
        "contact.queued", utc(2026, 12, 4, 15), contact_id="t1", queue="mail", channel="email"
    )
    feed.advance(utc(2026, 12, 9, 8, 59, 59))  # Wed 09:59:59 CET
    assert state(feed.metrics(), "resolution") == (0, 0)
    feed.advance(utc(2026, 12, 9, 9))
    assert state(feed.metrics(), "resolution") == (1, 0)
    feed.advance(utc(2026, 12, 9, 15, 0, 1))
    assert state(feed.metrics(), "resolution") == (0, 1)


def test_without_a_calendar_the_same_ticket_breaches_on_friday_evening() -> None:
    config = {"targets": [{"channel": "email", "first_response_within_seconds": 14400}]}
    feed = Feed(settings=settings_from_mapping(config))
    feed.event(
        "contact.queued", utc(2026, 12, 4, 15), contact_id="t1", queue="mail", channel="email"
    )
    feed.advance(utc(2026, 12, 4, 19, 0, 1))  # Fri 20:00:01 CET
    assert state(feed.metrics(), "first_response") == (0, 1)


def test_a_response_in_business_time_meets_the_sla() -> None:
    feed = office_feed()
    feed.event(
        "contact.queued", utc(2026, 12, 4, 15), contact_id="t1", queue="mail", channel="email"
    )
    feed.event("contact.responded", utc(2026, 12, 7, 10, 30), contact_id="t1", agent_id="a")
    feed.advance(utc(2026, 12, 8, 12))
    assert state(feed.metrics(), "first_response") == (0, 0)
    assert (
        feed.metrics().get(
            "contactcenter_sla_breaches_total",
            queue="mail",
            channel="email",
            priority="normal",
            sla="first_response",
        )
        == 0
    )


def test_a_target_change_applies_to_contacts_queued_after_it() -> None:
    feed = office_feed()
    feed.event(
        "contact.queued", utc(2026, 12, 4, 15), contact_id="t1", queue="mail", channel="email"
    )
    changed = settings_from_mapping(
        {
            "calendars": {"office": OFFICE},
            "targets": [
                {"channel": "email", "calendar": "office", "first_response_within_seconds": 7200}
            ],
        }
    )
    feed.engine.targets.replace(changed)
    # t2 queued Mon 09:00 CET with 2 business hours: due 11:00 CET (10:00 UTC).
    feed.event(
        "contact.queued", utc(2026, 12, 7, 8), contact_id="t2", queue="mail", channel="email"
    )
    feed.advance(utc(2026, 12, 7, 10, 0, 1))  # t2 breached; t1 (4 h, entered before) at risk
    assert state(feed.metrics(), "first_response") == (1, 1)
