"""The floor's view under load: 1,000 queue x channel pairs, 10,000 agents, 300,000 open
tickets. Measures /api/v1/board, /api/v1/agents and /api/v1/contacts over HTTP, and how
busy the process is while a wallboard (unfiltered, or one team) listens to the stream.

    .venv/bin/python benchmarks/floor_bench.py [--seconds 20] [--rate 100] [--only-board]

--only-board measures what an older checkout has too (the board and its stream), e.g.
`PYTHONPATH=/path/to/old/checkout .venv/bin/python benchmarks/floor_bench.py --only-board`.

Writes benchmarks/out/floor_bench.json. Figures are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
from aiohttp import ClientSession, ClientTimeout, web

from streams.config import settings_from_mapping
from streams.core.clock import WallClock
from streams.core.engine import Engine
from streams.runtimes.process import tune_gc
from streams.web.server import make_app

OUT = Path(__file__).resolve().parent / "out"
NOW = 1_795_000_000.0  # 2026-11-18 08:53 UTC: the benchmark's clock starts here
TEAMS = 25
LIVE_QUEUES = 250  # x (voice, chat)
ASYNC_QUEUES = 250  # x (email, messaging)
AGENTS = 10_000
OPEN_TICKETS = 300_000
STATES = (
    ("available", 0.3),
    ("on_contact", 0.4),
    ("after_contact_work", 0.1),
    ("away", 0.15),
    ("offline", 0.05),
)
REASONS = ("lunch", "break", "training", "smoke")


def shifted_clock() -> WallClock:
    """The wall clock, shifted so the benchmark's floor is 'now' when it starts (compiled
    classes cannot be subclassed: a now_getter does it)."""
    offset = NOW - time.time()
    return WallClock(lambda: time.time() + offset)


def iso(ts: float) -> int:
    return int(ts * 1000)  # epoch milliseconds: valid occurred_at, cheap to encode


TEAM_NAMES = [f"team-{t:02d}" for t in range(TEAMS)]


def build_floor(
    seed: int = 7, prepare: Callable[[Engine], None] | None = None
) -> tuple[Engine, WallClock, list[str]]:
    """The engine at NOW with the whole floor in it; returns it, its clock, the teams.
    `prepare` sees the engine before the first event (e.g. a --state-dir attaching)."""
    settings = settings_from_mapping({})
    clock = shifted_clock()
    engine = Engine(settings, clock)
    if prepare is not None:
        prepare(engine)
    for raw in floor_events(seed):
        engine.ingest(raw, NOW + 1)
    engine.advance(clock.now())
    return engine, clock, TEAM_NAMES


def floor_events(seed: int = 7, now: float = NOW) -> Iterator[bytes]:
    """The floor's events up to `now`, in time order, as JSON lines (without newlines)."""
    rng = random.Random(seed)
    teams = TEAM_NAMES
    live = [f"L{q:03d}" for q in range(LIVE_QUEUES)]
    deferred = [f"A{q:03d}" for q in range(ASYNC_QUEUES)]
    team_of = {q: teams[i % TEAMS] for i, q in enumerate(live)}
    team_of.update({q: teams[i % TEAMS] for i, q in enumerate(deferred)})
    events: list[tuple[float, dict[str, Any]]] = []
    # Agents: each serves 1-3 live queues of its team (and an async queue half the time).
    states = [s for s, _ in STATES]
    weights = [w for _, w in STATES]
    for a in range(AGENTS):
        team = teams[a % TEAMS]
        own = [q for q in live if team_of[q] == team]
        served = rng.sample(own, rng.randint(1, 3))
        if rng.random() < 0.5:
            served.append(rng.choice([q for q in deferred if team_of[q] == team]))
        state = rng.choices(states, weights)[0]
        event = {
            "type": "agent.state",
            "occurred_at": iso(now - rng.uniform(0, 1800)),
            "agent_id": f"agent-{a:05d}",
            "state": state,
            "queues": served,
            "team": team,
        }
        if state == "away":
            event["reason"] = rng.choice(REASONS)
        events.append((now - 3600, event))  # applied first, in any order
    # Live traffic over the last hour: about 60 contacts per queue x channel.
    n = 0
    for q in live:
        for channel in ("voice", "chat"):
            # five queues are busy (600 contacts in the hour): they come out short of agents
            for _ in range(600 if q < "L005" else 60):
                n += 1
                cid = f"l{n}"
                start = now - rng.uniform(0, 3600)
                base = {"contact_id": cid}
                events.append(
                    (
                        start,
                        {
                            "type": "contact.queued",
                            "queue": q,
                            "channel": channel,
                            "team": team_of[q],
                            **base,
                        },
                    )
                )
                wait = rng.expovariate(1 / 25)
                if start + wait > now:
                    continue  # still waiting
                if rng.random() < 0.08:
                    events.append((start + wait, {"type": "contact.abandoned", **base}))
                    continue
                agent = f"agent-{rng.randrange(AGENTS):05d}"
                answered = start + wait
                talk = rng.uniform(120, 480)
                events.append((answered, {"type": "contact.answered", "agent_id": agent, **base}))
                if answered + talk < now:
                    events.append((answered + talk, {"type": "contact.ended", **base}))
                    if answered + talk + 30 < now:
                        events.append((answered + talk + 30, {"type": "contact.wrapped", **base}))
    # Open tickets, ages over the last 30 hours; 30 % had a first reply.
    per_pair = OPEN_TICKETS // (ASYNC_QUEUES * 2)
    for q in deferred:
        for channel in ("email", "messaging"):
            for _ in range(per_pair):
                n += 1
                cid = f"t{n}"
                start = now - rng.uniform(0, 30 * 3600)
                events.append(
                    (
                        start,
                        {
                            "type": "contact.queued",
                            "contact_id": cid,
                            "queue": q,
                            "channel": channel,
                            "team": team_of[q],
                            "priority": rng.choice(("normal", "normal", "high", "low")),
                        },
                    )
                )
                if rng.random() < 0.3:
                    reply = start + rng.uniform(0, now - start)
                    events.append(
                        (
                            reply,
                            {
                                "type": "contact.responded",
                                "contact_id": cid,
                                "agent_id": f"agent-{rng.randrange(AGENTS):05d}",
                            },
                        )
                    )
    events.sort(key=lambda item: item[0])
    for seq, (at, event) in enumerate(events, 1):
        event["event_id"] = f"b{seq}"
        if "occurred_at" not in event:
            event["occurred_at"] = iso(min(at, now))
        yield orjson.dumps(event)


