"""Intake benchmark: valid events decoded and validated per second, each path in one run.

    .venv/bin/python benchmarks/intake_bench.py [--contacts 20000] [--rounds 5]

Generates (once, cached in benchmarks/out/) a synthetic day with the replay benchmark's
generator (`tests.support.daygen`; 20,000 contacts give about 103,000 events: every type,
the three `occurred_at` forms), loads its lines into memory and times, best of N rounds:
  1. the floors: `orjson.loads` alone and the fast path's msgspec typed decode alone
     (events/s), the timestamp parse alone, in Python and in C (µs per string);
  2. the reference path (`decode_reference`: orjson, then the checks in Python);
  3. msgspec to a dict, then the same Python checks (a candidate not taken);
  4. `decode`, the fast path (msgspec typed Structs, then the few checks left in Python).
Prints a table and writes benchmarks/out/intake_bench.json. Whether the core is compiled
(mypyc) or pure Python is detected and reported.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import orjson

from streams.core import fast_intake, intake

sys.path.insert(0, str(Path(__file__).resolve().parent))
import replay_bench

OUT = Path(__file__).resolve().parent / "out"
WALL = 1.9e9  # a fixed wall clock after every generated event


def dataset(contacts: int) -> list[bytes]:
    with replay_bench.dataset(contacts).open("rb") as handle:
        return [line.rstrip(b"\n") for line in handle]


def rate(lines: list[bytes], step: Callable[[bytes], object], rounds: int) -> float:
    """Best events/s over `rounds` passes of `step` over every line."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for line in lines:
            step(line)
        best = min(best, time.perf_counter() - started)
    return len(lines) / best


def rate_at(lines: list[bytes], step: Callable[[bytes, float], object], rounds: int) -> float:
    """The same for a step that takes the wall clock too (no wrapper call in the loop)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for line in lines:
            step(line, WALL)
        best = min(best, time.perf_counter() - started)
    return len(lines) / best


def dict_then_checks(raw: bytes, wall_now: float) -> intake.Event:
    """Candidate: msgspec decodes to a dict, then the reference's checks in Python."""
    return intake._validate(_TO_DICT.decode(raw), wall_now)


_TO_DICT = msgspec.json.Decoder()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for row in info:
                if row.startswith("model name"):
                    return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=20_000, help="contacts in the day")
    parser.add_argument("--rounds", type=int, default=5, help="passes per path (best kept)")
    args = parser.parse_args()
    lines = dataset(args.contacts)
    # Everything must be valid, and both paths must agree on it, before anything is timed.
    for line in lines:
        fast = intake.decode_fast(line, WALL)
        assert fast is not None, line
        reference = intake.decode_reference(line, WALL)
        assert intake.event_to_tuple(fast) == intake.event_to_tuple(reference), line
    stamps = [s for s in (orjson.loads(line)["occurred_at"] for line in lines) if type(s) is str]
    gc.collect()
    gc.freeze()
    rounds = args.rounds
    ts_seconds = {}
    parsers = {"python": intake._fast_micros, "c": intake._micros}  # one in a pure install
    for name, parse in parsers.items():
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for stamp in stamps:
                parse(stamp)
            best = min(best, time.perf_counter() - started)
        ts_seconds[name] = best
    result = {
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}",
        "core": "compiled (mypyc)" if intake.__file__.endswith((".so", ".pyd")) else "pure Python",
        "events": len(lines),
        "string_timestamps": len(stamps),
        "orjson_loads_per_s": round(rate(lines, orjson.loads, rounds)),
        "msgspec_typed_decode_per_s": round(rate(lines, fast_intake.DECODER.decode, rounds)),
        "python_timestamp_us_per_string": round(ts_seconds["python"] / len(stamps) * 1e6, 3),
        "c_timestamp_us_per_string": round(ts_seconds["c"] / len(stamps) * 1e6, 3),
        "reference_per_s": round(rate_at(lines, intake.decode_reference, rounds)),
        "msgspec_dict_then_checks_per_s": round(rate_at(lines, dict_then_checks, rounds)),
        "fast_path_per_s": round(rate_at(lines, intake.decode, rounds)),
    }
    result["fast_over_reference"] = round(result["fast_path_per_s"] / result["reference_per_s"], 2)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "intake_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    width = max(map(len, result))
    for key, value in result.items():
        shown = f"{value:,}" if isinstance(value, int | float) else value
        print(f"{key:<{width}}  {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
