"""`floorwatch run` with a business-hours calendar: the breach comes from the clock within
a second of the business-time due instant, not from the next event.

The calendar opens at the start of the current UTC minute (M) and stays open two hours;
the contact queued an hour before M, while closed. With an answer target of T seconds its
business-time due instant is M + T (chosen about 4 s ahead), while on the wall clock it
would have been due at once (M - 3600 + T): so a contact that is not breached at first
and breaches within a second after M + T was timed in business seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.helpers import Metrics, iso
from tests.support.live import LiveFloorwatch, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def opening(tmp_path: Path) -> Iterator[tuple[LiveFloorwatch, float, float]]:
    now = time.time()
    opens = now - now % 60  # M
    target = round(now - opens) + 4.0
    start = datetime.fromtimestamp(opens, UTC)
    end = datetime.fromtimestamp(opens + 7200, UTC)
    day = start.strftime("%A").lower()
    config = tmp_path / "floorwatch.toml"
    config.write_text(
        f"""
[calendars.desk]
timezone = "UTC"
{day} = "{start:%H:%M}-{end:%H:%M}"

[[targets]]
queue = "hotline"
calendar = "desk"
answer_within_seconds = {target}
at_risk_fraction = 0.5
"""
    )
    server = LiveFloorwatch("--source", "-", config=config)
    yield server, opens, target
    server.stop()


def sla_count(live: LiveFloorwatch, name: str) -> float | None:
    metrics = Metrics(live.get("/metrics")[1].decode())
    labels = {"queue": "hotline", "channel": "voice", "priority": "normal", "sla": "answer"}
    return metrics.get(name, **labels)


def test_a_business_hours_breach_appears_within_a_second_of_its_due_instant(
    opening: tuple[LiveFloorwatch, float, float],
) -> None:
    live, opens, target = opening
    live.send(
        {
            "event_id": "q-1",
            "type": "contact.queued",
            "occurred_at": iso(opens - 3600),
            "contact_id": "c1",
            "queue": "hotline",
            "channel": "voice",
        }
    )
    due = opens + target
    breached = "contactcenter_sla_breached_contacts"
    wait_for(lambda: sla_count(live, breached) == 0, 5, "the contact to be tracked")
    assert time.time() < due  # wall-clock time would have breached it already
    seen = wait_for(lambda: time.time() if sla_count(live, breached) == 1 else None, 10, "breach")
    assert due < seen <= due + 1.0 + 0.2  # 1 s contract + one polling round trip