def trickle(engine: Engine, clock: WallClock, rate: float, rng: random.Random) -> Any:
    """A coroutine applying `rate` events a second (new calls, answers) while it runs."""

    async def run() -> None:
        n = 0
        while True:
            await asyncio.sleep(1 / rate)
            n += 1
            now = clock.now()
            q = f"L{rng.randrange(LIVE_QUEUES):03d}"
            raw = orjson.dumps(
                {
                    "event_id": f"tr{n}",
                    "type": "contact.queued",
                    "occurred_at": iso(now),
                    "contact_id": f"tr{n}",
                    "queue": q,
                    "channel": "voice",
                }
            )
            engine.ingest(raw, now + 1)

    return run()


async def timed_get(session: ClientSession, url: str, repeat: int) -> dict[str, float]:
    times = []
    size = 0
    for _ in range(repeat):
        started = time.perf_counter()
        async with session.get(url) as response:
            body = await response.read()
            assert response.status == 200, (url, response.status, body[:200])
        times.append(time.perf_counter() - started)
        size = len(body)
    return {
        "median_ms": 1000 * statistics.median(times),
        "max_ms": 1000 * max(times),
        "bytes": size,
    }


async def busy_while(
    engine: Engine, clock: WallClock, base: str, path: str | None, seconds: float, rate: float
) -> float:
    """Process CPU time / wall time over `seconds` with a trickle of events and, if `path`,
    one stream listener reading everything it is sent."""
    feeder = asyncio.create_task(trickle(engine, clock, rate, random.Random(3)))
    listener = None
    received = 0

    async def listen() -> None:
        nonlocal received
        async with (
            ClientSession(timeout=ClientTimeout(total=None)) as session,
            session.get(base + path) as response,
        ):
            async for chunk in response.content.iter_any():
                received += len(chunk)

    if path is not None:
        listener = asyncio.create_task(listen())
        await asyncio.sleep(2)  # the first full board
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    busy = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    feeder.cancel()
    if listener is not None:
        listener.cancel()
    await asyncio.gather(feeder, *([listener] if listener else []), return_exceptions=True)
    return busy


async def measure(
    engine: Engine, clock: WallClock, teams: list[str], args: argparse.Namespace
) -> dict:
    app = make_app(engine, lambda: None)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {}
    team = teams[7]
    endpoints = [
        ("board (all queues)", "/api/v1/board"),
        (f"board ?team={team}", f"/api/v1/board?team={team}"),
        ("agents limit=100", "/api/v1/agents?limit=100"),
        (f"agents team={team} limit=100", f"/api/v1/agents?team={team}&limit=100"),
        ("contacts limit=100", "/api/v1/contacts?limit=100"),
        ("contacts sla=at_risk limit=100", "/api/v1/contacts?sla=at_risk&limit=100"),
        (f"contacts team={team} limit=100", f"/api/v1/contacts?team={team}&limit=100"),
        ("staffing moves", "/api/v1/staffing/moves"),
    ]
    streams: list[tuple[str, str | None]] = [
        ("busy: events only", None),
        (f"busy: wallboard ?team={team}", f"/api/v1/board/stream?team={team}"),
        ("busy: wallboard, all queues", "/api/v1/board/stream"),
    ]
    if args.only_board:
        endpoints, streams = endpoints[:1], [streams[0], streams[2]]
    async with ClientSession() as session:
        for name, path in endpoints:
            results[name] = await timed_get(session, base + path, args.repeat)
            print(f"{name:40} {results[name]}", file=sys.stderr)
    for name, stream in streams:
        results[name] = {
            "busy": await busy_while(engine, clock, base, stream, args.seconds, args.rate)
        }
        print(f"{name:40} {results[name]}", file=sys.stderr)
    await runner.cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per busy measurement")
    parser.add_argument("--rate", type=float, default=100.0, help="trickle events a second")
    parser.add_argument("--repeat", type=int, default=15, help="requests per endpoint")
    parser.add_argument(
        "--only-board", action="store_true", help="the board and its stream only (old code)"
    )
    args = parser.parse_args()
    tune_gc()
    started = time.perf_counter()
    engine, clock, teams = build_floor()
    gc.collect()
    gc.freeze()
    build = time.perf_counter() - started
    open_contacts = sum(len(qc.open) for qc in engine.queues.tracked)
    print(
        f"floor built in {build:.1f} s: {len(engine.queues.tracked)} queue x channels, "
        f"{len(engine.agent_tracker.agents)} agents, {open_contacts} open contacts",
        file=sys.stderr,
    )
    results = asyncio.run(measure(engine, clock, teams, args))
    OUT.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "pairs": len(engine.queues.tracked),
        "agents": len(engine.agent_tracker.agents),
        "open_contacts": open_contacts,
        "results": results,
    }
    name = "floor_bench_board_only.json" if args.only_board else "floor_bench.json"
    (OUT / name).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
