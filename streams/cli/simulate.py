"""`floorwatch simulate`: contact-centre traffic as JSON Lines, to a file or to Kafka."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

from streams.cli.support import (
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    config_option,
    duration,
    kafka_error,
    open_output,
    progress_option,
    progress_wanted,
    scenario,
    simulator_options,
)
from streams.config import load_settings
from streams.core.intake import Rejection, parse_timestamp
from streams.core.settings import Settings
from streams.runtimes.progress import Progress
from streams.simulator import (
    TIME_FORMATS,
    Emission,
    Pacer,
    Simulation,
    backdated_start,
    paced,
)


def add_simulate(commands: argparse._SubParsersAction) -> None:
    sm = commands.add_parser(
        "simulate",
        help="generate realistic contact-centre traffic as JSON Lines events",
        description=(
            "Generate contact-centre traffic from a scenario: Poisson arrivals following an "
            "intraday profile, customers who abandon, agents with shifts, breaks and skills who "
            "serve the queues, async tickets and surveys. Writes JSON Lines to a file or "
            "standard output, as fast as possible or paced at --speed. By default the traffic "
            "ends now, so the file replays without future timestamps."
        ),
    )
    simulator_options(sm, default_speed="max")
    sm.add_argument(
        "--duration",
        type=duration,
        help="simulated time to generate, e.g. 8h or 1d (default 1d unless --events)",
    )
    sm.add_argument("--events", type=int, help="stop after this many messages (default: no limit)")
    sm.add_argument("--start", help="event time of the start, RFC 3339 (default: the run ends now)")
    sm.add_argument(
        "--unique-ids",
        action="store_true",
        help="ids carry the start time (s<seed>-<epoch>), so a live simulation that is "
        "restarted never reuses the ids of the run before (default: s<seed>, the same "
        "ids for the same seed)",
    )
    sm.add_argument(
        "--time-format",
        choices=TIME_FORMATS,
        default="rfc3339",
        help="occurred_at as RFC 3339 strings (default) or epoch milliseconds",
    )
    sm.add_argument(
        "--format",
        choices=("json", "asterisk"),
        default="json",
        help="json = contract events as JSON Lines (default); asterisk = the voice traffic as "
        "the Asterisk queue_log app_queue would write (whole seconds; no wrap-up, holds or "
        "surveys, other channels left out: docs/connectors.md)",
    )
    sm.add_argument("--out", default="-", metavar="FILE|-", help="output (default: stdout)")
    sm.add_argument(
        "--kafka",
        action="store_true",
        help="produce to the Kafka topic of [kafka] (key = contact_id or agent_id) "
        "instead of --out; the topic is created when missing",
    )
    config_option(sm)
    progress_option(sm)
    sm.set_defaults(handler=_simulate)


async def _simulate_to_kafka(
    settings: Settings,
    messages: Iterator[Emission],
    speed: float,
    start: float,
    progress: Progress | None,
) -> int:
    from aiokafka.errors import KafkaError  # the Kafka client: when events go to Kafka

    from streams import kafka_client

    pacer = Pacer(speed, origin=start)

    async def keyed() -> AsyncIterator[tuple[bytes | None, bytes]]:
        for message in messages:
            wait = pacer.delay(message.at)
            if wait > 0:
                await asyncio.sleep(wait)
            yield (message.key.encode() if message.key is not None else None), message.payload

    def sent(count: int) -> None:
        if progress is not None:
            progress.update(count, None)

    try:
        return await kafka_client.produce(settings.kafka, keyed(), sent)
    except KafkaError as exc:
        raise kafka_error(settings, exc) from None


def _queue_log(
    args: argparse.Namespace, simulation: Simulation, length: float | None, start: float
) -> int:
    """--format asterisk: the queue_log lines, paced at --speed, to --out."""
    if args.kafka:
        raise CliError(
            "--kafka sends contract events; for a queue_log in Kafka: floorwatch simulate "
            "--format asterisk | floorwatch produce - --format asterisk",
            EXIT_USAGE,
        )
    if args.noise:
        raise CliError("--noise is for --format json (it corrupts JSON messages)", EXIT_USAGE)
    lines = simulation.queue_log(length, max_events=args.events)
    pacer = None if math.isinf(args.speed) else Pacer(args.speed, origin=start)
    progress = Progress(sys.stderr, "simulate", None) if progress_wanted(args.progress) else None
    count = 0
    with ExitStack() as stack:
        out = open_output(args.out, stack, "--out")
        for count, (at, line) in enumerate(lines, start=1):
            if pacer is not None:
                wait = pacer.delay(at)
                if wait > 0:
                    out.flush()
                    time.sleep(wait)
            out.write(line)
            if progress is not None and not count % 10000:
                progress.update(count, None)
        out.flush()
    if progress is not None:
        progress.finish(count)
    return EXIT_OK


def _simulate(args: argparse.Namespace) -> int:
    if args.events is not None and args.events <= 0:
        raise CliError("--events must be at least 1", EXIT_USAGE)
    length = args.duration
    if length is None and args.events is None:
        length = 86400.0
    if args.start is not None:
        try:
            start = parse_timestamp(args.start)
        except Rejection:
            raise CliError(
                f"--start {args.start!r}: give an RFC 3339 time with offset, "
                "e.g. 2026-11-20T00:00:00Z",
                EXIT_USAGE,
            ) from None
    else:
        start = backdated_start(length if length is not None else 86400.0, args.speed, time.time())
        if not start >= 0:
            raise CliError(
                f"--duration {length:g} s ending now would start before 1970; give a shorter "
                "--duration, or a --start",
                EXIT_USAGE,
            )
    simulation = Simulation(
        scenario(args.scenario),
        args.seed,
        start_epoch=start,
        time_format=args.time_format,
        id_prefix=f"s{args.seed}-{int(start)}" if args.unique_ids else None,
    )
    if args.format == "asterisk":
        return _queue_log(args, simulation, length, start)
    messages = simulation.messages(length, max_events=args.events, noise=args.noise)
    progress = Progress(sys.stderr, "simulate", None) if progress_wanted(args.progress) else None
    if args.kafka:
        settings = load_settings(args.config)
        sent = asyncio.run(_simulate_to_kafka(settings, messages, args.speed, start, progress))
        if progress is not None:
            progress.finish(sent)
        return EXIT_OK
    if not math.isinf(args.speed):
        messages = paced(messages, Pacer(args.speed, origin=start))
    count = 0
    with ExitStack() as stack:
        out = open_output(args.out, stack, "--out")
        for count, message in enumerate(messages, start=1):
            out.write(message.line)
            if progress is not None and not count % 10000:
                progress.update(count, None)
        out.flush()
    if progress is not None:
        progress.finish(count)
    return EXIT_OK
