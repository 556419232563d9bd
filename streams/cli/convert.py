"""`floorwatch convert`: a vendor's records (or contract events, checked) printed as
contract JSON Lines, with the rejected records counted per reason on stderr."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any, BinaryIO

import orjson

from streams.cli.formats import format_options, make_mapper
from streams.cli.support import (
    EXIT_OK,
    config_option,
    open_input,
    open_output,
    progress_option,
    progress_wanted,
)
from streams.core.intake import Rejection, decode
from streams.runtimes.progress import Progress
from streams.runtimes.records import RecordMapper, ignored_summary
from streams.runtimes.replay import RejectsFile


def add_convert(commands: argparse._SubParsersAction) -> None:
    cv = commands.add_parser(
        "convert",
        help="print a vendor's records (e.g. an Asterisk queue_log) as contract JSON Lines",
        description=(
            "Read FILE (or - for standard input) in the --format given and print its events "
            "as contract JSON Lines (docs/spec/events.md), each checked against the contract. "
            "With --format json (the default) the lines are checked and valid ones printed "
            "unchanged. Records that cannot be mapped are counted per reason on stderr and, "
            "with --rejects-out, written there; records ignored by design are counted too."
        ),
    )
    cv.add_argument("file", metavar="FILE", help="the records, or - for standard input")
    format_options(cv)
    cv.add_argument(
        "--out", default="-", metavar="PATH", help="where to write (default: standard output)"
    )
    cv.add_argument(
        "--rejects-out",
        metavar="PATH",
        help="write each rejected record with its reason as JSON Lines (default: only the "
        "counts per reason, on stderr)",
    )
    config_option(cv)  # [receive] name maps of the webhook formats
    progress_option(cv)
    cv.set_defaults(handler=_convert)


def converted(
    source: BinaryIO, mapper: RecordMapper | None, wall_now: float
) -> Iterator[tuple[int, bytes | Rejection]]:
    """(line number, contract JSON of one event or the rejection of a record) in order."""
    number = 0
    for number, line in enumerate(source, start=1):
        record = line.rstrip(b"\r\n")
        if not record.strip():
            continue
        if mapper is None:
            try:
                decode(record, wall_now)
            except Rejection as rejection:
                rejection.raw = record
                yield number, rejection
                continue
            yield number, record
            continue
        yield from _checked(mapper.feed(record), number, record, wall_now)
    if mapper is not None:
        yield from _checked(mapper.flush(), number, b"", wall_now)


def _checked(
    items: list[dict[str, Any] | Rejection], number: int, record: bytes, wall_now: float
) -> Iterator[tuple[int, bytes | Rejection]]:
    for item in items:
        if isinstance(item, Rejection):
            item.raw = record
            yield number, item
            continue
        raw = orjson.dumps(item)
        try:
            decode(raw, wall_now)
        except Rejection as rejection:
            rejection.raw = raw
            yield number, rejection
            continue
        yield number, raw


def _convert(args: argparse.Namespace) -> int:
    mapper = make_mapper(args)
    reasons: Counter[str] = Counter()
    events = 0
    with ExitStack() as stack:
        source, size = open_input(args.file, stack, "convert")
        out = open_output(args.out, stack, "--out")
        rejects = (
            RejectsFile(open_output(args.rejects_out, stack, "--rejects-out"))
            if args.rejects_out
            else None
        )
        progress = Progress(sys.stderr, "convert", size) if progress_wanted(args.progress) else None
        for number, item in converted(source, mapper, time.time()):
            if isinstance(item, Rejection):
                reasons[item.reason] += 1
                if rejects is not None:
                    rejects.line = number
                    rejects(item)
                continue
            out.write(item + b"\n")
            events += 1
            if progress is not None and not events % 10000:
                progress.update(events, source.tell() if source.seekable() else None)
        out.flush()
    if progress is not None:
        progress.finish(events)
    if reasons:
        parts = ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))
        print(
            f"floorwatch convert: rejected {sum(reasons.values())} record(s): {parts}",
            file=sys.stderr,
        )
    if mapper is not None and (line := ignored_summary(mapper, "convert")) is not None:
        print(line, file=sys.stderr)
    return EXIT_OK
