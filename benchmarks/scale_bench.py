"""A large centre in one process: 1,000 queue x channel pairs, 10,000 agents, 300,000 open
tickets and a live hour of calls and chats (floor_bench.py's floor), and what it costs.

    .venv/bin/python benchmarks/scale_bench.py [--repeat 5]

Reports, in one run on this machine: the time to build the floor (events applied), RSS
after it; /metrics (the first scrape and again at the same instant; a scrape after the
clock moved on is metrics_bench.py's measure), the board, the agents and contacts lists
(limit 100; in process: floor_bench.py measures them over HTTP); memory per open contact
(replay_bench.py's measure); and a restart with `--state-dir`: saving the engine's state,
its size, and restoring it into a new engine. Then the product itself: `floorwatch run
--source FILE` on the same floor (event times moved to now), its RSS once the file is read
and /metrics over HTTP. The worker's restore from its Tables is worker_bench.py's (it
needs Kafka). Writes benchmarks/out/scale_bench.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from floor_bench import build_floor, floor_events  # noqa: E402
from replay_bench import memory_per_open_contact  # noqa: E402
from results import machine, save  # noqa: E402

from streams.core.engine import Engine  # noqa: E402
from streams.read.agents import agents_snapshot  # noqa: E402
from streams.read.board import board_snapshot  # noqa: E402
from streams.read.contacts import ContactFilter, contact_rows  # noqa: E402
from streams.read.exporter import exposition  # noqa: E402
from streams.runtimes.state_dir import StateDir  # noqa: E402


def rss_mib(pid: str = "self", field: str = "VmRSS") -> float:
    """Resident set size of a process now, or its peak with `VmHWM` (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(call: Callable[[], Any], repeat: int) -> tuple[dict[str, float], Any]:
    """Median and worst milliseconds of `repeat` calls (the first included), and a result."""
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}, result


def run_process(repeat: int) -> dict[str, Any]:
    """`floorwatch run --source FILE` fed the floor's events, their times moved to now as a
    live centre's are: its RSS once it has read the file (the issue's measure), its peak,
    and /metrics and the board over HTTP (a scrape after the first is mostly cached)."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "floor.jsonl"
        with path.open("wb") as out:
            for line in floor_events(now=time.time()):
                out.write(line + b"\n")
        # -P: no working directory on sys.path, so the child imports the same build
        command = [sys.executable, "-P", "-m", "streams", "run", "--source", str(path)]
        command += ["--port", "0"]
        proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stderr is not None
            started = time.perf_counter()
            base = ""
            for line in proc.stderr:
                found = re.search(r"metrics (http://\S+)/metrics", line)
                base = found.group(1) if found else base
                if "event source finished" in line:
                    break
            else:
                raise SystemExit(f"floorwatch run ended (exit {proc.wait()}) before its source")
            read_s = time.perf_counter() - started
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # drain it
            result: dict[str, Any] = {
                "read_seconds": round(read_s, 1),
                "rss_mib_after_reading": round(rss_mib(str(proc.pid)), 1),
                "peak_rss_mib": round(rss_mib(str(proc.pid), "VmHWM"), 1),
            }
            for name, route in (("metrics", "/metrics"), ("board", "/api/v1/board")):
                result[f"{name}_http"] = timed(
                    lambda route=route: urllib.request.urlopen(base + route).read(), repeat
                )[0]
            result["rss_mib_after_reads"] = round(rss_mib(str(proc.pid)), 1)
            return result
        finally:
            proc.terminate()
            proc.wait(60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = tempfile.TemporaryDirectory()
    source = str(Path(work.name) / "events.jsonl")
    Path(source).write_bytes(b"")
    state = StateDir(str(Path(work.name) / "state"), source, "json")
    state.prepare()
    started = time.perf_counter()
    engine, clock, _ = build_floor(prepare=state.attach)  # its event ids are saved too
    built_s = time.perf_counter() - started
    gc.collect()
    result: dict[str, Any] = {
        "machine": machine(),
        "queue_channels": len(engine.queues.tracked),
        "agents": len(engine.agent_tracker.agents),
        "open_contacts": len(engine.contacts.contacts),
        "build_seconds": round(built_s, 1),
        "rss_mib_after_build": round(rss_mib(), 1),
    }
    first, text = timed(lambda: exposition(engine), 1)
    again, _ = timed(lambda: exposition(engine), args.repeat)  # the same instant: cached
    samples = sum(1 for line in text.splitlines() if line and not line.startswith(b"#"))
    result["metrics"] = {
        "first_ms": first["median_ms"],
        "same_instant_ms": again["median_ms"],
        "bytes": len(text),
        "samples": samples,
    }
    result["board"] = timed(lambda: board_snapshot(engine), args.repeat)[0]
    result["agents_limit_100"] = timed(lambda: agents_snapshot(engine, limit=100), args.repeat)[0]
    result["contacts_limit_100"] = timed(
        lambda: contact_rows(engine, ContactFilter(), 100), args.repeat
    )[0]
    result["rss_mib_after_reads"] = round(rss_mib(), 1)
    saving = timed(lambda: state.save(engine, None, None), 1)[0]
    size = sum(p.stat().st_size for p in Path(work.name, "state").rglob("*") if p.is_file())
    restored = Engine(engine.settings, clock)
    again = StateDir(str(Path(work.name) / "state"), source, "json")
    again.attach(restored)
    load = timed(lambda: again.load(restored, None), 1)[0]
    assert len(restored.contacts.contacts) == len(engine.contacts.contacts)
    work.cleanup()
    result["state_dir"] = {
        "save_ms": saving["median_ms"],
        "bytes": size,
        "restore_ms": load["median_ms"],
    }
    gc.collect()
    result["bytes_per_open_contact"] = round(memory_per_open_contact(100_000))
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["floorwatch_run"] = run_process(args.repeat)
    save("scale_bench.json", result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
