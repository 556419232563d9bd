"""`floorwatch produce`: events, or a vendor's records (--format), to the [kafka] topic
with the contract's keys; --follow keeps reading a growing file until stopped."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from contextlib import ExitStack
from typing import TYPE_CHECKING

from streams.cli.formats import format_options, make_mapper
from streams.cli.support import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    config_option,
    esl_source,
    kafka_error,
    open_input,
    progress_option,
    progress_wanted,
)
from streams.config import load_settings, redacted_url
from streams.runtimes.follow import FileFollower
from streams.runtimes.progress import Progress
from streams.runtimes.records import ignored_summary

if TYPE_CHECKING:  # the Kafka and HTTP clients are imported when the command runs
    from streams.runtimes.produce import ProduceStats

log = logging.getLogger("floorwatch.produce")


def add_produce(commands: argparse._SubParsersAction) -> None:
    pd = commands.add_parser(
        "produce",
        help="send events (or a vendor's records) to the [kafka] topic with the contract's keys",
        description=(
            "Read FILE (or - for standard input) in the --format given and send each event to "
            "the [kafka] topic, keyed by contact_id (agent_id for agent.state), with an "
            "idempotent producer that waits for every in-sync replica. A line with no usable "
            "key (not JSON, no id) or a record the connector cannot map goes to the "
            "dead-letter topic with its reason in the headers. --follow keeps reading a "
            "growing file like tail -F (rotation, truncation, a file that appears later) "
            "until Ctrl-C or SIGTERM. An http(s):// URL is read as its response streams, to "
            "its end; freeswitch://HOST:PORT (--format freeswitch) reads the event socket "
            "until stopped. The topics are created when missing."
        ),
    )
    pd.add_argument(
        "file",
        metavar="FILE|-|URL",
        help="the records: a file, - for standard input, an http(s):// URL, or "
        "freeswitch://HOST:PORT (password from FLOORWATCH_FREESWITCH__PASSWORD)",
    )
    format_options(pd)
    pd.add_argument(
        "--follow",
        action="store_true",
        help="keep reading FILE as it grows, like tail -F, until stopped",
    )
    config_option(pd)
    progress_option(pd)
    pd.set_defaults(handler=_produce)


def _produce(args: argparse.Namespace) -> int:
    from aiokafka.errors import KafkaError

    from streams.runtimes.http_lines import UrlError, http_lines
    from streams.runtimes.produce import chunks_of, produce, record_chunks

    url = "://" in args.file
    if url and not args.file.startswith(("http://", "https://", "freeswitch://")):
        raise CliError(
            f"{args.file}: give a FILE, -, an http(s):// URL or freeswitch://HOST:PORT",
            EXIT_USAGE,
        )
    if url and args.follow:
        raise CliError(
            f"--follow reads a growing FILE; {args.file} is read as it streams anyway",
            EXIT_USAGE,
        )
    esl = args.file.startswith("freeswitch://")
    if esl and args.format != "freeswitch":
        raise CliError(f"{args.file} needs --format freeswitch", EXIT_USAGE)
    if args.follow and args.file == "-":
        raise CliError(
            "--follow reads a FILE; standard input is read to its end anyway", EXIT_USAGE
        )
    mapper = make_mapper(args)
    settings = load_settings(args.config)
    # The Kafka client logs each failed attempt; the command reports the failure itself.
    quiet = logging.getLogger("aiokafka")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    with ExitStack() as stack:
        stream, size = (None, None)
        follower = None
        records = None
        if url:
            source = redacted_url(args.file)
            records = esl_source(args.file, _note).lines() if esl else http_lines(args.file)
        elif args.follow:
            if os.path.isdir(args.file):
                raise CliError(f"input file {args.file}: is a directory", EXIT_INPUT)
            follower = FileFollower(args.file, follow=True, note=_note)
            source = os.path.abspath(args.file)
        else:
            stream, size = open_input(args.file, stack, "produce")
            source = "-" if args.file == "-" else os.path.abspath(args.file)
        progress = Progress(sys.stderr, "produce", size) if progress_wanted(args.progress) else None

        def shown(stats: ProduceStats) -> None:
            if progress is not None:
                progress.update(stats.lines, None)

        async def main() -> ProduceStats:
            stop, stopping = threading.Event(), asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stopping.set)
            if records is not None:
                chunks = record_chunks(records, stopping)
            else:
                chunks = chunks_of(stream, follower, stop, stopping)
            return await produce(settings.kafka, chunks, source, mapper, shown)

        try:
            stats = asyncio.run(main())
        except KafkaError as exc:
            raise kafka_error(settings, exc) from None
        except UrlError as exc:
            raise CliError(f"cannot read {exc}", EXIT_INPUT) from None
    if progress is not None:
        progress.finish(stats.lines)
    kafka = settings.kafka
    line = f"floorwatch produce: sent {stats.sent:,} event(s) to {kafka.topic}"
    dead = sum(stats.dead.values())
    if dead:
        parts = ", ".join(f"{reason} {n}" for reason, n in sorted(stats.dead.items()))
        line += f"; {dead:,} dead letter(s) to {kafka.dlq_topic}: {parts}"
    print(line, file=sys.stderr)
    if mapper is not None and (ignored := ignored_summary(mapper, "produce")) is not None:
        print(ignored, file=sys.stderr)
    return EXIT_OK


def _note(message: str) -> None:
    print(f"floorwatch produce: {message}", file=sys.stderr, flush=True)
