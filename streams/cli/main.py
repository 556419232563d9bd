"""The `floorwatch` command line: the top-level parser, one module per command, and the
mapping of errors to exit codes."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from streams import __version__
from streams.cli.board import add_board
from streams.cli.convert import add_convert
from streams.cli.dlq import add_dlq
from streams.cli.produce import add_produce
from streams.cli.receive import add_receive
from streams.cli.replay import add_replay
from streams.cli.run import add_run
from streams.cli.simulate import add_simulate
from streams.cli.staffing import add_staffing
from streams.cli.support import EXIT_OK, EXIT_USAGE, CliError, Parser
from streams.cli.targets import add_targets
from streams.cli.worker import add_worker
from streams.core.settings import ConfigError
from streams.runtimes.process import tune_gc

COMMANDS = (
    add_replay,
    add_run,
    add_worker,
    add_simulate,
    add_convert,
    add_produce,
    add_receive,
    add_staffing,
    add_targets,
    add_board,
    add_dlq,
)


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="floorwatch",
        description="Real-time contact-centre metrics from contact events.",
    )
    parser.add_argument("--version", action="version", version=f"floorwatch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(commands)
    return parser


def _command_parser(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.ArgumentParser:
    """The parser of the (sub)command `args` chose, e.g. that of `targets get`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(args, action.dest, None)
            if chosen in action.choices:
                return _command_parser(action.choices[chosen], args)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code."""
    return _execute(_parse(argv))


def entry() -> NoReturn:
    """The `floorwatch` executable: one command, then exit with its code. A command that
    leaves a large heap behind (`replay`: about a second per million events to free its
    objects one by one at interpreter exit) exits at once when its output is flushed."""
    args = _parse(None)
    code = _execute(args)
    if args.leave_heap:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe, or stream
                stream.flush()
        logging.shutdown()
        os._exit(code)
    sys.exit(code)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _parser()
    parser.set_defaults(leave_heap=False)
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported by the command's parser: its name and its --help
        _command_parser(parser, args).error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _execute(args: argparse.Namespace) -> int:
    tune_gc()
    try:
        return args.handler(args)
    except CliError as exc:
        print(f"floorwatch {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except ConfigError as exc:  # loading the settings, or a client refusing them (Redis URL)
        print(f"floorwatch {args.command}: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"floorwatch {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
