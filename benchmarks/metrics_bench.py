"""/metrics of a large centre: 1,000 queue x channel pairs, 10,000 agents, 300,000 open
tickets (the floor of floor_bench.py). Times, in one run on the same engine state, the
reference exposition (prometheus_client's generate_latest over EngineCollector) and the
text renderer: first scrape, steady scrapes (clock 15 s on, events in between), one team.

    .venv/bin/python benchmarks/metrics_bench.py [--scrapes 8] [--events 1500]

Checks that both give the same bytes. Writes benchmarks/out/metrics_bench.json; figures
are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))  # floor_bench, however run

import floor_bench

from streams.core.clock import WallClock
from streams.core.engine import Engine
from streams.read.exporter import exposition, reference_exposition
from streams.runtimes.process import tune_gc

OUT = Path(__file__).resolve().parent / "out"


class Time:
    """The benchmark's clock: NOW + offset, moved by hand (a scrape interval at a time)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return floor_bench.NOW + self.offset


def timed(fn: Callable[[], bytes]) -> tuple[float, float, bytes]:
    """Wall and CPU seconds of one call, and what it returned."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def traffic(engine: Engine, at: float, count: int, rng: random.Random, seq: list[int]) -> None:
    """`count` events at `at`: new calls and chats, answers of earlier ones, agent changes."""
    live = floor_bench.LIVE_QUEUES
    for _ in range(count):
        seq[0] += 1
        n = seq[0]
        kind = rng.random()
        if kind < 0.45 or n < 10:
            q = f"L{rng.randrange(live):03d}"
            event: dict[str, Any] = {
                "type": "contact.queued",
                "contact_id": f"s{n}",
                "queue": q,
                "channel": rng.choice(("voice", "chat")),
            }
        elif kind < 0.9:
            event = {
                "type": "contact.answered",
                "contact_id": f"s{rng.randrange(1, n)}",
                "agent_id": f"agent-{rng.randrange(floor_bench.AGENTS):05d}",
            }
        else:
            event = {
                "type": "agent.state",
                "agent_id": f"agent-{rng.randrange(floor_bench.AGENTS):05d}",
                "state": rng.choice(("available", "on_contact", "after_contact_work")),
            }
        event["event_id"] = f"s-{n}"
        event["occurred_at"] = int(at * 1000)
        engine.ingest(orjson.dumps(event), at + 1)


def summary(times: list[float]) -> dict[str, float]:
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scrapes", type=int, default=8, help="steady scrapes (half old, half new)"
    )
    parser.add_argument("--events", type=int, default=1500, help="events between scrapes")
    parser.add_argument("--interval", type=float, default=15.0, help="clock step per scrape")
    args = parser.parse_args()
    tune_gc()
    clock_time = Time()
    floor_bench.shifted_clock = lambda: WallClock(clock_time.now)  # a clock we move
    started = time.perf_counter()
    engine, _, teams = floor_bench.build_floor()
    gc.collect()
    gc.freeze()
    print(f"floor built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    rng = random.Random(5)
    seq = [0]
    team = teams[7]
    team_queues = frozenset(qc.queue for qc in engine.queues.tracked if qc.team == team)

    def step() -> None:
        clock_time.offset += args.interval
        traffic(engine, clock_time.now(), args.events, rng, seq)
        engine.advance(clock_time.now())

    results: dict[str, Any] = {}
    # first scrape: the renderer starts with nothing kept
    step()
    wall, cpu, first = timed(lambda: exposition(engine))
    results["new, first scrape"] = {"wall_s": wall, "cpu_s": cpu}
    samples = sum(1 for line in first.split(b"\n") if line and not line.startswith(b"#"))
    results["bytes"] = len(first)
    results["samples"] = samples
    print(f"first scrape {wall:.3f} s, {len(first):,} bytes, {samples:,} samples", file=sys.stderr)
    old: dict[str, list[float]] = {"wall": [], "cpu": []}
    new: dict[str, list[float]] = {"wall": [], "cpu": []}
    same: dict[str, list[float]] = {"wall": [], "cpu": []}
    one: dict[str, list[float]] = {"wall": [], "cpu": []}
    for i in range(args.scrapes):
        step()
        # Each is timed as the first read after the step (that one pays the engine's window
        # merges, cached per 10 s bucket), old and new in turn; the other gives the text
        # to compare.
        first_new = i % 2 == 0
        wall, cpu, text = timed(
            (lambda: exposition(engine)) if first_new else (lambda: reference_exposition(engine))
        )
        into = new if first_new else old
        wall_first = wall
        into["wall"].append(wall)
        into["cpu"].append(cpu)
        other = reference_exposition(engine) if first_new else exposition(engine)
        assert text == other, "the renderer's text differs from the reference"
        wall, cpu, _ = timed(lambda: exposition(engine))
        same["wall"].append(wall)
        same["cpu"].append(cpu)
        wall, cpu, team_text = timed(lambda: exposition(engine, queues=team_queues))
        one["wall"].append(wall)
        one["cpu"].append(cpu)
        print(
            f"scrape {i + 1}: {'new' if first_new else 'old'} {wall_first:.3f} s, "
            f"again {same['wall'][-1]:.3f} s, team {one['wall'][-1]:.3f} s",
            file=sys.stderr,
        )
    results["old: generate_latest, wall"] = summary(old["wall"])
    results["old: generate_latest, cpu"] = summary(old["cpu"])
    results["new: steady scrape, wall"] = summary(new["wall"])
    results["new: steady scrape, cpu"] = summary(new["cpu"])
    results["new: same instant again, wall"] = summary(same["wall"])
    results[f"new: ?team={team} ({len(team_queues)} queues), wall"] = summary(one["wall"])
    results["team bytes"] = len(team_text)
    report = {
        "machine": f"{platform.machine()}, {_cpu()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "pairs": len(engine.queues.tracked),
        "agents": len(engine.agent_tracker.agents),
        "events_between_scrapes": args.events,
        "interval_s": args.interval,
        "results": results,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "metrics_bench.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
