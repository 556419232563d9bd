"""The `floorwatch` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import ExitStack
from typing import BinaryIO

from aiokafka.errors import KafkaError

from streams import __version__, kafka_client
from streams.cli.board import add_board
from streams.cli.support import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    config_option,
)
from streams.cli.targets import add_targets
from streams.config import load_settings
from streams.core.clock import ScaledClock, WallClock
from streams.core.intake import Rejection, parse_timestamp
from streams.core.settings import ConfigError, Settings, parse_duration
from streams.logs import configure as configure_logs
from streams.read import staffing
from streams.read.exporter import exposition
from streams.runtimes.embedded import EmbeddedRunner, lines_of, run_until_signalled, simulated_lines
from streams.runtimes.process import tune_gc
from streams.runtimes.progress import Progress
from streams.runtimes.replay import rejects_summary, replay
from streams.simulator import (
    TIME_FORMATS,
    Emission,
    Pacer,
    Scenario,
    ScenarioError,
    Simulation,
    backdated_start,
    list_scenarios,
    load_scenario,
    paced,
)


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
        help="write each rejected line with its reason as JSON Lines",
    )
    rp.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress line on stderr (default: auto = when stderr is a terminal)",
    )
    rp.add_argument(
        "--decode-process",
        choices=("auto", "on", "off"),
        default="auto",
        help="decode and validate a FILE in a second process while this one applies the "
        "events (default auto: on when the machine has two or more cores; standard input is "
        "always read in one process)",
    )
    rp.set_defaults(handler=_replay)
    _add_run(commands)
    _add_worker(commands)
    _add_simulate(commands)
    _add_staffing(commands)
    add_targets(commands)
    add_board(commands)
    return parser


def _add_worker(commands: argparse._SubParsersAction) -> None:
    wk = commands.add_parser(
        "worker",
        help="distributed mode: a Faust worker consuming the [kafka] topic",
        description=(
            "Run one Faust worker of the consumer group: contact stage keeps each contact's state "
            "(Table by contact_id), queue stage each queue's windows and SLA clocks (Table by "
            "queue, fed through the facts topic). Rejected messages go to the dead-letter "
            "topic. Serves /metrics (the queues of the partitions it owns, and consumer "
            "lag), /api/v1/board, /healthz and /readyz. Start several with different "
            "--port values to share the partitions. Configure Kafka with [kafka] or "
            "FLOORWATCH_KAFKA__* variables and the Table store with [worker]."
        ),
    )
    config_option(wk)
    wk.add_argument("--host", help="address to listen on (default: [server] host, 127.0.0.1)")
    wk.add_argument("--port", type=int, help="port (default: [server] port, 9641)")
    wk.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    wk.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    from streams.runtimes.worker.runner import run_worker  # Faust is imported only by this command

    settings = load_settings(args.config)
    host, port = _listen_address(args, settings)
    configure_logs(args.log_level)
    try:
        return run_worker(settings, host, port, args.log_level)
    except KafkaError as exc:
        raise _kafka_error(settings, exc) from None


def _listen_address(args: argparse.Namespace, settings: Settings) -> tuple[str, int]:
    """--host and --port, else [server]."""
    host = args.host or settings.server.host
    return host, settings.server.port if args.port is None else args.port


def _kafka_error(settings: Settings, exc: KafkaError) -> CliError:
    """What to check, for the security protocol in use: aiokafka reports a refused login
    or certificate only in its log, and then fails as if the broker were unreachable."""
    kafka = settings.kafka
    checks = ["[kafka] bootstrap_servers (FLOORWATCH_KAFKA__BOOTSTRAP_SERVERS)"]
    if kafka.security_protocol.startswith("SASL"):
        checks.append(
            f"the SASL login ({kafka.sasl_mechanism} as {kafka.sasl_username!r}: "
            "sasl_mechanism, sasl_username, FLOORWATCH_KAFKA__SASL_PASSWORD)"
        )
    if kafka.security_protocol.endswith("SSL"):
        checks.append(
            "TLS (ssl_cafile must hold the CA of the broker's certificate; ssl_certfile and "
            "ssl_keyfile when the broker asks for a client certificate)"
        )
    listener = f"; the address must be the broker's {kafka.security_protocol} listener"
    return CliError(
        f"cannot reach Kafka at {kafka.bootstrap_servers}: {exc}; check "
        + ", ".join(checks)
        + (listener if kafka.security_protocol != "PLAINTEXT" else ""),
        EXIT_INPUT,
    )


def _add_run(commands: argparse._SubParsersAction) -> None:
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
        metavar="FILE|-",
        help="read JSON Lines events from a file or standard input instead of the "
        "simulator (applied as they arrive, wall clock)",
    )
    _simulator_options(rn, default_speed="1")
    rn.add_argument(
        "--warmup",
        type=_duration,
        default=3600.0,
        help="simulated history played at once on start, so the board is not empty "
        "(default 1h; 0 to start empty)",
    )
    rn.add_argument("--host", help="address to listen on (default: [server] host, 127.0.0.1)")
    rn.add_argument("--port", type=int, help="port (default: [server] port, 9641; 0 = any free)")
    rn.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    rn.set_defaults(handler=_run)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
    return value


def _duration(text: str) -> float:
    try:
        return float(parse_duration(text, "duration")) if text[-1:].isalpha() else _positive(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    host, port = _listen_address(args, settings)
    configure_logs(args.log_level)
    with ExitStack() as stack:
        if args.source is not None:
            stream, _ = _open_input(args.source, stack)
            runner = EmbeddedRunner(settings, WallClock(), lines_of(stream), host, port)
        else:
            if math.isinf(args.speed):
                raise CliError(
                    "--speed max is for simulate and replay; floorwatch run needs a number "
                    "(1 = real time, 60 = an hour per minute)",
                    EXIT_USAGE,
                )
            now = time.time()
            simulation = Simulation(
                _scenario(args.scenario),
                args.seed,
                start_epoch=now - args.warmup,
                id_prefix=f"s{args.seed}-{int(now)}",
            )
            clock = ScaledClock(origin=now, speed=args.speed)
            source = simulated_lines(simulation, Pacer(args.speed, origin=now), args.noise)
            runner = EmbeddedRunner(settings, clock, source, host, port)
        try:
            run_until_signalled(runner, _print_urls)
        except OSError as exc:
            raise CliError(
                f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port",
                EXIT_INPUT,
            ) from None
    return EXIT_OK


def _speed(text: str) -> float:
    if text.lower() in ("max", "inf"):
        return math.inf
    return _positive(text)


def _noise(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 0.5:
        raise argparse.ArgumentTypeError("--noise is a share between 0 and 0.5")
    return value


def _simulator_options(parser: argparse.ArgumentParser, default_speed: str) -> None:
    names = ", ".join(list_scenarios())
    parser.add_argument(
        "--scenario",
        default="contact-centre",
        help=f"shipped scenario ({names}) or a scenario TOML file (default contact-centre)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same traffic)")
    parser.add_argument(
        "--speed",
        type=_speed,
        default=_speed(default_speed),
        help=f"1 = real time, 60 = 60x faster, max = as fast as possible (default {default_speed})",
    )
    parser.add_argument(
        "--noise",
        type=_noise,
        default=0.0,
        help="share of duplicates, out-of-order and malformed messages to inject "
        "(e.g. 0.02; default 0)",
    )


def _scenario(name: str) -> Scenario:
    try:
        return load_scenario(name)
    except ScenarioError as exc:
        raise CliError(f"scenario {name}: {exc}", EXIT_USAGE) from None
    except OSError as exc:
        raise CliError(f"scenario {name}: cannot be read: {exc.strerror}", EXIT_INPUT) from None


def _add_simulate(commands: argparse._SubParsersAction) -> None:
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
    _simulator_options(sm, default_speed="max")
    sm.add_argument(
        "--duration",
        type=_duration,
        help="simulated time to generate, e.g. 8h or 1d (default 1d unless --events)",
    )
    sm.add_argument("--events", type=int, help="stop after this many messages")
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
    sm.add_argument("--out", default="-", metavar="FILE|-", help="output (default: stdout)")
    sm.add_argument(
        "--kafka",
        action="store_true",
        help="produce to the Kafka topic of [kafka] (key = contact_id or agent_id) "
        "instead of --out; the topic is created when missing",
    )
    config_option(sm)
    sm.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress line on stderr (default: when stderr is a terminal)",
    )
    sm.set_defaults(handler=_simulate)


async def _simulate_to_kafka(
    settings: Settings,
    messages: Iterator[Emission],
    speed: float,
    start: float,
    progress: Progress | None,
) -> int:
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
        raise _kafka_error(settings, exc) from None


def _simulate(args: argparse.Namespace) -> int:
    if args.events is not None and args.events <= 0:
        raise CliError("--events must be at least 1", EXIT_USAGE)
    duration = args.duration
    if duration is None and args.events is None:
        duration = 86400.0
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
        start = backdated_start(
            duration if duration is not None else 86400.0, args.speed, time.time()
        )
    simulation = Simulation(
        _scenario(args.scenario),
        args.seed,
        start_epoch=start,
        time_format=args.time_format,
        id_prefix=f"s{args.seed}-{int(start)}" if args.unique_ids else None,
    )
    messages = simulation.messages(duration, max_events=args.events, noise=args.noise)
    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    progress = Progress(sys.stderr, "simulate", None) if show else None
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
        out = _open_output(args.out, stack, "--out")
        for count, message in enumerate(messages, start=1):
            out.write(message.line)
            if progress is not None and not count % 10000:
                progress.update(count, None)
        out.flush()
    if progress is not None:
        progress.finish(count)
    return EXIT_OK


def _print_urls(base: str) -> None:
    print(
        f"floorwatch run: wallboard {base}  metrics {base}metrics  board API {base}api/v1/board"
        "  (Ctrl-C to stop)",
        file=sys.stderr,
        flush=True,
    )


def _add_staffing(commands: argparse._SubParsersAction) -> None:
    sp = commands.add_parser(
        "staffing",
        help="what-if Erlang C calculator: agents needed for a service-level target",
        description=(
            "Erlang C what-if calculator for planners: given the contacts expected in an "
            "interval, the average handle time and the target, print the fewest agents that "
            "meet it (within the maximum occupancy, divided by 1 - shrinkage) and the service "
            "level, average speed of answer and occupancy for a range of agents around it."
        ),
    )
    sp.add_argument("--contacts", type=float, required=True, help="contacts in the interval")
    sp.add_argument(
        "--interval",
        type=_duration,
        default=1800.0,
        help="interval length: seconds or a duration like 30m (default 30m)",
    )
    sp.add_argument("--aht", type=_positive, required=True, help="average handle time, seconds")
    sp.add_argument(
        "--target", type=float, default=0.8, help="service-level target as a ratio (default 0.8)"
    )
    sp.add_argument(
        "--answer-within",
        type=_positive,
        default=20.0,
        help="answer within this many seconds (default 20)",
    )
    sp.add_argument(
        "--shrinkage", type=float, default=0.0, help="share of paid time off the phones"
    )
    sp.add_argument(
        "--max-occupancy",
        type=float,
        default=1.0,
        help="highest acceptable occupancy (default 1.0: no cap)",
    )
    sp.add_argument("--around", type=int, default=3, help="rows above and below the answer")
    sp.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sp.set_defaults(handler=_staffing)


def _staffing(args: argparse.Namespace) -> int:
    if args.contacts < 0:
        raise CliError("--contacts must be 0 or more", EXIT_USAGE)
    try:
        demand = staffing.StaffingInput(
            arrivals_per_second=staffing.per_interval(args.contacts, args.interval),
            aht_seconds=args.aht,
            answer_within_seconds=args.answer_within,
            service_level_target=args.target,
            max_occupancy=args.max_occupancy,
            shrinkage=args.shrinkage,
        )
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
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
    settings = load_settings(args.config)
    with ExitStack() as stack:
        source, size = _open_input(args.file, stack)
        metrics_out = _open_output(args.metrics_out, stack, "--metrics-out")
        rejects = (
            _open_output(args.rejects_out, stack, "--rejects-out") if args.rejects_out else None
        )
        show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
        progress = Progress(sys.stderr, "replay", size) if show else None
        decode_process = args.file != "-" and (
            args.decode_process == "on"
            or (args.decode_process == "auto" and (os.cpu_count() or 1) >= 2)
        )
        engine = replay(
            source, settings, rejects=rejects, progress=progress, decode_process=decode_process
        )
        metrics_out.write(exposition(engine))
        metrics_out.flush()
    rejects_summary(engine, sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
