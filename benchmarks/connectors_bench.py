"""Connectors benchmark: `replay --format asterisk` of a simulated month of queue_log against
`replay` of the same events as contract JSON Lines, and `floorwatch produce` to Kafka.

    .venv/bin/python benchmarks/connectors_bench.py [--days 30] [--runs 3] [--no-kafka]

Generates (once, cached in benchmarks/out/) the month's queue_log with `floorwatch simulate
--format asterisk` and its contract events with `floorwatch convert`, then times whole
processes (wall clock). Kafka: FLOORWATCH_KAFKA_BOOTSTRAP=host:port, else a native broker of
its own (tests/support/kafka_broker.py). Prints a table; writes benchmarks/out/*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from results import OUT, machine, save

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tests.support

START = "2026-10-01T00:00:00Z"  # a month that lies in the past whenever this runs
WRAPUP = "40"  # the scenario's mean after-contact work on voice


def floorwatch(*args: str, env: dict[str, str] | None = None, out: Path | None = None) -> float:
    """Wall seconds of one `floorwatch` process (its output to `out`, or discarded)."""
    started = time.perf_counter()
    with open(out or os.devnull, "wb") as sink:
        subprocess.run(
            [sys.executable, "-P", "-m", "streams", *args],
            stdout=sink,
            stderr=subprocess.DEVNULL,
            check=True,
            env={**os.environ, **(env or {})},
        )
    return time.perf_counter() - started


def month(days: int) -> tuple[Path, Path, int]:
    """The month as a queue_log and as contract JSON Lines; how many events it holds."""
    OUT.mkdir(parents=True, exist_ok=True)
    queue_log = OUT / f"month-{days}d.queue_log"
    contract = OUT / f"month-{days}d.jsonl"
    if not queue_log.exists():
        print(f"simulating {days} days as a queue_log …", file=sys.stderr)
        tmp = queue_log.with_suffix(".tmp")
        floorwatch("simulate", "--format", "asterisk", "--start", START, "--duration",
                   f"{days}d", "--seed", "7", out=tmp)  # fmt: skip
        tmp.rename(queue_log)
    if not contract.exists():
        tmp = contract.with_suffix(".tmp")
        floorwatch("convert", "--format", "asterisk", "--wrapup", WRAPUP, str(queue_log), out=tmp)
        tmp.rename(contract)
    with contract.open("rb") as handle:
        events = sum(1 for _ in handle)
    return queue_log, contract, events


def best(runs: int, *args: str, env: dict[str, str] | None = None) -> float:
    return min(floorwatch(*args, env=env) for _ in range(runs))


def replays(queue_log: Path, contract: Path, events: int, runs: int) -> list[dict[str, object]]:
    rows = []
    for decode_process in ("on", "off"):
        common = ("--metrics-out", os.devnull, "--progress", "never", "--decode-process")
        json_s = best(runs, "replay", str(contract), *common, decode_process)
        asterisk_s = best(
            runs, "replay", str(queue_log), "--format", "asterisk", "--wrapup", WRAPUP,
            *common, decode_process,
        )  # fmt: skip
        rows.append(
            {
                "decode_process": decode_process,
                "json_seconds": round(json_s, 2),
                "json_events_per_s": round(events / json_s),
                "asterisk_seconds": round(asterisk_s, 2),
                "asterisk_events_per_s": round(events / asterisk_s),
                "ratio": round(json_s / asterisk_s, 3),
            }
        )
    return rows


def produces(queue_log: Path, contract: Path, events: int, runs: int) -> list[dict[str, object]]:
    from tests.support.kafka_broker import start_broker

    external = os.environ.get("FLOORWATCH_KAFKA_BOOTSTRAP")
    broker = start_broker(OUT / "kafka") if not external else None
    bootstrap = external or (broker.bootstrap if broker else "")
    rows = []
    try:
        for form, path, extra in (
            ("json", contract, ()),
            ("asterisk", queue_log, ("--format", "asterisk", "--wrapup", WRAPUP)),
        ):
            seconds = []
            for _ in range(runs):
                tag = uuid.uuid4().hex[:8]
                env = {
                    "FLOORWATCH_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
                    "FLOORWATCH_KAFKA__TOPIC": f"bench-{tag}",
                    "FLOORWATCH_KAFKA__DLQ_TOPIC": f"bench-dlq-{tag}",
                }
                seconds.append(floorwatch("produce", str(path), *extra, "--progress", "never",
                                          env=env))  # fmt: skip
            rows.append(
                {
                    "format": form,
                    "seconds": round(min(seconds), 2),
                    "events_per_s": round(events / min(seconds)),
                }
            )
    finally:
        if broker is not None:
            broker.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30, help="simulated days (default 30)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each, the best kept")
    parser.add_argument("--no-kafka", action="store_true", help="skip the produce measure")
    args = parser.parse_args()
    queue_log, contract, events = month(args.days)
    result: dict[str, object] = {
        "machine": machine(),
        "compiled": any((Path(__file__).parent.parent / "streams" / "core").glob("*.so")),
        "events": events,
        "queue_log_lines": sum(1 for _ in queue_log.open("rb")),
        "replay": replays(queue_log, contract, events, args.runs),
    }
    if not args.no_kafka:
        result["produce"] = produces(queue_log, contract, events, args.runs)
    print(json.dumps(result, indent=2))
    save("connectors_bench.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
