"""`floorwatch replay`: a JSON Lines event file (or a vendor's log with --format) through
the engine with the event-time clock, then the final Prometheus exposition."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from typing import Any

import orjson

from streams.cli.formats import format_options, make_mapper
from streams.cli.support import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    config_option,
    open_input,
    open_output,
    progress_option,
    progress_wanted,
)
from streams.config import load_settings
from streams.core.engine import Engine
from streams.read.agents import agents_snapshot
from streams.read.board import board_snapshot
from streams.read.contacts import ContactFilter, contact_rows
from streams.read.exporter import exposition
from streams.read.moves import moves_snapshot
from streams.runtimes.progress import Progress
from streams.runtimes.records import ignored_summary
from streams.runtimes.replay import accepted_nothing, rejects_summary, replay, what_it_seems

HEAD_BYTES = 64  # what the input's first bytes say of it, when no line was accepted


def add_replay(commands: argparse._SubParsersAction) -> None:
    rp = commands.add_parser(
        "replay",
        help="process a JSON Lines event file with the event-time clock and print the metrics",
        description=(
            "Process a JSON Lines event file (or - for standard input; or a vendor's log with "
            "--format, e.g. an Asterisk queue_log) as fast as possible, with the event-time "
            "clock (now = the newest occurred_at), then write the final Prometheus text "
            "exposition. Rejected lines are counted per reason on stderr."
        ),
    )
    rp.add_argument(
        "file", metavar="FILE", help="JSON Lines events (or --format records), or - for stdin"
    )
    rp.add_argument("more", nargs="*", help=argparse.SUPPRESS)  # refused: one FILE
    config_option(rp)
    rp.add_argument(
        "--metrics-out",
        metavar="PATH",
        default="-",
        help="where to write the exposition (default: standard output)",
    )
    rp.add_argument(
        "--rejects-out",
        metavar="PATH",
        help="write each rejected line with its reason as JSON Lines (default: only the "
        "counts per reason, on stderr)",
    )
    rp.add_argument(
        "--board-out",
        metavar="PATH",
        help="at the end, write the floor's view as one JSON document: board, agents (all), "
        "contacts (every one at risk or breached) and moves, as the HTTP API serves them "
        "(default: none)",
    )
    progress_option(rp)
    format_options(rp)
    rp.add_argument(
        "--decode-process",
        choices=("auto", "on", "off"),
        default="auto",
        help="decode and validate a FILE in a second process while this one applies the "
        "events (default auto: on when the machine has two or more cores; standard input is "
        "always read in one process)",
    )
    rp.set_defaults(handler=_replay, leave_heap=True)


def _replay(args: argparse.Namespace) -> int:
    if args.more:
        files = " ".join([args.file, *args.more])
        raise CliError(
            f"replay takes one FILE, got {1 + len(args.more)} ({files}); to replay several "
            f"in order, join them: cat {files} | floorwatch replay -",
            EXIT_USAGE,
        )
    mapper = make_mapper(args)
    settings = load_settings(args.config)
    with ExitStack() as stack:
        source, size = open_input(args.file, stack, "replay")
        metrics_out = open_output(args.metrics_out, stack, "--metrics-out")
        rejects = (
            open_output(args.rejects_out, stack, "--rejects-out") if args.rejects_out else None
        )
        board_out = open_output(args.board_out, stack, "--board-out") if args.board_out else None
        progress = Progress(sys.stderr, "replay", size) if progress_wanted(args.progress) else None
        # A terminal's Ctrl-D ends one read only: a peek would swallow the end of input.
        peek = None if source.isatty() else getattr(source, "peek", None)
        head = peek(HEAD_BYTES)[:HEAD_BYTES] if peek is not None else b""
        decode_process = args.file != "-" and (
            args.decode_process == "on"
            or (args.decode_process == "auto" and (os.cpu_count() or 1) >= 2)
        )
        engine = replay(
            source,
            settings,
            rejects=rejects,
            progress=progress,
            decode_process=decode_process,
            mapper=mapper,
        )
        if accepted_nothing(engine):  # not a page of zeros: what the input seems to be
            connector = args.format if mapper is not None else None
            raise CliError(
                f"no event accepted: {what_it_seems(engine, args.file, head, connector)}",
                EXIT_INPUT,
            )
        metrics_out.write(exposition(engine))
        metrics_out.flush()
        if board_out is not None:
            board_out.write(orjson.dumps(floor_document(engine)) + b"\n")
            board_out.flush()
    rejects_summary(engine, sys.stderr)
    if mapper is not None and (line := ignored_summary(mapper, "replay")) is not None:
        print(line, file=sys.stderr)
    return EXIT_OK


def floor_document(engine: Engine) -> dict[str, Any]:
    """The floor's view at the end of a replay, as `/api/v1/board`, `/agents` (every
    agent), `/contacts` (every one at risk or breached) and `/moves` serve it."""
    return {
        "board": board_snapshot(engine, None, "replay"),
        "agents": agents_snapshot(engine, limit=sys.maxsize),
        "contacts": contact_rows(engine, ContactFilter(), sys.maxsize),
        "moves": moves_snapshot(engine),
    }
