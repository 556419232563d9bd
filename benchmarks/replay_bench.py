"""Replay benchmark: whole-process and engine-only throughput, memory per open contact.

    .venv/bin/python benchmarks/replay_bench.py [--contacts 202000] [--open-contacts 200000]

Generates (once, cached in benchmarks/out/) a synthetic day of >= 1 million events, then
measures on this machine:
  1. a plain `json.loads` loop over the file (the floor any Python consumer pays),
  2. whole-process `floorwatch replay FILE --metrics-out /dev/null` (subprocess, wall time,
     peak RSS), with the decoding process (the default on two cores) and without,
  3. engine-only: `Engine.apply` over pre-decoded events,
  4. memory per open contact: traced allocations of N open email contacts / N.
Prints a table and writes benchmarks/out/replay_bench.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import orjson
from results import OUT, machine, save

from streams.config import load_settings
from streams.core.clock import EventTimeClock
from streams.core.engine import Engine
from streams.core.intake import decode
from streams.core.settings import Settings
from streams.runtimes.process import tune_gc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tests.support
from tests.support.daygen import DayPlan, write_day

WALL = 1.9e9  # a fixed wall clock after every generated event


def dataset(contacts: int) -> Path:
    path = OUT / f"day-{contacts}.jsonl"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} …", file=sys.stderr)
        tmp = path.with_suffix(".tmp")
        write_day(DayPlan(seed=42, contacts=contacts, day="2026-11-20"), tmp)
        tmp.rename(path)
    return path


def json_loop(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    with path.open("rb") as handle:
        for line in handle:
            json.loads(line)
            count += 1
    return count, time.perf_counter() - started


def whole_process(path: Path, decode_process: str, config: str) -> tuple[float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-P",  # no script or working directory on sys.path: the same build
            "-m",
            "streams",
            "replay",
            str(path),
            "--metrics-out",
            os.devnull,
            "--progress",
            "never",
            "--decode-process",
            decode_process,
            "--config",
            config,
        ],
        check=True,
    )
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak_kib, before)


def engine_only(path: Path, settings: Settings) -> tuple[int, float]:
    with path.open("rb") as handle:
        events = [decode(line.rstrip(b"\n"), WALL) for line in handle]
    gc.freeze()  # the pre-decoded events are not the engine's: keep the collector off them
    engine = Engine(settings, EventTimeClock())
    apply = engine.apply
    started = time.perf_counter()
    for event in events:
        apply(event, WALL)
    return len(events), time.perf_counter() - started


def memory_per_open_contact(count: int) -> float:
    """Bytes allocated per open contact (contact stage + queue stage + the event id remembered)."""
    base_ts = 1795150000.0
    lines = [
        orjson.dumps(
            {
                "event_id": f"evt-{i:09d}",
                "type": "contact.queued",
                "occurred_at": int((base_ts + i * 0.01) * 1000),
                "contact_id": f"contact-{i:09d}",
                "queue": f"inbox-{i % 20}",
                "channel": "email",
            }
        )
        for i in range(count)
    ]
    engine = Engine(Settings(), EventTimeClock())
    for line in lines[:1000]:  # warm up: queue stats, buckets, caches
        engine.ingest(line, WALL)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for line in lines[1000:]:
        engine.ingest(line, WALL)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    opened = count - 1000
    assert sum(qc.waiting for qc in engine.queues.tracked) == count
    return (after - before) / opened


def main() -> int:
    tune_gc()  # as the floorwatch command does
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--contacts",
        type=int,
        default=202_000,
        help="contacts in the generated day (202000 gives about 1 million events)",
    )
    parser.add_argument(
        "--open-contacts",
        type=int,
        default=200_000,
        help="open contacts for the memory measurement",
    )
    parser.add_argument(
        "--config",
        default=os.devnull,
        help="configuration for the replays (default: none; business-hours.toml puts a "
        "calendar on every email queue)",
    )
    args = parser.parse_args()
    path = dataset(args.contacts)
    lines, json_s = json_loop(path)
    whole_s, peak_kib = whole_process(path, "on", args.config)
    single_s, _ = whole_process(path, "off", args.config)
    events, engine_s = engine_only(path, load_settings(args.config))
    per_contact = memory_per_open_contact(args.open_contacts)
    result = {
        "config": args.config,
        "machine": machine(),
        "events": lines,
        "file_mib": round(path.stat().st_size / 2**20, 1),
        "json_loads_events_per_s": round(lines / json_s),
        "whole_process_events_per_s": round(lines / whole_s),
        "whole_process_seconds": round(whole_s, 2),
        "whole_process_one_core_events_per_s": round(lines / single_s),
        "whole_process_peak_rss_mib": round(peak_kib / 1024, 1),
        "engine_only_events_per_s": round(events / engine_s),
        "ratio_whole_process_to_json_loads": round(json_s / whole_s, 3),
        "bytes_per_open_contact": round(per_contact),
    }
    save("replay_bench.json", result)
    width = max(map(len, result))
    for key, value in result.items():
        print(
            f"{key:<{width}}  {value:,}"
            if isinstance(value, int | float)
            else f"{key:<{width}}  {value}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
