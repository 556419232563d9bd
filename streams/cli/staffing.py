"""`floorwatch staffing`: the Erlang C what-if calculator for planners, and `staffing moves`."""

from __future__ import annotations

import argparse
import json

from streams.cli.board import moves_command
from streams.cli.support import (
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    config_option,
    duration,
    positive,
)
from streams.read import staffing


def add_staffing(commands: argparse._SubParsersAction) -> None:
    sp = commands.add_parser(
        "staffing",
        help="what-if Erlang C calculator: agents needed for a service-level target",
        description=(
            "Erlang C what-if calculator for planners: given the contacts expected in an "
            "interval, the average handle time and the target, print the fewest agents that "
            "meet it (within the maximum occupancy, divided by 1 - shrinkage) and the service "
            "level, average speed of answer and occupancy for a range of agents around it. "
            "`floorwatch staffing moves` prints the moves a running instance suggests instead."
        ),
    )
    sp.add_argument(
        "action",
        nargs="?",
        choices=("moves",),
        help="moves: the staffing moves a running instance suggests (--url, --team, --queue)",
    )
    sp.add_argument(
        "--contacts", type=float, help="contacts in the interval (required; no default)"
    )
    sp.add_argument(
        "--interval",
        type=duration,
        default=1800.0,
        help="interval length: seconds or a duration like 30m (default 30m)",
    )
    sp.add_argument(
        "--aht", type=positive, help="average handle time, seconds (required; no default)"
    )
    sp.add_argument(
        "--target",
        type=float,
        default=0.8,
        help="service-level target as a ratio in (0, 1] (default 0.8)",
    )
    sp.add_argument(
        "--answer-within",
        type=positive,
        default=20.0,
        help="answer within this many seconds (default 20)",
    )
    sp.add_argument(
        "--shrinkage",
        type=float,
        default=0.0,
        help="share of paid time off the phones, in [0, 1) (default 0)",
    )
    sp.add_argument(
        "--max-occupancy",
        type=float,
        default=1.0,
        help="highest acceptable occupancy, in (0, 1] (default 1.0: no cap)",
    )
    sp.add_argument(
        "--around", type=int, default=3, help="rows above and below the answer (default 3)"
    )
    sp.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sp.add_argument(
        "--url", help="moves: a running instance's board API (default: [server] host and port)"
    )
    sp.add_argument("--team", help="moves: only moves that touch one team's queues (default: all)")
    sp.add_argument("--queue", help="moves: only moves that touch these queues, a,b (default: all)")
    config_option(sp)
    sp.set_defaults(handler=_staffing)


# StaffingInput's fields and per_interval's arguments -> the options that give them
OPTIONS = {
    "contacts": "--contacts",
    "arrivals_per_second": "--contacts",
    "interval_seconds": "--interval",
    "aht_seconds": "--aht",
    "answer_within_seconds": "--answer-within",
    "service_level_target": "--target",
    "max_occupancy": "--max-occupancy",
    "shrinkage": "--shrinkage",
}


def _ratio(option: str, value: float, *, zero_ok: bool, one_ok: bool) -> None:
    """A ratio option in range, else an error that suggests the percentage as a ratio."""
    if (value >= 0 if zero_ok else value > 0) and (value <= 1 if one_ok else value < 1):
        return
    interval = ("[" if zero_ok else "(") + "0, 1" + ("]" if one_ok else ")")
    hint = f"; did you mean {value / 100:g}?" if 1 < value <= 100 else ""
    raise CliError(f"{option} {value:g}: a ratio in {interval}{hint}", EXIT_USAGE)


def _staffing(args: argparse.Namespace) -> int:
    if args.action == "moves":
        return moves_command(args)
    missing = [o for o, v in (("--contacts", args.contacts), ("--aht", args.aht)) if v is None]
    if missing:
        raise CliError(f"the following arguments are required: {', '.join(missing)}", EXIT_USAGE)
    if not args.contacts >= 0:  # also NaN
        raise CliError("--contacts must be 0 or more", EXIT_USAGE)
    _ratio("--target", args.target, zero_ok=False, one_ok=True)
    _ratio("--shrinkage", args.shrinkage, zero_ok=True, one_ok=False)
    _ratio("--max-occupancy", args.max_occupancy, zero_ok=False, one_ok=True)
    try:
        demand = staffing.StaffingInput(
            arrivals_per_second=staffing.per_interval(args.contacts, args.interval),
            aht_seconds=args.aht,
            answer_within_seconds=args.answer_within,
            service_level_target=args.target,
            max_occupancy=args.max_occupancy,
            shrinkage=args.shrinkage,
        )
    except ValueError as exc:  # the field's name becomes the option's
        field, _, problem = str(exc).partition(": ")
        raise CliError(f"{OPTIONS.get(field, field)}: {problem}", EXIT_USAGE) from None
    result = staffing.required_agents(demand)
    rows = staffing.what_if_table(demand, around=max(0, args.around))
    if args.json:
        out = {
            "load_erlangs": result.load_erlangs,
            "agents": result.agents_on_phones,
            "required_agents": result.required_agents,
            "service_level": result.service_level,
            "probability_of_waiting": result.probability_of_waiting,
            "average_speed_of_answer_seconds": _finite(result.average_speed_of_answer_seconds),
            "occupancy": result.occupancy,
            "rows": [
                {
                    "agents": r.agents,
                    "scheduled_agents": r.scheduled_agents,
                    "service_level": r.service_level,
                    "average_speed_of_answer_seconds": _finite(r.average_speed_of_answer_seconds),
                    "occupancy": r.occupancy,
                    "probability_of_waiting": r.probability_of_waiting,
                    "acceptable": r.acceptable,
                }
                for r in rows
            ],
        }
        print(json.dumps(out, indent=2))
        return EXIT_OK
    print(
        f"offered load {result.load_erlangs:.2f} Erlangs; target {args.target:.0%} answered "
        f"within {args.answer_within:g} s"
    )
    print(
        f"required: {result.agents_on_phones} agents on the phones"
        + (
            f", {result.required_agents} scheduled with {args.shrinkage:.0%} shrinkage"
            if args.shrinkage
            else ""
        )
    )
    print()
    print(
        f"{'agents':>7} {'scheduled':>9} {'service level':>13} {'ASA (s)':>9} "
        f"{'occupancy':>9} {'P(wait)':>8}"
    )
    for r in rows:
        asa = (
            "inf"
            if r.average_speed_of_answer_seconds == float("inf")
            else (f"{r.average_speed_of_answer_seconds:.1f}")
        )
        mark = "  <- required" if r.agents == result.agents_on_phones else ""
        print(
            f"{r.agents:>7} {r.scheduled_agents:>9} {r.service_level:>13.3f} {asa:>9} "
            f"{r.occupancy:>9.3f} {r.probability_of_waiting:>8.3f}{mark}"
        )
    return EXIT_OK


def _finite(value: float) -> float | None:
    return None if value == float("inf") else value
