"""The live wallboard in a real headless Chromium, at 1920x1080 (a TV) and 414x896 (a
phone): values and colours as the API says, push within a second, nothing outside the
screen, figures large enough to read across the room, asynchronous tiles with first
response and backlog, the agents panel, and the badge turning stale.

WALLBOARD_SCREENSHOTS=DIR keeps the screenshots (docs/wallboard.png and
docs/wallboard-phone.png come from the team view of the hand-made floor).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool
from tests.support.cdp import Browser
from tests.support.helpers import iso
from tests.support.live import LiveFloorwatch, wait_for
from tests.web.floor_demo import floor_events

pytestmark = pytest.mark.slow

RED, GREEN = "rgb(239, 75, 75)", "rgb(47, 191, 113)"  # --red, --green of style.css
TV, PHONE = (1920, 1080), (414, 896)

TILES = """Array.from(document.querySelectorAll('.tile')).filter(t => !t.hidden).map(t => {
  const f = (name) => {
    const e = t.querySelector(`[data-field=${name}]`); return e && e.textContent; };
  return {queue: t.dataset.queue, channel: t.dataset.channel, status: t.dataset.status,
    kind: t.dataset.kind, badge: f('status'), waiting: f('waiting'), open: f('open'),
    slToday: f('service_level_today'), frt: f('first_response_average'),
    p90: f('first_response_p90'), backlog: f('backlog'), oldest: f('oldest_open'),
    staffing: f('staffing'), answer: f('sla_answer'),
    slColour: t.querySelector('[data-field=service_level_today]') &&
      getComputedStyle(t.querySelector('[data-field=service_level_today]')).color,
    border: getComputedStyle(t).borderLeftColor};
})"""

# Every visible element: outside the viewport (`vertical` false: only sideways), and the
# smallest font of text, of figures (.value) and of main figures (.big).
LAYOUT = """((vertical) => {
  const out = [];
  let text = 1e9, figure = 1e9, main = 1e9;
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('[hidden]')) continue;
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    if (r.left < -0.5 || r.right > innerWidth + 0.5 ||
        (vertical && (r.top < -0.5 || r.bottom > innerHeight + 0.5)))
      out.push(`${e.tagName}.${e.className.baseVal ?? e.className} ${e.textContent.slice(0, 30)}`);
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const size = parseFloat(getComputedStyle(e).fontSize);
    text = Math.min(text, size);
    if (e.classList.contains('value')) figure = Math.min(figure, size);
    if (e.classList.contains('big')) main = Math.min(main, size);
  }
  return {outside: out.slice(0, 10), text, figure, main,
    scrollWidth: document.documentElement.scrollWidth,
    scrollHeight: document.documentElement.scrollHeight,
    mode: document.body.className};
})"""

AGENTS = """Array.from(document.querySelectorAll('#agent-chips .chip[data-agent]')).map(c => ({
  id: c.dataset.agent, state: c.dataset.state, alert: c.dataset.alert,
  time: c.querySelector('[data-field=time_in_state]').textContent,
  why: c.querySelector('.why').textContent}))"""


@pytest.fixture
def live() -> Iterator[LiveFloorwatch]:
    server = LiveFloorwatch("--source", "-")
    yield server
    server.stop()


@pytest.fixture
def floor(live: LiveFloorwatch) -> LiveFloorwatch:
    live.send(*floor_events(time.time()))
    wait_for(lambda: len(live.board()["queues"]) == 24, 10, "the 24 tiles of the floor")
    return live


def event(kind: str, contact: str, at: float, **fields: object) -> dict:
    return {
        "event_id": f"{kind}-{contact}",
        "type": f"contact.{kind}",
        "occurred_at": iso(at),
        "contact_id": contact,
        **fields,
    }


async def poll(browser: Browser, expression: str, ok, what: str, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = await browser.evaluate(expression)
        except AssertionError:  # the page is still loading
            value = None
        if value and ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; page shows {value!r}")
        await asyncio.sleep(0.02)


async def open_at(browser: Browser, url: str, size: tuple[int, int]) -> None:
    await browser.open_page()
    await browser.call("Page.enable")
    width, height = size
    await browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=width < 760,
    )
    await browser.call("Page.navigate", url=url)


def keep(png: bytes, name: str) -> None:
    assert png.startswith(b"\x89PNG")
    if folder := os.environ.get("WALLBOARD_SCREENSHOTS"):
        Path(folder, name).write_bytes(png)


def browse(url: str, size: tuple[int, int], scenario) -> Any:
    chromium = require_tool("chromium", "chromium")

    async def run() -> Any:
        browser = Browser(chromium)
        try:
            await open_at(browser, url, size)
            return await scenario(browser)
        finally:
            await browser.close()

    return asyncio.run(run())


def test_wallboard_shows_values_colours_and_live_changes(live: LiveFloorwatch) -> None:
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

    async def scenario(browser: Browser) -> tuple[float, bytes]:
        tiles = await poll(browser, TILES, lambda t: len(t) == 2, "two tiles")
        billing, sales = sorted(tiles, key=lambda t: t["queue"])
        assert (billing["queue"], billing["channel"]) == ("billing", "voice")
        assert billing["slToday"] == "50%"
        assert (billing["status"], billing["slColour"], billing["border"]) == ("red", RED, RED)
        assert billing["badge"] == "▼ SL low"  # the status in words, not colour alone
        assert billing["waiting"] == "0"
        assert sales["slToday"] == "100%"
        assert (sales["status"], sales["slColour"], sales["border"]) == ("green", GREEN, GREEN)
        assert (sales["waiting"], sales["answer"], sales["badge"]) == ("1", "0·0", "✔ ok")
        badge = "document.getElementById('connection').textContent"
        assert await poll(browser, badge, lambda b: b == "● live", "the live badge")
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

    elapsed, png = browse(live.base, TV, scenario)
    assert elapsed < 1.0
    keep(png, "two-tiles.png")


def test_tv_holds_24_tiles_then_the_panels(floor: LiveFloorwatch) -> None:
    """24 tiles on a 1920x1080 screen, nothing outside it, main figures >= 64 px, other
    figures >= 28, no text under 18; the panels take turns with them (page 2)."""
    api = {(t["queue"], t["channel"]): t for t in floor.board()["queues"]}

    async def scenario(browser: Browser) -> tuple[dict, dict, list, list, bytes, bytes]:
        tiles = await poll(browser, TILES, lambda t: len(t) == 24, "24 tiles on page 1")
        layout = await browser.evaluate(LAYOUT + "(true)")
        tiles_png = await browser.screenshot()
        await browser.evaluate("page = pages.length - 1; showPage(); 1")
        agents = await poll(browser, AGENTS, lambda a: len(a) == 24, "the agents panel")
        panels = await browser.evaluate(LAYOUT + "(true)")
        return layout, panels, tiles, agents, tiles_png, await browser.screenshot()

    layout, panels, tiles, agents, tiles_png, panels_png = browse(floor.base, TV, scenario)
    keep(tiles_png, "tv-24-tiles.png")
    keep(panels_png, "tv-panels.png")
    for seen in (layout, panels):
        assert seen["outside"] == []
        assert (seen["scrollWidth"], seen["scrollHeight"]) == TV
        assert seen["main"] >= 64 and seen["figure"] >= 28 and seen["text"] >= 18, seen
    assert layout["mode"] == "rotate"
    # An asynchronous tile shows its first response and backlog as the API has them.
    mail = next(t for t in tiles if (t["queue"], t["channel"]) == ("claims", "email"))
    claims = api[("claims", "email")]
    assert mail["kind"] == "async"
    assert mail["open"] == str(claims["live"]["open"])
    assert mail["backlog"] == "·".join(str(n) for n in claims["live"]["backlog"].values())
    frt = claims["windows"]["today"]["first_response_seconds_average"]
    assert mail["frt"] == duration(frt)
    assert mail["p90"] == duration(claims["windows"]["today"]["first_response_seconds_p90"])
    # The agents panel: red first (tier1-03 at lunch for 31 min: red after 30), reasons.
    lunch = next(a for a in agents if a["id"] == "tier1-03")
    assert (lunch["state"], lunch["alert"], lunch["why"]) == ("away", "red", "lunch")
    assert lunch["time"].startswith("✖ 31:")
    assert agents[0]["alert"] == "red"
    breaks = next(a for a in agents if a["id"] == "tier2-04")  # 950 s on break: amber
    assert (breaks["alert"], breaks["why"]) == ("amber", "break")


def test_one_team_on_a_tv_with_its_panels(floor: LiveFloorwatch) -> None:
    async def scenario(browser: Browser) -> tuple[list, dict, list, str, bytes]:
        tiles = await poll(browser, TILES, lambda t: len(t) == 8, "tier1's 8 tiles")
        agents = await poll(browser, AGENTS, lambda a: len(a) == 8, "tier1's agents")
        await poll(
            browser,
            "document.querySelectorAll('#breach-rows li').length",
            lambda n: n > 0,
            "the about-to-breach list",
        )
        moves = await browser.evaluate("document.getElementById('move-rows').textContent")
        layout = await browser.evaluate(LAYOUT + "(true)")
        return tiles, layout, agents, moves, await browser.screenshot()

    tiles, layout, agents, moves, png = browse(floor.base + "?team=tier1", TV, scenario)
    keep(png, "wallboard.png")
    assert {t["queue"] for t in tiles} == {"billing", "refunds", "billing-mail", "claims"}
    assert {a["id"][:5] for a in agents} == {"tier1"}
    assert "→ support" in moves  # support (tier2) is short: tier1's idle agents can help
    assert layout["mode"] == "side" and layout["outside"] == []
    assert layout["main"] >= 64 and layout["figure"] >= 28 and layout["text"] >= 18


def test_phone_shows_everything_without_sideways_scrolling(floor: LiveFloorwatch) -> None:
    async def scenario(browser: Browser) -> tuple[dict, list, int, bytes]:
        tiles = await poll(browser, TILES, lambda t: len(t) == 8, "tier1's tiles")
        layout = await browser.evaluate(LAYOUT + "(false)")
        agents = await browser.evaluate(AGENTS)
        return layout, tiles, len(agents), await browser.screenshot()

    layout, _, agents, png = browse(floor.base + "?team=tier1", PHONE, scenario)
    keep(png, "wallboard-phone.png")
    assert layout["mode"] == "phone"
    assert layout["outside"] == [] and layout["scrollWidth"] == PHONE[0]
    assert layout["scrollHeight"] > PHONE[1]  # it scrolls down, not sideways
    assert layout["main"] >= 64 and layout["figure"] >= 28 and layout["text"] >= 18
    assert agents == 8  # the panels are there too, below the tiles


def test_badge_says_stale_when_the_data_is_old(live: LiveFloorwatch) -> None:
    """`run --source FILE` of a day-old file: the badge must not say live."""
    old = time.time() - 19 * 3600
    live.send(event("queued", "x1", old, queue="billing", channel="voice"))
    wait_for(lambda: live.board()["queues"], 5, "the tile")

    async def scenario(browser: Browser) -> tuple[str, str]:
        badge = "document.getElementById('connection')"
        text = await poll(
            browser, badge + ".textContent", lambda t: t.startswith("⚠ stale since"), "stale"
        )
        return text, await browser.evaluate(badge + ".dataset.state")

    _, state = browse(live.base, TV, scenario)
    assert state == "stale"
    board = live.board()
    assert board["stale"] is True and board["last_event_at"] == iso(old)


def test_badge_turns_stale_after_stale_after(tmp_path: Path) -> None:
    config = tmp_path / "floorwatch.toml"
    config.write_text('[server]\nstale_after = "2s"\n')
    server = LiveFloorwatch("--source", "-", config=config)
    try:
        server.send(event("queued", "x1", time.time(), queue="billing", channel="voice"))

        async def scenario(browser: Browser) -> tuple[float, float]:
            badge = "document.getElementById('connection').textContent"
            await poll(browser, badge, lambda t: t == "● live", "live at first")
            live_at = time.monotonic()
            await poll(browser, badge, lambda t: t.startswith("⚠ stale since"), "stale")
            stale_at = time.monotonic()
            server.send(event("queued", "x2", time.time(), queue="billing", channel="voice"))
            await poll(browser, badge, lambda t: t == "● live", "live again")
            return live_at, stale_at

        live_at, stale_at = browse(server.base, TV, scenario)
        assert stale_at - live_at <= 4  # 2 s after the event, plus a refresh
    finally:
        server.stop()


def duration(seconds: float | None) -> str:
    from streams.read.floor import duration_text

    text = duration_text(seconds)
    return "\u2013" if text == "-" else text  # the wallboard's en dash for no value


def test_a_tv_opens_the_board_once_with_its_token(tmp_path: Path) -> None:
    config = tmp_path / "floorwatch.toml"
    config.write_text('[server]\ntoken = "tv-Token-1"\n')
    server = LiveFloorwatch("--source", "-", config=config)
    try:
        server.send(event("queued", "x1", time.time(), queue="billing", channel="voice"))
        assert server.get("/api/v1/board")[0] == 401

        async def scenario(browser: Browser) -> tuple[list, str, str]:
            tiles = await poll(browser, TILES, lambda t: len(t) == 1, "the tile, by cookie")
            badge = await poll(
                browser,
                "document.getElementById('connection').textContent",
                lambda t: t == "● live",
                "the live badge",
            )
            return tiles, badge, await browser.evaluate("location.href")

        tiles, _, href = browse(server.base + "?token=tv-Token-1", TV, scenario)
        assert tiles[0]["queue"] == "billing"
        assert href == server.base  # the token left the address bar
    finally:
        server.stop()
