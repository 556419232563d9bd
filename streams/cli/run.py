"""`floorwatch run`: the embedded live mode, engine and web server in one process."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from streams.cli.formats import format_options, make_mapper
from streams.cli.receive import NO_HOOKS, checked_tls
from streams.cli.support import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    config_option,
    duration_or_zero,
    esl_source,
    listen_address,
    listen_error,
    listen_options,
    open_input,
    positive,
    scenario,
    simulator_options,
)
from streams.config import load_settings
from streams.connectors import Connector
from streams.core.clock import ScaledClock, WallClock
from streams.core.settings import ReceiveSettings, Settings
from streams.logs import configure as configure_logs
from streams.runtimes.follow import FileFollower
from streams.runtimes.state_dir import SAVE_SECONDS, StateDir, StateDirError
from streams.simulator import Pacer, Simulation

if TYPE_CHECKING:  # the server (aiohttp) is imported when the command runs
    from streams.runtimes.embedded import EmbeddedRunner

log = logging.getLogger("floorwatch.run")
IDLE_SECONDS = 0.5  # a piped source silent this long has caught up (connector timers)


def add_run(commands: argparse._SubParsersAction) -> None:
    rn = commands.add_parser(
        "run",
        help="embedded live mode: engine, /metrics, board API and wallboard in one process",
        description=(
            "Run the engine in one process with the wall clock, fed by the built-in traffic "
            "simulator (default) or by --source FILE|-, and serve /metrics, /api/v1/board, "
            "/healthz, /readyz and the live wallboard at / on 127.0.0.1. No Kafka needed. "
            "Stops cleanly on Ctrl-C or SIGTERM."
        ),
    )
    config_option(rn)
    rn.add_argument(
        "--source",
        metavar="FILE|-|freeswitch://HOST:PORT|http://HOST:PORT",
        help="read JSON Lines events (or records in the --format given) from a file or "
        "standard input, or FreeSWITCH's event socket (--format freeswitch; password from "
        "FLOORWATCH_FREESWITCH__PASSWORD, default ClueCon), or vendors' webhooks received "
        "on http://HOST:PORT (as floorwatch receive, into this engine), instead of the simulator "
        "(applied as they arrive, wall clock; default: the simulator)",
    )
    format_options(rn)
    rn.add_argument(
        "--follow",
        action="store_true",
        help="keep reading --source FILE as it grows, like tail -F: a file that appears "
        "later, rotation (the old file read to its end first), truncation",
    )
    rn.add_argument(
        "--state-dir",
        metavar="DIR",
        help="save the engine's state and the position in --source FILE here every few "
        "seconds and at stop; a restart (also after kill -9) resumes where it stopped "
        "(default: none, a restart starts empty)",
    )
    rn.add_argument(
        "--state-every",
        type=positive,
        default=SAVE_SECONDS,
        metavar="SECONDS",
        help=f"how often --state-dir is written (default {SAVE_SECONDS:g})",
    )
    simulator_options(rn, default_speed="1")
    rn.add_argument(
        "--warmup",
        type=duration_or_zero,
        default=3600.0,
        help="simulated history played at once on start, so the board is not empty "
        "(default 1h; 0 to start empty)",
    )
    listen_options(rn, port_help="port (default: [server] port, 9641; 0 = any free)")
    rn.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from streams.runtimes.embedded import (
        EmbeddedRunner,
        lines_of,
        no_lines,
        run_until_signalled,
        simulated_lines,
    )
    from streams.runtimes.receive import hooks_from

    mapper = make_mapper(args)
    if mapper is not None and args.source is None:
        raise CliError(
            f"--format {args.format} reads --source FILE|-; the simulator writes contract "
            "events (for simulated Asterisk traffic: floorwatch simulate --format asterisk "
            "--speed 1 | floorwatch run --source - --format asterisk)",
            EXIT_USAGE,
        )
    web_source = args.source is not None and args.source.startswith(("http://", "https://"))
    if web_source and (args.format != "json" or args.follow or args.state_dir is not None):
        raise CliError(
            f"--source {args.source}: webhooks name their connector by path (/hooks/twilio, "
            "/hooks/zendesk, /hooks/connect); --format, --follow and --state-dir are for a "
            "--source FILE",
            EXIT_USAGE,
        )
    esl = args.source is not None and args.source.startswith("freeswitch://")
    if esl and args.format != "freeswitch":
        raise CliError(f"--source {args.source} needs --format freeswitch", EXIT_USAGE)
    if esl and (args.follow or args.state_dir is not None):
        raise CliError(
            "--follow and --state-dir are for a --source FILE; the event socket has no "
            "position to resume (FreeSWITCH keeps no history for a client)",
            EXIT_USAGE,
        )
    followed = args.follow or args.state_dir is not None
    if followed and args.source in (None, "-"):
        option = "--follow" if args.follow else "--state-dir"
        raise CliError(
            f"{option} needs --source FILE (the simulator and standard input have no "
            "position to follow or resume)",
            EXIT_USAGE,
        )
    settings = load_settings(args.config)
    host, port = listen_address(args, settings)
    configure_logs(args.log_level)
    with ExitStack() as stack:
        if web_source:
            runner = EmbeddedRunner(settings, WallClock(), no_lines(), host, port)
            runner.receive = hook_settings(args.source, settings.receive)
            runner.hooks = hooks_from(runner.receive)
            if not runner.hooks:
                raise CliError(NO_HOOKS, EXIT_USAGE)
        elif esl:
            events = esl_source(args.source, _note).lines()
            runner = EmbeddedRunner(settings, WallClock(), events, host, port, mapper)
        elif followed:
            runner = _followed_runner(args, settings, host, port, mapper, stack)
        elif args.source is not None:
            stream, _ = open_input(args.source, stack, "run")
            idle = IDLE_SECONDS if mapper is not None else None
            lines = lines_of(stream, idle)
            runner = EmbeddedRunner(settings, WallClock(), lines, host, port, mapper)
            if args.source != "-":
                runner.source_kind = "file"
        else:
            if math.isinf(args.speed):
                raise CliError(
                    "--speed max is for simulate and replay; floorwatch run needs a number "
                    "(1 = real time, 60 = an hour per minute)",
                    EXIT_USAGE,
                )
            now = time.time()
            if args.warmup > now:
                raise CliError(
                    f"--warmup {args.warmup:g} s would start the history before 1970; "
                    "give a shorter one, e.g. 1h",
                    EXIT_USAGE,
                )
            simulation = Simulation(
                scenario(args.scenario),
                args.seed,
                start_epoch=now - args.warmup,
                id_prefix=f"s{args.seed}-{int(now)}",
            )
            clock = ScaledClock(origin=now, speed=args.speed)
            source = simulated_lines(simulation, Pacer(args.speed, origin=now), args.noise)
            runner = EmbeddedRunner(settings, clock, source, host, port)

        def listening(base: str) -> None:
            _print_urls(base)
            if runner.hook_urls:
                hooks = "  ".join(runner.hook_urls)
                print(f"floorwatch run: webhooks {hooks}", file=sys.stderr, flush=True)

        try:
            run_until_signalled(runner, listening)
        except OSError as exc:
            if runner.state.started and runner.hooks and not runner.hook_urls:  # the webhooks'
                hooks = runner.receive
                raise listen_error(hooks.host, hooks.port, exc, "--source") from None
            raise listen_error(host, port, exc) from None
    return EXIT_OK


def _followed_runner(
    args: argparse.Namespace,
    settings: Settings,
    host: str,
    port: int,
    mapper: Connector | None,
    stack: ExitStack,
) -> EmbeddedRunner:
    """--follow and/or --state-dir: the file read through a follower that knows its
    position; with --state-dir the saved state restored first and saved as it goes."""
    from streams.runtimes.embedded import EmbeddedRunner, FollowedSource, StateKeeper

    path = args.source
    if os.path.isdir(path):
        raise CliError(f"input file {path}: is a directory; give a file", EXIT_INPUT)
    if not args.follow:
        open_input(path, stack, "run")  # a missing or unreadable file: the usual error
    runner = EmbeddedRunner(settings, WallClock(), _nothing(), host, port, mapper)
    start = None
    state_dir = None
    if args.state_dir is not None:
        state_dir = StateDir(args.state_dir, os.path.abspath(path), args.format)
        try:
            state_dir.prepare()
            state_dir.attach(runner.engine)
            start = state_dir.load(runner.engine, mapper)
        except StateDirError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
    follower = FileFollower(path, follow=args.follow, start=start, note=_note)
    source = FollowedSource(follower)
    runner.source = source.lines()
    if state_dir is not None:
        runner.keeper = StateKeeper(state_dir, source, args.state_every)
    return runner


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""


def _note(message: str) -> None:
    log.info(message)


def hook_settings(url: str, base: ReceiveSettings) -> ReceiveSettings:
    """[receive] listening where --source http(s)://HOST:PORT says (https needs the
    certificate and key of [receive])."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or parts.path not in ("", "/"):
        raise CliError(
            f"--source {url}: give the address to receive webhooks on, "
            "http://HOST:PORT (e.g. http://127.0.0.1:9643)",
            EXIT_USAGE,
        )
    if parts.scheme == "https" and base.tls_cert is None:
        raise CliError(f"--source {url}: https needs [receive] tls_cert and tls_key", EXIT_USAGE)
    if parts.scheme == "http" and base.tls_cert is not None:
        raise CliError(f"--source {url}: [receive] has a certificate; give https://", EXIT_USAGE)
    return checked_tls(dataclasses.replace(base, host=parts.hostname, port=port))


def _print_urls(base: str) -> None:
    print(
        f"floorwatch run: wallboard {base}  metrics {base}metrics  board API {base}api/v1/board"
        "  (Ctrl-C to stop)",
        file=sys.stderr,
        flush=True,
    )
