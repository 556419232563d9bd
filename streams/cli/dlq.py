"""`floorwatch dlq stats`: what the dead-letter topic holds, counted once per source
message, by reason."""

from __future__ import annotations

import argparse
import asyncio
import logging
from dataclasses import asdict
from typing import TYPE_CHECKING

import orjson

from streams.cli.support import (
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    CliError,
    config_option,
    kafka_error,
    positive,
)
from streams.config import load_settings

if TYPE_CHECKING:  # the Kafka client is imported when the command runs
    from streams.runtimes.worker.dead_letters import DeadLetterStats


def add_dlq(commands: argparse._SubParsersAction) -> None:
    dp = commands.add_parser(
        "dlq",
        help="inspect the dead-letter topic",
        description="Inspect the dead-letter topic the workers write rejected messages to.",
    )
    actions = dp.add_subparsers(dest="action", metavar="ACTION", required=True)
    st = actions.add_parser(
        "stats",
        help="count the dead letters by reason",
        description=(
            "Read the dead-letter topic from its beginning to its end (no consumer group, "
            "nothing committed) and count its messages: distinct dead letters (a worker "
            "that crashed before its checkpoint sends one again: counted once), repeats, "
            "per reason, and those without source headers. Exit codes: 0 counted; 2 the "
            "topic does not exist (wrong name, or no worker started yet) or bad options; "
            "3 Kafka cannot be reached or the read took longer than --timeout."
        ),
    )
    config_option(st)
    st.add_argument(
        "--topic",
        metavar="NAME",
        help="the dead-letter topic (default: [kafka] dlq_topic of the configuration)",
    )
    st.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=positive,
        default=60.0,
        help="give up after this many seconds (default: 60)",
    )
    st.add_argument(
        "--json",
        action="store_true",
        help="print the counts as one JSON object (default: a short table)",
    )
    st.set_defaults(handler=_stats)


def _stats(args: argparse.Namespace) -> int:
    from aiokafka.errors import KafkaError

    from streams.runtimes.worker.dead_letters import NoSuchTopic, dead_letter_stats

    settings = load_settings(args.config)
    kafka = settings.kafka
    topic = args.topic or kafka.dlq_topic
    # The Kafka client logs each failed attempt; the command reports the failure itself.
    quiet = logging.getLogger("aiokafka")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    try:
        stats = asyncio.run(dead_letter_stats(kafka, topic, args.timeout))
    except NoSuchTopic as exc:
        raise CliError(f"{exc.args[0]} at {kafka.bootstrap_servers}", EXIT_USAGE) from None
    except TimeoutError:
        raise CliError(
            f"reading {topic} at {kafka.bootstrap_servers} took longer than {args.timeout:g} s; "
            "is Kafka reachable? (--timeout to wait longer)",
            EXIT_UNAVAILABLE,
        ) from None
    except KafkaError as exc:
        raise CliError(str(kafka_error(settings, exc)), EXIT_UNAVAILABLE) from None
    print(_json(topic, stats) if args.json else _table(topic, stats))
    return EXIT_OK


def _json(topic: str, stats: DeadLetterStats) -> str:
    return orjson.dumps({"topic": topic, **asdict(stats)}, option=orjson.OPT_SORT_KEYS).decode()


def _table(topic: str, stats: DeadLetterStats) -> str:
    rows = [
        ("messages", stats.messages),
        ("distinct", stats.distinct),
        ("repeats", stats.repeats),
        ("unsourced", stats.unsourced),
    ]
    reasons = sorted(stats.by_reason.items(), key=lambda item: (-item[1], item[0]))
    width = max(len(name) for name, _ in [*rows, *reasons])
    lines = [f"dead letters in {topic}"]
    lines += [f"  {name:<{width}}  {count:>8,}" for name, count in rows]
    if reasons:
        lines.append("distinct by reason")
        lines += [f"  {name:<{width}}  {count:>8,}" for name, count in reasons]
    return "\n".join(lines)
