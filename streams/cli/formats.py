"""`--format NAME` and the connectors' options, shared by the commands that read events
(replay, run, convert, produce): the options, their checks and the connector they make."""

from __future__ import annotations

import argparse
import math

from streams.cli.support import EXIT_USAGE, CliError
from streams.config import load_settings
from streams.connectors import (
    FORMATS,
    WEBHOOK_FORMATS,
    AsteriskOptions,
    Connector,
    FreeSwitchConnector,
    QueueLogConnector,
    webhook_connector,
)
from streams.connectors.asterisk import DEFAULT_EXITS, EXIT_POLICIES


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"{text} must be a number of seconds >= 0")
    return value


def _wrapup(text: str) -> tuple[str | None, float]:
    """SECONDS (every queue) or QUEUE=SECONDS."""
    queue, sep, seconds = text.rpartition("=")
    if sep and not queue:
        raise argparse.ArgumentTypeError(f"{text!r}: give SECONDS or QUEUE=SECONDS")
    return (queue if sep else None), _seconds(seconds)


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"{text!r}: give NAME=VALUE")
    return name, value


def format_options(parser: argparse.ArgumentParser) -> None:
    """--format and the options of each connector (in a group of their own)."""
    parser.add_argument(
        "--format",
        choices=tuple(FORMATS),
        default="json",
        help="what the input is: "
        + "; ".join(f"{name} = {what}" for name, what in FORMATS.items()),
    )
    group = parser.add_argument_group("telephony (--format asterisk or freeswitch)")
    group.add_argument(
        "--wrapup",
        type=_wrapup,
        action="append",
        default=[],
        metavar="[QUEUE=]SECONDS",
        help="wrap-up after each call, as wrapuptime in queues.conf or an agent's "
        "wrap-up-time in callcenter.conf (neither is logged): "
        "SECONDS for every queue, QUEUE=SECONDS for one; repeat for several (default 0)",
    )
    kinds = ", ".join(f"{k} ({v})" for k, v in DEFAULT_EXITS.items())
    group.add_argument(
        "--exit",
        type=_pair,
        action="append",
        default=[],
        metavar="KIND=abandoned|flowout",
        help="how a caller who leaves a queue unanswered, not by hanging up, counts when no "
        f"queue takes the call within --requeue-within: kinds and defaults {kinds}",
    )
    group.add_argument(
        "--requeue-within",
        type=_seconds,
        default=5.0,
        metavar="SECONDS",
        help="a call that leaves a queue (exit, transfer) and enters one within this long "
        "counts as moved (transferred), not as abandoned or ended (default 5)",
    )
    group.add_argument(
        "--member",
        type=_pair,
        action="append",
        default=[],
        metavar="NAME=AGENT",
        help="agent id for a member name or interface in the log (e.g. PJSIP/1001=alice, "
        "when ADDMEMBER logs the interface: log_membername_as_agent = no); repeatable "
        "(default: the names as logged)",
    )


def make_mapper(args: argparse.Namespace) -> Connector | None:
    """The connector --format names (None for the contract itself), with its options."""
    asterisk_options = bool(args.wrapup or args.exit or args.member) or args.requeue_within != 5.0
    if args.format in ("json", *WEBHOOK_FORMATS):
        if asterisk_options:
            raise CliError(
                "--wrapup, --exit, --requeue-within and --member are for --format asterisk "
                "or freeswitch",
                EXIT_USAGE,
            )
        if args.format == "json":
            return None
        return webhook_connector(args.format, load_settings(getattr(args, "config", None)).receive)
    exits: dict[str, str] = {}
    for kind, policy in args.exit:
        if kind not in DEFAULT_EXITS:
            raise CliError(
                f"--exit {kind}={policy}: unknown kind {kind!r}; one of "
                + ", ".join(DEFAULT_EXITS),
                EXIT_USAGE,
            )
        if policy not in EXIT_POLICIES:
            raise CliError(f"--exit {kind}={policy}: give abandoned or flowout", EXIT_USAGE)
        exits[kind] = policy
    every = 0.0
    by_queue: dict[str, float] = {}
    for queue, seconds in args.wrapup:
        if queue is None:
            every = seconds
        else:
            by_queue[queue] = seconds
    options = AsteriskOptions(
        wrapup_seconds=every,
        wrapup_by_queue=by_queue,
        exits=exits,
        requeue_within_seconds=args.requeue_within,
        members=dict(args.member),
    )
    if args.format == "freeswitch":
        return FreeSwitchConnector(options)
    return QueueLogConnector(options)
