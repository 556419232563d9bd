"""Board snapshot: tile colours from the targets, values equal to the exposition's, and
the feed that pushes it to wallboards."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from streams.read.board import board_snapshot, service_level_status
from streams.web import server as web_app
from tests.support.helpers import T0, Feed


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
        "sla": "amber",  # c3 at risk of missing its answer
        "overall": "red",
        "text": "below target",  # red from the service level, not a breach
    }
    assert tile["sla"]["by_kind"] == {
        "answer": {"at_risk": 1, "breached": 0},
        "resolution": {"at_risk": 0, "breached": 0},
    }
    assert board["windows"] == ["5m", "15m", "1h", "today"]


def test_board_feed_rests_until_a_wallboard_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    """No listener: the board is never assembled. The first listener gets a fresh board
    at once, the feed refreshes while it stays, and rests again once it leaves."""
    monkeypatch.setattr(web_app, "PUSH_INTERVAL_SECONDS", 0)  # refresh on every loop turn
    calls = 0

    async def source() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return {"n": calls}

    async def turns(count: int) -> None:
        for _ in range(count):
            await asyncio.sleep(0)

    async def scenario() -> None:
        feed = web_app.BoardFeed(source)
        runner = asyncio.create_task(feed.run())
        await turns(20)  # a refreshing loop would have assembled the board 10 times
        assert calls == 0
        async with feed.listening():
            assert (calls, feed.payload) == (1, b'{"n":1}')
            await asyncio.wait_for(feed.wait_newer(1, 5.0), 5.0)
            assert feed.version >= 2
        await turns(4)  # the loop's current turn ends
        resting = calls
        await turns(20)
        assert calls == resting
        runner.cancel()

    asyncio.run(scenario())


def test_board_feed_serves_a_listener_whose_first_companion_left_mid_refresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first listener's browser goes away while the feed assembles its first board
    (the handler is cancelled): the listener still there gets boards all the same."""
    monkeypatch.setattr(web_app, "PUSH_INTERVAL_SECONDS", 0)
    first_call = asyncio.Event()
    calls = 0

    async def source() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            first_call.set()
            await asyncio.Event().wait()  # a slow Redis: never answers this one
        return {"n": calls}

    async def scenario() -> None:
        feed = web_app.BoardFeed(source)
        runner = asyncio.create_task(feed.run())

        async def listen() -> None:
            async with feed.listening():
                await asyncio.Event().wait()

        first = asyncio.create_task(listen())
        await asyncio.wait_for(first_call.wait(), 5.0)
        second = asyncio.create_task(listen())
        first.cancel()
        assert await feed.wait_newer(0, 5.0)
        assert feed.listeners == 1
        second.cancel()
        runner.cancel()

    asyncio.run(scenario())


def test_tiles_are_cached_until_their_queue_or_the_second_changes() -> None:
    feed = Feed()
    feed.event("contact.queued", T0, contact_id="c1", queue="billing", channel="voice")
    feed.event("contact.answered", T0 + 5, contact_id="c1")
    feed.event("contact.queued", T0, contact_id="m1", queue="mail", channel="email")
    feed.advance(T0 + 10.25)
    first = {t["queue"]: t for t in board_snapshot(feed.engine, coarse=True)["queues"]}
    assert first["billing"]["live"]["open"] == 1  # answered, talking
    feed.advance(T0 + 10.75)  # the same second: a wallboard's tiles are those of before
    again = {t["queue"]: t for t in board_snapshot(feed.engine, coarse=True)["queues"]}
    assert again["billing"] is first["billing"]
    feed.event("contact.ended", T0 + 10.75, contact_id="c1")  # closes it: no window fact
    changed = {t["queue"]: t for t in board_snapshot(feed.engine, coarse=True)["queues"]}
    assert changed["billing"]["live"]["open"] == 0  # its queue changed: computed again
    assert changed["mail"]["live"]["oldest_open_seconds"] == 10.25  # unchanged: kept
    exact = {t["queue"]: t for t in board_snapshot(feed.engine)["queues"]}
    assert exact["mail"]["live"]["oldest_open_seconds"] == 10.75  # the API is exact
    feed.advance(T0 + 11.125)
    later = {t["queue"]: t for t in board_snapshot(feed.engine, coarse=True)["queues"]}
    assert later["mail"]["live"]["oldest_open_seconds"] == 11.125  # a new second
