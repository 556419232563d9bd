"""Board snapshot: tile colours from the targets, and values equal to the exposition's."""

from __future__ import annotations

import pytest

from streams.board import board_snapshot, service_level_status
from tests.helpers import T0, Feed


@pytest.mark.parametrize(
    ("value", "target", "status"),
    [
        (None, 0.8, None),  # no contact left the queue yet: no colour
        (0.80, 0.8, "green"),  # at target
        (0.7999, 0.8, "amber"),  # just below
        (0.75, 0.8, "amber"),  # exactly 5 points below is still amber
        (0.7499, 0.8, "red"),
    ],
)
def test_service_level_colour(value: float | None, target: float, status: str | None) -> None:
    assert service_level_status(value, target) == status


def test_tile_values_and_status() -> None:
    feed = Feed()
    # Two calls: waits 10 s (met) and 30 s (missed, target 20 s) -> service level 1/2.
    feed.event(
        "contact.queued", T0, contact_id="c1", queue="billing", channel="voice", team="tier1"
    )
    feed.event("contact.answered", T0 + 10, contact_id="c1")
    feed.event("contact.queued", T0 + 5, contact_id="c2", queue="billing", channel="voice")
    feed.event("contact.answered", T0 + 35, contact_id="c2")
    # One more waiting since T0 + 40, which is 20 s before the clock at T0 + 60:
    # at risk from due - 0.25 x 20 s = T0 + 55 (due T0 + 60, not yet passed).
    feed.event("contact.queued", T0 + 40, contact_id="c3", queue="billing", channel="voice")
    feed.advance(T0 + 60)
    board = board_snapshot(feed.engine)
    (tile,) = board["queues"]
    assert (tile["queue"], tile["channel"], tile["team"]) == ("billing", "voice", "tier1")
    assert tile["live"]["waiting"] == 1
    assert tile["live"]["longest_wait_seconds"] == 20.0
    assert tile["windows"]["today"]["service_level_ratio"] == 0.5
    assert tile["windows"]["today"]["wait_seconds_average"] == 20.0  # (10 + 30) / 2
    assert tile["sla"]["at_risk"] == 1 and tile["sla"]["breached"] == 0
    assert tile["status"] == {
        "service_level_today": "red",
        "service_level_15m": "red",
        "overall": "red",
    }
    assert board["windows"] == ["5m", "15m", "1h", "today"]
