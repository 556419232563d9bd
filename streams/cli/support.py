"""What the `floorwatch` commands share: exit codes, errors, common options and argument
types, input and output files, the simulator options and the Kafka error advice."""

from __future__ import annotations

import argparse
import errno
import math
import os
import re
import socket
import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, BinaryIO, NoReturn

from streams.core.settings import ConfigError, Settings, parse_duration
from streams.simulator import Scenario, ScenarioError, list_scenarios, load_scenario
from streams.web.access import InsecureAddress, check_exposure

if TYPE_CHECKING:
    from aiokafka.errors import KafkaError

    from streams.runtimes.esl import EslSource

EXIT_OK = 0
EXIT_INPUT = 1  # unusable input: missing or unreadable file
EXIT_USAGE = 2  # bad options or configuration
EXIT_UNAVAILABLE = 3  # a service the command needs (Redis, a worker) does not answer


class CliError(Exception):
    """An error the user can fix: printed as one line `floorwatch COMMAND: message`, and
    the process exits with `code` (EXIT_INPUT, EXIT_USAGE or EXIT_UNAVAILABLE)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse with errors on one line, worded like the commands' own errors:
    `floorwatch run: argument --port: ...; see floorwatch run --help` (exit code 2).
    Subcommand parsers are of the same class (argparse makes them of its type)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}; see {self.prog} --help\n")


def config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="TOML configuration (default: $FLOORWATCH_CONFIG, else ./floorwatch.toml "
        "if present, else built-in defaults)",
    )


# ---------------------------------------------------------------- argument types


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < math.inf:  # NaN too
        raise argparse.ArgumentTypeError(f"{text} must be a number greater than 0")
    return value


def duration(text: str) -> float:
    """Seconds (90, 2.5) or a duration like 30s, 15m, 1h or 7d; greater than 0."""
    if not text[-1:].isalpha():
        return positive(text)
    try:
        return float(parse_duration(text, "duration"))
    except ConfigError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: give seconds or a number with s, m, h or d "
            "(e.g. 90, 30s, 15m, 1h, 7d)"
        ) from None


_ZERO = re.compile(r"^0+(\.0+)?[smhd]?$")


def duration_or_zero(text: str) -> float:
    """A duration, or 0 (also 0s, 0m...)."""
    return 0.0 if text and _ZERO.match(text) else duration(text)


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (0-65535)") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (0-65535)")
    return value


def progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress line on stderr (default: auto = when stderr is a terminal)",
    )


def progress_wanted(choice: str) -> bool:
    """--progress: always, or auto when stderr is a terminal."""
    return choice == "always" or (choice == "auto" and sys.stderr.isatty())


# ---------------------------------------------------------------- serving: run and worker


def listen_options(parser: argparse.ArgumentParser, port_help: str) -> None:
    parser.add_argument("--host", help="address to listen on (default: [server] host, 127.0.0.1)")
    parser.add_argument("--port", type=port, help=port_help)
    parser.add_argument(
        "--log-level",
        default="info",
        choices=("debug", "info", "warning", "error"),
        help="least severe log records written, as JSON lines on stderr (default info)",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="serve the wallboard and API on a non-loopback --host without [server] token "
        "(default: refused)",
    )


def listen_address(args: argparse.Namespace, settings: Settings) -> tuple[str, int]:
    """--host and --port, else [server]; a host this machine cannot listen on is refused
    here, before anything starts."""
    host = args.host or settings.server.host
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise host_error(host, str(getattr(exc, "strerror", None) or exc)) from None
    try:
        check_exposure(host, settings.server.token, args.insecure)
    except InsecureAddress as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    return host, settings.server.port if args.port is None else args.port


def host_error(host: str, reason: str) -> CliError:
    return CliError(
        f"--host {host}: not an address this machine can listen on ({reason}); give one of "
        "its addresses or names, e.g. 127.0.0.1, or 0.0.0.0 for every interface",
        EXIT_USAGE,
    )


def listen_error(host: str, port: int, exc: OSError, where: str = "--port") -> CliError:
    """What to change, --host or the port (`where` it is given), for an address that
    cannot be listened on."""
    if exc.errno is None or exc.errno < 0:  # getaddrinfo's errors are negative
        return host_error(host, exc.strerror or str(exc))
    reason = os.strerror(exc.errno)  # asyncio wraps it in a sentence of its own
    if exc.errno == errno.EADDRNOTAVAIL:
        return host_error(host, reason)
    if exc.errno == errno.EACCES:
        reason += " (ports below 1024 need privileges)"
    return CliError(
        f"cannot listen on {host}:{port}: {reason}; choose another port in {where} (0 = any free)",
        EXIT_INPUT,
    )


def esl_source(url: str, note: Callable[[str], None]) -> EslSource:
    """FreeSWITCH's event socket at freeswitch://HOST:PORT (a bad address: exit 2)."""
    from streams.runtimes.esl import EslSource, parse_address

    try:
        host, port = parse_address(url)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    return EslSource(host, port, note=note)


def kafka_error(settings: Settings, exc: KafkaError) -> CliError:
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


# ---------------------------------------------------------------- the simulator: run and simulate


def _speed(text: str) -> float:
    if text.lower() in ("max", "inf"):
        return math.inf
    return positive(text)


def _noise(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 0.5:
        raise argparse.ArgumentTypeError("--noise is a share between 0 and 0.5")
    return value


def simulator_options(parser: argparse.ArgumentParser, default_speed: str) -> None:
    names = ", ".join(list_scenarios())
    parser.add_argument(
        "--scenario",
        default="contact-centre",
        help=f"shipped scenario ({names}) or a scenario TOML file (default contact-centre)",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="random seed (same seed, same traffic; default 1)"
    )
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


def scenario(name: str) -> Scenario:
    try:
        return load_scenario(name)
    except ScenarioError as exc:
        raise CliError(f"scenario {name}: {exc}", EXIT_USAGE) from None
    except OSError as exc:
        raise CliError(f"scenario {name}: cannot be read: {exc.strerror}", EXIT_INPUT) from None


# ---------------------------------------------------------------- files: run, replay, simulate


def open_input(path: str, stack: ExitStack, command: str) -> tuple[BinaryIO, int | None]:
    """A JSON Lines input (- for standard input) and its size when known. Standard input
    that is a terminal gets a word on stderr, so the command does not wait silently."""
    if path == "-":
        if sys.stdin.isatty():
            print(
                f"floorwatch {command}: reading events from standard input (end with Ctrl-D)",
                file=sys.stderr,
                flush=True,
            )
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


def open_output(path: str, stack: ExitStack, what: str) -> BinaryIO:
    """An output file (- for standard output); `what` names the option in errors."""
    if path == "-":
        return sys.stdout.buffer
    try:
        return stack.enter_context(open(path, "wb"))
    except OSError as exc:
        raise CliError(f"{what} {path}: cannot be written: {exc.strerror}", EXIT_INPUT) from None
