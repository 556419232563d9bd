"""The SLA clock alone: open contacts going at risk and breaching as the clock moves.

    .venv/bin/python benchmarks/sla_bench.py [--contacts 300000] [--rounds 3]

Queues `--contacts` email, messaging and chat contacts (50 queues, every priority, one
every 0.1 s), then moves the clock 33 hours in 20-second steps, so that every contact's
SLAs go at risk and breach. Times only the clock moves (CPU seconds, best of the rounds,
each on a fresh engine). To compare two builds, run it with `PYTHONPATH` pointing at
each, in turn. Writes benchmarks/out/sla_bench.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time

import orjson
from results import machine, save

from streams.config import settings_from_mapping
from streams.core.clock import EventTimeClock
from streams.core.engine import Engine
from streams.runtimes.process import tune_gc

T0 = 1_795_000_000.0
STEP_SECONDS = 20
STEPS = 6_000


def loaded_engine(contacts: int) -> tuple[Engine, float]:
    """An engine holding `contacts` open contacts, and the time of the last one."""
    rng = random.Random(3)
    engine = Engine(settings_from_mapping({}), EventTimeClock())
    wall = T0 + 10**6
    for i in range(contacts):
        event = {
            "event_id": f"e{i}",
            "type": "contact.queued",
            "occurred_at": int((T0 + i * 0.1) * 1000),
            "contact_id": f"c{i}",
            "queue": f"q{i % 50}",
            "channel": rng.choice(("email", "messaging", "chat")),
            "priority": rng.choice(("urgent", "high", "normal", "low")),
        }
        engine.ingest(orjson.dumps(event), wall)
    return engine, T0 + contacts * 0.1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tune_gc()
    times = []
    for _ in range(args.rounds):
        engine, last = loaded_engine(args.contacts)
        gc.collect()
        started = time.process_time()
        for k in range(1, STEPS + 1):
            engine.advance(last + k * STEP_SECONDS)
        times.append(time.process_time() - started)
        breached = sum(sum(qc.breached) for qc in engine.queues.tracked)
        del engine
    result = {
        "machine": machine(),
        "open_contacts": args.contacts,
        "clock_moves": STEPS,
        "breached_at_the_end": breached,
        "cpu_seconds_best": round(min(times), 3),
        "cpu_seconds_all": [round(t, 3) for t in times],
    }
    save("sla_bench.json", result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
