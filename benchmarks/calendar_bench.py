"""Business-hours SLA clocks against wall-clock ones, in the same run (issue: "replay
benchmark within 5 % with calendars configured on every email queue").

    .venv/bin/python benchmarks/calendar_bench.py [--contacts 202000] [--rounds 5]

Alternates the two configurations (none, and benchmarks/business-hours.toml) over the
replay benchmark's day: engine only (pre-decoded events, the precise measure) and the
whole `floorwatch replay` process; prints the medians and their ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from replay_bench import dataset, engine_only, whole_process  # noqa: E402

from streams.config import load_settings  # noqa: E402

CONFIGS = {"wall clock": os.devnull, "business hours": str(HERE / "business-hours.toml")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=202_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    path = dataset(args.contacts)
    engine: dict[str, list[float]] = {name: [] for name in CONFIGS}
    whole: dict[str, list[float]] = {name: [] for name in CONFIGS}
    for _ in range(args.rounds):
        for name, config in CONFIGS.items():
            events, seconds = engine_only(path, load_settings(config))
            engine[name].append(events / seconds)
    for _ in range(max(2, args.rounds // 2)):
        for name, config in CONFIGS.items():
            seconds, _ = whole_process(path, "on", config)
            whole[name].append(events / seconds)
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{events:,} events, {args.rounds} rounds (medians, events/s)")
    for title, figures in (("engine only", engine), ("whole process", whole)):
        wall, business = (statistics.median(figures[name]) for name in CONFIGS)
        print(
            f"{title:<14} wall clock {wall:>10,.0f}  business hours {business:>10,.0f}  "
            f"ratio {business / wall:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
