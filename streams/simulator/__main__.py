"""`python -m streams.simulator`: write simulated events as JSON Lines (a development aid;
`floorwatch simulate` is the product command).

    python -m streams.simulator --scenario contact-centre --duration 8h --seed 1 --out day.jsonl
    python -m streams.simulator --speed 60 --noise 0.02 | floorwatch replay -
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from streams.simulator.pacing import Pacer, backdated_start, paced
from streams.simulator.scenario import ScenarioError, list_scenarios, load_scenario
from streams.simulator.simulation import TIME_FORMATS, Simulation

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected a duration like 90, 30m, 8h or 2d, got {text!r}"
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


def _speed(text: str) -> float:
    if text.lower() in ("inf", "max"):
        return math.inf
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'inf', got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("speed must be > 0")
    return value


def _start(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected epoch seconds or an ISO time with offset, got {text!r}"
        ) from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("the start time needs an offset, e.g. 2026-11-23T08:00Z")
    return parsed.timestamp()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m streams.simulator",
        description="Simulate contact-centre traffic as Floorwatch input events (JSON Lines).",
    )
    parser.add_argument("--scenario", default="contact-centre", help="name or path of a scenario")
    parser.add_argument("--list", action="store_true", help="list the shipped scenarios")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--start",
        type=_start,
        help="event time of the start (epoch seconds or ISO 8601 with offset); default: now, "
        "moved back so that no event is ahead of the wall clock when --duration is given",
    )
    parser.add_argument("--duration", type=_duration, help="simulated time: 90, 30m, 8h, 2d")
    parser.add_argument("--events", type=int, help="stop after this many messages")
    parser.add_argument("--speed", type=_speed, default=math.inf, help="1 = real time, 60, inf")
    parser.add_argument("--noise", type=float, default=0.0, help="share of noisy messages, 0-1")
    parser.add_argument("--time-format", choices=TIME_FORMATS, default="rfc3339")
    parser.add_argument("--out", default="-", help="output file (default: standard output)")
    parser.add_argument("--stats", action="store_true", help="a summary on standard error")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list:
        for name in list_scenarios():
            print(name)
        return 0
    if args.duration is None and args.events is None and math.isinf(args.speed):
        print(
            "give --duration or --events (or a finite --speed) for an endless run", file=sys.stderr
        )
        return 2
    if not 0 <= args.noise <= 1:
        print("--noise must be in [0, 1]", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"scenario error: {exc}", file=sys.stderr)
        return 2
    start = args.start
    if start is None:
        now = time.time()
        start = backdated_start(args.duration, args.speed, now) if args.duration else now
    sim = Simulation(scenario, args.seed, round(start, 3), time_format=args.time_format)
    messages = sim.messages(args.duration, max_events=args.events, noise=args.noise)
    if not math.isinf(args.speed):
        messages = paced(messages, Pacer(args.speed, origin=sim.start_epoch))
    out = sys.stdout.buffer if args.out == "-" else open(args.out, "wb")  # noqa: SIM115
    kinds: Counter[str] = Counter()
    began = time.perf_counter()
    try:
        for message in messages:
            out.write(message.payload + b"\n")
            kinds[message.kind] += 1
            if not math.isinf(args.speed):
                out.flush()
    except (BrokenPipeError, KeyboardInterrupt):
        return 0
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    if args.stats:
        total = sum(kinds.values())
        elapsed = time.perf_counter() - began
        parts = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
        print(
            f"{total} messages ({parts}) in {elapsed:.2f} s, {total / max(elapsed, 1e-9):,.0f}/s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
