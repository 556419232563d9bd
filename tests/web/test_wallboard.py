"""The live wallboard in a real headless Chromium: values, colours, push within a second.

WALLBOARD_SCREENSHOT_DEMO=docs/wallboard.png refreshes the screenshot the README shows (the
simulated demo); WALLBOARD_SCREENSHOT=PATH keeps the one of the hand-made board.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.support.cdp import Browser
from tests.support.helpers import iso
from tests.support.live import LiveFloorwatch, wait_for

pytestmark = pytest.mark.slow

RED, GREEN = "rgb(239, 75, 75)", "rgb(47, 191, 113)"  # --red, --green of style.css

TILES = """Array.from(document.querySelectorAll('.tile')).map(t => ({
  queue: t.dataset.queue, channel: t.dataset.channel, status: t.dataset.status,
  waiting: t.querySelector('[data-field=waiting]').textContent,
  slToday: t.querySelector('[data-field=service_level_today]').textContent,
  slColour: getComputedStyle(t.querySelector('[data-field=service_level_today]')).color,
  border: getComputedStyle(t).borderLeftColor,
  available: t.querySelector('[data-field=agents_available]').textContent,
  breached: t.querySelector('[data-field=breached]').textContent,
}))"""


@pytest.fixture
def live() -> Iterator[LiveFloorwatch]:
    server = LiveFloorwatch("--source", "-")
    yield server
    server.stop()


def event(kind: str, contact: str, at: float, **fields: object) -> dict:
    return {
        "event_id": f"{kind}-{contact}",
        "type": f"contact.{kind}",
        "occurred_at": iso(at),
        "contact_id": contact,
        **fields,
    }


def test_wallboard_shows_values_colours_and_live_changes(
    live: LiveFloorwatch, tmp_path: Path
) -> None:
    chromium = require_tool("chromium", "chromium")
    now = time.time()
    live.send(
        # billing: waits of 10 s (met, target 20 s) and 35 s (missed): service level 1/2.
        event("queued", "b1", now - 40, queue="billing", channel="voice"),
        event("answered", "b1", now - 30),
        event("queued", "b2", now - 60, queue="billing", channel="voice"),
        event("answered", "b2", now - 25),
        # sales: one answered after 2 s (service level 1/1) and one still waiting.
        event("queued", "s1", now - 30, queue="sales", channel="voice"),
        event("answered", "s1", now - 28),
        event("queued", "s2", now - 5, queue="sales", channel="voice"),
        {
            "event_id": "ag1",
            "type": "agent.state",
            "occurred_at": iso(now),
            "agent_id": "a1",
            "state": "available",
            "queues": ["sales"],
        },
    )
    wait_for(lambda: len(live.board()["queues"]) == 2, 5, "both tiles in the board API")

    async def scenario() -> tuple[float, bytes]:
        browser = Browser(chromium)
        try:
            await browser.open_page()
            await browser.call("Page.enable")
            await browser.call("Page.navigate", url=live.base)
            tiles = await poll(browser, TILES, lambda t: len(t) == 2, "two tiles")
            billing, sales = sorted(tiles, key=lambda t: t["queue"])
            assert (billing["queue"], billing["channel"]) == ("billing", "voice")
            assert billing["slToday"] == "50.0%"
            assert (billing["status"], billing["slColour"], billing["border"]) == ("red", RED, RED)
            assert billing["waiting"] == "0"
            assert sales["slToday"] == "100.0%"
            assert (sales["status"], sales["slColour"], sales["border"]) == ("green", GREEN, GREEN)
            assert (sales["waiting"], sales["available"], sales["breached"]) == ("1", "1", "0")
            assert (
                await browser.evaluate("document.getElementById('connection').textContent")
                == "live"
            )
            # A change in the engine reaches the page by itself, within a second.
            sent = time.monotonic()
            live.send(event("queued", "s3", time.time(), queue="sales", channel="voice"))
            await poll(
                browser,
                TILES,
                lambda t: any(x["queue"] == "sales" and x["waiting"] == "2" for x in t),
                "the new waiting contact",
                timeout=3,
            )
            return time.monotonic() - sent, await browser.screenshot()
        finally:
            await browser.close()

    elapsed, png = asyncio.run(scenario())
    assert elapsed < 1.0
    target = Path(os.environ.get("WALLBOARD_SCREENSHOT", tmp_path / "wallboard.png"))
    target.write_bytes(png)
    assert png.startswith(b"\x89PNG")


async def poll(browser: Browser, expression: str, ok, what: str, timeout: float = 10) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = await browser.evaluate(expression)
        if value and ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; page shows {value!r}")
        await asyncio.sleep(0.02)


def test_wallboard_of_simulated_traffic_matches_the_board_api() -> None:
    """The default demo (simulator at 5x) in the browser; this is the README screenshot."""
    chromium = require_tool("chromium", "chromium")
    # A day of history, so every queue has had contacts whatever the hour: the scenario's
    # nights bring a few contacts an hour, and the default hour of warm-up then left some
    # queues without any (the test failed at 23:50 UTC).
    server = LiveFloorwatch("--speed", "5", "--seed", "3", "--warmup", "24h")
    try:
        wait_for(lambda: len(server.board()["queues"]) == 4, 10, "the four simulated queues")

        async def scenario() -> tuple[list[dict], dict, bytes]:
            browser = Browser(chromium)
            try:
                await browser.open_page()
                await browser.call("Page.navigate", url=server.base)
                tiles = await poll(browser, TILES, lambda t: len(t) == 4, "four tiles")
                # The page and the API must show the same board version's values.
                version = await browser.evaluate("document.body.dataset.version")
                board = server.board()
                tiles = await browser.evaluate(TILES)
                same = await browser.evaluate("document.body.dataset.version") == version
                return (tiles if same else []), board, await browser.screenshot()
            finally:
                await browser.close()

        def agreeing() -> bytes | None:
            tiles, board, png = asyncio.run(scenario())
            return png if tiles and agrees(tiles, board) else None

        png = wait_for(agreeing, 30, "the page to agree with the board API")
    finally:
        server.stop()
    if target := os.environ.get("WALLBOARD_SCREENSHOT_DEMO"):
        Path(target).write_bytes(png)


def agrees(tiles: list[dict], board: dict) -> bool:
    """Each tile shows its queue's status, free agents and breaches as the API says."""
    api = {(q["queue"], q["channel"]): q for q in board["queues"]}
    return len(api) == len(tiles) and all(
        (tile["status"], tile["available"], tile["breached"])
        == (
            api[(tile["queue"], tile["channel"])]["status"]["overall"],
            str(api[(tile["queue"], tile["channel"])]["agents"]["available"]),
            str(api[(tile["queue"], tile["channel"])]["sla"]["breached"]),
        )
        for tile in tiles
    )
