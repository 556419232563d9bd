"""The `floorwatch` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from typing import BinaryIO

from streams import __version__
from streams.config import ConfigError, Settings, load_settings
from streams.exporter import exposition
from streams.progress import Progress
from streams.replay import rejects_summary, replay

EXIT_OK = 0
EXIT_INPUT = 1  # unusable input: missing or unreadable file
EXIT_USAGE = 2  # bad options or configuration


class CliError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="floorwatch",
        description="Real-time contact-centre metrics from contact events.",
    )
    parser.add_argument("--version", action="version", version=f"floorwatch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    rp = commands.add_parser(
        "replay",
        help="process a JSON Lines event file with the event-time clock and print the metrics",
        description=(
            "Process a JSON Lines event file (or - for standard input) as fast as possible, "
            "with the event-time clock (now = the newest occurred_at), then write the final "
            "Prometheus text exposition. Rejected lines are counted per reason on stderr."
        ),
    )
    rp.add_argument("file", metavar="FILE", help="JSON Lines events, or - for standard input")
    rp.add_argument(
        "--config",
        metavar="PATH",
        help="TOML configuration (default: $FLOORWATCH_CONFIG, else ./floorwatch.toml "
        "if present, else built-in defaults)",
    )
    rp.add_argument(
        "--metrics-out",
        metavar="PATH",
        default="-",
        help="where to write the exposition (default: standard output)",
    )
    rp.add_argument(
        "--rejects-out",
        metavar="PATH",
        help="write each rejected line with its reason as JSON Lines",
    )
    rp.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress line on stderr (default: auto = when stderr is a terminal)",
    )
    rp.set_defaults(handler=_replay)
    return parser


def _settings(path: str | None) -> Settings:
    try:
        return load_settings(path)
    except ConfigError as exc:
        raise CliError(f"configuration error: {exc}", EXIT_USAGE) from None


def _open_input(path: str, stack: ExitStack) -> tuple[BinaryIO, int | None]:
    if path == "-":
        return sys.stdin.buffer, None
    try:
        handle = stack.enter_context(open(path, "rb"))  # noqa: SIM115 (closed by the stack)
    except FileNotFoundError:
        raise CliError(f"input file {path}: not found", EXIT_INPUT) from None
    except IsADirectoryError:
        raise CliError(
            f"input file {path}: is a directory; give a JSON Lines file", EXIT_INPUT
        ) from None
    except OSError as exc:
        raise CliError(f"input file {path}: cannot be read: {exc.strerror}", EXIT_INPUT) from None
    return handle, os.fstat(handle.fileno()).st_size


def _open_output(path: str, stack: ExitStack, what: str) -> BinaryIO:
    if path == "-":
        return sys.stdout.buffer
    try:
        return stack.enter_context(open(path, "wb"))
    except OSError as exc:
        raise CliError(f"{what} {path}: cannot be written: {exc.strerror}", EXIT_INPUT) from None


def _replay(args: argparse.Namespace) -> int:
    settings = _settings(args.config)
    with ExitStack() as stack:
        source, size = _open_input(args.file, stack)
        metrics_out = _open_output(args.metrics_out, stack, "--metrics-out")
        rejects = (
            _open_output(args.rejects_out, stack, "--rejects-out") if args.rejects_out else None
        )
        show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
        progress = Progress(sys.stderr, "replay", size) if show else None
        engine = replay(source, settings, rejects=rejects, progress=progress)
        metrics_out.write(exposition(engine))
        metrics_out.flush()
    rejects_summary(engine, sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except CliError as exc:
        print(f"floorwatch {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(f"floorwatch {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
