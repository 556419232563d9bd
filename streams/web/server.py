"""aiohttp application: /metrics, /api/v1/board (+ server-sent events), /api/v1/agents,
/api/v1/contacts, /api/v1/staffing/moves, /healthz, /readyz and the wallboard at /.

Everything runs on one asyncio loop with the engine, so handlers read a consistent state
without locks. All assets are served from the package: nothing loads from the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any

import orjson
from aiohttp import ClientConnectionResetError, web
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from streams.core.contract import AGENT_STATES
from streams.read.agents import (
    MAX_LIMIT,
    SORTS,
    AgentFilter,
    agents_snapshot,
    live_contacts,
    part_listing,
)
from streams.read.board import board_snapshot
from streams.read.contacts import FILTER_CHOICES, ContactFilter, contact_rows, part_rows
from streams.read.exporter import exposition_chunks, metrics_selection
from streams.read.floor import queue_teams, split_list
from streams.read.moves import demand_rows, moves_snapshot, part_moves
from streams.read.view import ReadView
from streams.read.wallboard import AGENT_ROWS, CONTACT_ROWS, CompactTiles, wallboard_model
from streams.web.access import access_middleware, redact_logs

log = logging.getLogger("floorwatch.web")
STATIC = resources.files("streams.web") / "static"
PUSH_INTERVAL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0
ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}


BoardSource = Callable[[], Awaitable[dict[str, Any]]]
# The floor of a whole cluster: {"agents": merged agents part, "contacts": contacts parts}
FloorSource = Callable[[], Awaitable[dict[str, Any]]]


class BadQuery(ValueError):
    """A query parameter the API does not accept; the message names it and what is
    allowed (answered 400)."""


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def _limit(query: Any, default: int = 100) -> int:
    text = query.get("limit")
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadQuery(f"limit={text}: expected a whole number from 1 to {MAX_LIMIT}") from None
    if not 1 <= value <= MAX_LIMIT:
        raise BadQuery(f"limit={text}: expected a whole number from 1 to {MAX_LIMIT}")
    return value


def _choices(query: Any, name: str, allowed: tuple[str, ...]) -> frozenset[str] | None:
    chosen = split_list(query.get(name))
    if chosen is not None and not chosen <= set(allowed):
        bad = ", ".join(sorted(chosen - set(allowed)))
        raise BadQuery(f"{name}={bad}: expected one or more of {', '.join(allowed)}")
    return chosen


def contacts_filter(query: Any) -> ContactFilter:
    """The filter of /api/v1/contacts?sla=&queue=&channel=&team=&priority=&kind="""
    return ContactFilter(
        states=_choices(query, "sla", FILTER_CHOICES["sla"]),
        queues=split_list(query.get("queue")),
        channels=_choices(query, "channel", FILTER_CHOICES["channel"]),
        teams=split_list(query.get("team")),
        priorities=_choices(query, "priority", FILTER_CHOICES["priority"]),
        kinds=_choices(query, "kind", FILTER_CHOICES["kind"]),
    )


def contacts_query(engine: ReadView, query: Any) -> dict[str, Any]:
    """/api/v1/contacts?sla=at_risk|breached&queue=&channel=&team=&priority=&kind=&limit="""
    return contact_rows(engine, contacts_filter(query), _limit(query))


def floor_queues(
    engine: ReadView, query: Any, teams: dict[str, str] | None = None
) -> frozenset[str] | None:
    """The queues `?queue=a,b` or `?team=t` name (both: either); None for every queue.
    `teams`: queue -> team (default: of the engine's own queues)."""
    queues = split_list(query.get("queue"))
    chosen = split_list(query.get("team"))
    if chosen is None:
        return queues
    if teams is None:
        teams = queue_teams(engine)
    of_teams = {q for q, t in teams.items() if t in chosen}
    return frozenset(of_teams | (queues or frozenset()))


def tile_teams(board: dict[str, Any]) -> dict[str, str]:
    """Queue -> team of a (cluster) board's tiles."""
    return {t["queue"]: t["team"] for t in board["queues"] if t.get("team") is not None}


def agents_params(query: Any) -> dict[str, Any]:
    """The arguments of /api/v1/agents?team=&queue=a,b&state=away,available&sort=&limit="""
    sort = query.get("sort", "alert")
    if sort not in SORTS:
        raise BadQuery(f"sort={sort}: expected one of {', '.join(SORTS)}")
    return {
        "team": query.get("team") or None,
        "queues": split_list(query.get("queue")),
        "states": _choices(query, "state", AGENT_STATES),
        "sort": sort,
        "limit": _limit(query),
    }


def agents_query(engine: ReadView, query: Any) -> dict[str, Any]:
    """/api/v1/agents?team=&queue=a,b&state=away,available&sort=&limit="""
    return agents_snapshot(engine, **agents_params(query))


class BoardUnavailable(RuntimeError):
    """Raised by a board source when the board cannot be assembled now (the cluster board
    while Redis is unreachable); the message says why and what to do. The board API
    answers 503 with it; `BoardFeed` keeps the last board."""


class BoardFeed:
    """Recomputes the board a few times a second while a wallboard listens, and wakes
    the listeners when it changed; with no listener it rests (a cluster board is a Redis
    read, a local one a walk over every queue). While the board is unavailable, listeners
    keep the last one (its `now` shows its age)."""

    def __init__(self, source: BoardSource) -> None:
        self.source = source
        self.payload = b""
        self.version = 0
        self.listeners = 0
        self._changed = asyncio.Condition()
        self._listened = asyncio.Event()

    async def run(self) -> None:
        """Refresh every PUSH_INTERVAL_SECONDS while someone listens (the first listener
        refreshes on arrival, in `listening`)."""
        while True:
            await self._listened.wait()
            await asyncio.sleep(PUSH_INTERVAL_SECONDS)
            await self.refresh()

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        """While a listener is inside, the feed refreshes; the first one in gets a fresh
        board at once rather than the one from when the feed last rested."""
        self.listeners += 1
        try:
            if self.listeners == 1:
                self._listened.set()
                await self.refresh()
            yield
        finally:
            self.listeners -= 1
            if not self.listeners:
                self._listened.clear()

    async def refresh(self) -> None:
        try:
            board = await self.source()
        except BoardUnavailable:
            return
        except Exception:  # the feed must outlive a bad refresh: wallboards hang on it
            log.exception("board not refreshed")
            return
        payload = orjson.dumps(board)
        if payload != self.payload:
            self.payload = payload
            self.version += 1
            async with self._changed:
                self._changed.notify_all()

    async def wait_newer(self, version: int, timeout: float) -> bool:
        """Wait until the board is newer than `version`; False on timeout."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.version > version), timeout
                )
            except TimeoutError:
                return False
        return True


FloorKey = tuple[str | None, str | None]  # (team, queue) of a wallboard's filter
MAX_FEEDS = 64  # distinct wallboard filters served at once (resting ones make room)
PANEL_SECONDS = 1.0  # the agents panel and the "about to breach" list refresh this often
MOVES_SECONDS = 5.0  # staffing moves refresh this often (agents' states at that time)
DEMANDS_SECONDS = 60.0  # ... from arrival rates and AHT read at most this long before
LOGGED_IN = frozenset(s for s in AGENT_STATES if s != "offline")  # the agents panel's


def _floor_of(query: Any) -> FloorKey:
    return (query.get("team") or None, query.get("queue") or None)


def _filter_tiles(board: dict[str, Any], floor: FloorKey) -> dict[str, Any]:
    """A (cluster) board's tiles of one floor, by each tile's team and queue: the tiles
    come from every worker, so this worker's own queues cannot say which are the team's."""
    teams, queues = split_list(floor[0]), split_list(floor[1])
    if teams is None and queues is None:
        return board
    return {
        **board,
        "queues": [
            t
            for t in board["queues"]
            if (teams is not None and t.get("team") in teams)
            or (queues is not None and t["queue"] in queues)
        ],
    }


class _Every:
    """A value recomputed at most every `seconds` (monotonic), else the last one."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = -math.inf
        self.value: Any = None

    def get(self, compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        if now - self.at >= self.seconds:
            self.value = compute()
            self.at = now
        return self.value

    async def aget(self, compute: Callable[[], Awaitable[Any]]) -> Any:
        now = time.monotonic()
        if now - self.at >= self.seconds:
            self.value = await compute()
            self.at = now
        return self.value


def make_app(
    engine: ReadView,
    ready: Callable[[], str | None],
    *extra: Collector,
    board_source: BoardSource | None = None,
    source_kind: str = "live",
    floor_source: FloorSource | None = None,
) -> web.Application:
    """`ready()` returns None when ready, else the reason it is not; `extra` collectors
    add their metrics to /metrics; `board_source` assembles the board (default: the
    engine's own queues); `floor_source` the agents and contacts behind the agents,
    contacts and moves lists (default: the engine's own; with it, `board_source` too);
    `source_kind` says where events come from (live, file, replay).
    With `[server] token` every route needs it but the probes when `open_metrics`."""
    if floor_source is not None and board_source is None:
        raise ValueError("a floor source needs a board source (the moves read its tiles)")
    server = engine.settings.server
    redact_logs()
    middlewares = [access_middleware(server.token, server.open_metrics)] if server.token else []
    app = web.Application(middlewares=middlewares)
    feeds: dict[FloorKey, BoardFeed] = {}
    demands = _Every(DEMANDS_SECONDS)  # every queue's staffing inputs, for the moves
    cluster_floor = _Every(PANEL_SECONDS)  # the cluster's floor, for every wallboard feed
    tasks: list[asyncio.Task[None]] = []

    async def board_of(floor: FloorKey, coarse: bool = False) -> dict[str, Any]:
        """The board of a floor: only its queues are computed from the own engine."""
        team, queue = floor
        query = {k: v for k, v in (("team", team), ("queue", queue)) if v}
        queues = floor_queues(engine, query)
        if board_source is None:
            return board_snapshot(engine, queues, source_kind, coarse)
        return _filter_tiles(await board_source(), floor)

    def feed_of(floor: FloorKey) -> BoardFeed:
        feed = feeds.get(floor)
        if feed is not None:
            return feed
        if len(feeds) >= MAX_FEEDS:
            resting = [key for key, f in feeds.items() if not f.listeners]
            if not resting:
                raise web.HTTPServiceUnavailable(text="too many wallboard filters at once\n")
            feeds.pop(resting[0])
        agents_every, contacts_every, moves_every = (
            _Every(PANEL_SECONDS),
            _Every(PANEL_SECONDS),
            _Every(MOVES_SECONDS),
        )
        team, queue = floor
        query = {k: v for k, v in (("team", team), ("queue", queue)) if v}

        compact = CompactTiles()

        async def cluster_model() -> dict[str, Any]:
            assert board_source is not None and floor_source is not None
            whole = await board_source()
            parts = await cluster_floor.aget(floor_source)
            teams = tile_teams(whole)
            queues = floor_queues(engine, query, teams)
            live = live_contacts(parts["agents"])
            return wallboard_model(
                _filter_tiles(whole, floor),
                agents_every.get(
                    lambda: part_listing(
                        parts["agents"],
                        engine.settings.agents,
                        AgentFilter(team, None if team else queues, LOGGED_IN, teams),
                        limit=AGENT_ROWS,
                    )
                ),
                contacts_every.get(
                    lambda: {
                        state: part_rows(
                            parts["contacts"],
                            ContactFilter(states=frozenset({state}), queues=queues),
                            CONTACT_ROWS,
                            live,
                        )
                        for state in ("at_risk", "breached")
                    }
                ),
                moves_every.get(
                    lambda: part_moves(whole, parts["agents"], engine.settings.staffing, queues)
                ),
                {"team": team, "queue": queue},
                compact,
            )

        async def model() -> dict[str, Any]:
            if floor_source is not None:
                return await cluster_model()
            board = await board_of(floor, coarse=True)
            queues = floor_queues(engine, query)
            return wallboard_model(
                board,
                agents_every.get(
                    lambda: agents_snapshot(
                        engine,
                        team=team,
                        queues=None if team else queues,
                        states=LOGGED_IN,
                        limit=AGENT_ROWS,
                    )
                ),
                contacts_every.get(
                    lambda: {
                        state: contact_rows(
                            engine,
                            ContactFilter(states=frozenset({state}), queues=queues),
                            CONTACT_ROWS,
                        )
                        for state in ("at_risk", "breached")
                    }
                ),
                moves_every.get(
                    lambda: moves_snapshot(engine, queues, demands.get(lambda: demand_rows(engine)))
                ),
                {"team": team, "queue": queue},
                compact,
            )

        feed = feeds[floor] = BoardFeed(model)
        tasks.append(asyncio.get_running_loop().create_task(feed.run()))
        return feed

    async def metrics(request: web.Request) -> web.StreamResponse:
        """The exposition, streamed; `?team=`/`?queue=` select queues (split scrape jobs),
        `?pipeline=` the series without a queue label (docs/operations.md)."""
        try:
            queues, pipeline = metrics_selection(
                floor_queues(engine, request.query), request.query.get("pipeline")
            )
        except ValueError as error:
            return json_response({"error": str(error)}, status=400)
        chunks = exposition_chunks(engine, *extra, queues=queues, pipeline=pipeline)
        response = web.StreamResponse(headers={"Content-Type": CONTENT_TYPE_LATEST})
        await response.prepare(request)
        for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
        return response

    async def board(request: web.Request) -> web.Response:
        try:
            body = await board_of(_floor_of(request.query))
        except BoardUnavailable as error:
            return json_response({"error": str(error)}, status=503)
        return json_response(body)

    async def board_stream(request: web.Request) -> web.StreamResponse:
        feed = feed_of(_floor_of(request.query))
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        version = -1
        try:
            async with feed.listening():
                await response.write(b"retry: 1000\n\n")
                while True:
                    if feed.version > version:
                        version = feed.version
                        await response.write(b"event: board\ndata: " + feed.payload + b"\n\n")
                    elif not await feed.wait_newer(version, HEARTBEAT_SECONDS):
                        await response.write(b": heartbeat\n\n")
        except (ConnectionResetError, ClientConnectionResetError):
            pass  # the browser went away; it reconnects by itself
        return response

    async def cluster_contacts(query: Any) -> dict[str, Any]:
        assert floor_source is not None
        selected, limit = contacts_filter(query), _limit(query)
        parts = await floor_source()
        return part_rows(parts["contacts"], selected, limit, live_contacts(parts["agents"]))

    async def cluster_agents(query: Any) -> dict[str, Any]:
        assert board_source is not None and floor_source is not None
        params = agents_params(query)
        parts = await floor_source()
        teams = tile_teams(await board_source()) if params["team"] else {}
        selected = AgentFilter(params["team"], params["queues"], params["states"], teams)
        settings = engine.settings.agents
        return part_listing(parts["agents"], settings, selected, params["sort"], params["limit"])

    async def cluster_moves(query: Any) -> dict[str, Any]:
        assert board_source is not None and floor_source is not None
        whole = await board_source()
        parts = await floor_source()
        queues = floor_queues(engine, query, tile_teams(whole))
        return part_moves(whole, parts["agents"], engine.settings.staffing, queues)

    async def contacts(request: web.Request) -> web.Response:
        try:
            if floor_source is not None:
                return json_response(await cluster_contacts(request.query))
            return json_response(contacts_query(engine, request.query))
        except BadQuery as error:
            return json_response({"error": str(error)}, status=400)
        except BoardUnavailable as error:
            return json_response({"error": str(error)}, status=503)

    async def moves(request: web.Request) -> web.Response:
        if floor_source is not None:
            try:
                return json_response(await cluster_moves(request.query))
            except BoardUnavailable as error:
                return json_response({"error": str(error)}, status=503)
        return json_response(moves_snapshot(engine, floor_queues(engine, request.query)))

    async def agents(request: web.Request) -> web.Response:
        try:
            if floor_source is not None:
                return json_response(await cluster_agents(request.query))
            return json_response(agents_query(engine, request.query))
        except BadQuery as error:
            return json_response({"error": str(error)}, status=400)
        except BoardUnavailable as error:
            return json_response({"error": str(error)}, status=503)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        reason = ready()
        if reason is None:
            return web.Response(text="ready\n")
        return web.Response(status=503, text=f"not ready: {reason}\n")

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=(STATIC / "index.html").read_text(), content_type="text/html")

    async def asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in ASSETS:
            raise web.HTTPNotFound()
        return web.Response(text=(STATIC / name).read_text(), content_type=ASSETS[name])

    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/v1/board", board)
    app.router.add_get("/api/v1/board/stream", board_stream)
    app.router.add_get("/api/v1/agents", agents)
    app.router.add_get("/api/v1/contacts", contacts)
    app.router.add_get("/api/v1/staffing/moves", moves)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", asset)

    async def stop_feeds(_: web.Application) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    app.on_cleanup.append(stop_feeds)
    return app
