"""`floorwatch board`: the board API of a worker (the whole cluster) or of `floorwatch
run`, as a terminal table that refreshes."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from streams.cli.support import (
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    CliError,
    config_option,
)
from streams.config import load_settings
from streams.core.settings import ConfigError, parse_duration

CLEAR = "\x1b[H\x1b[2J"
COLUMNS = (
    ("queue", 14),
    ("channel", 9),
    ("waiting", 7),
    ("longest", 8),
    ("SL", 6),
    ("target", 6),
    ("breached", 8),
    ("at risk", 7),
    ("avail", 5),
    ("status", 6),
)


def add_board(commands: argparse._SubParsersAction) -> None:
    bp = commands.add_parser(
        "board",
        help="the live board in the terminal (every queue of the cluster)",
        description=(
            "Show /api/v1/board as a table refreshed every --interval seconds: of a worker "
            "(every queue of the cluster, from Redis) or of `floorwatch run`; when it cannot "
            "be read, the error shows and it tries again. SL is the "
            "service level over the --window (default: the first configured window)."
        ),
    )
    bp.add_argument(
        "--url",
        help="the board API (default: http://<[server] host>:<[server] port>/api/v1/board)",
    )
    bp.add_argument(
        "--interval", type=float, default=2.0, help="seconds between refreshes (default 2)"
    )
    bp.add_argument(
        "--window",
        help="service-level window, one the board serves, e.g. 15m or today (default: the first)",
    )
    bp.add_argument("--once", action="store_true", help="print the table once and exit")
    config_option(bp)
    bp.set_defaults(handler=_board)


def _board(args: argparse.Namespace) -> int:
    if not 0 < args.interval < math.inf:
        raise CliError(f"--interval {args.interval:g}: must be a positive number", EXIT_USAGE)
    settings = load_settings(args.config)
    if args.window is not None and not _is_window(args.window):
        raise CliError(
            f"--window {args.window}: not a window; the configured ones are "
            + ", ".join(settings.windows),
            EXIT_USAGE,
        )
    url = args.url or f"http://{settings.server.host}:{settings.server.port}/api/v1/board"
    live = sys.stdout.isatty() and not args.once
    while True:
        try:
            board = fetch(url)
        except CliError as error:
            if args.once:
                raise
            table = f"{error}\n(trying again every {args.interval:g} s)"
        else:
            _check_window(args.window, board)
            table = render(board, args.window)
        print((CLEAR if live else "") + table, flush=True)
        if args.once:
            return EXIT_OK
        time.sleep(args.interval)


def _is_window(text: str) -> bool:
    """`today` or a duration: what [windows] may hold."""
    try:
        return text == "today" or parse_duration(text, "--window") > 0
    except ConfigError:
        return False


def _check_window(window: str | None, board: dict[str, Any]) -> None:
    """--window must be one the board serves (its server's configured windows)."""
    served = board.get("windows") or []
    if window is not None and served and window not in served:
        raise CliError(
            f"--window {window}: not a window of this board; choose one of "
            + ", ".join(map(str, served)),
            EXIT_USAGE,
        )


def fetch(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            board: dict[str, Any] = json.load(response)
            return board
    except ValueError:  # JSON, or a URL that is not one
        raise CliError(f"{url} did not answer a board (JSON)", EXIT_UNAVAILABLE) from None
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")
        with contextlib.suppress(ValueError, KeyError, TypeError):
            detail = json.loads(detail)["error"]
        raise CliError(f"{url} answered {error.code}: {detail}", EXIT_UNAVAILABLE) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise CliError(
            f"cannot reach {url} ({reason}); is a worker or `floorwatch run` serving there? "
            "Give --url or [server] host/port",
            EXIT_UNAVAILABLE,
        ) from None


def render(board: dict[str, Any], window: str | None = None) -> str:
    """The board as a fixed-width table (pure: tested without a terminal)."""
    windows = board.get("windows") or []
    window = window or (windows[0] if windows else None)
    header = "  ".join(f"{name:<{width}}" for name, width in COLUMNS)
    lines = [
        f"floorwatch board  now {board.get('now') or '-'}  SL window {window or '-'}"
        + (f"  workers {len(board['workers'])}" if "workers" in board else ""),
        header,
        "-" * len(header),
    ]
    for tile in board.get("queues", []):
        sl = tile.get("windows", {}).get(window, {}).get("service_level_ratio")
        target = tile["targets"]["service_level"]
        cells = (
            tile["queue"],
            tile["channel"],
            str(tile["live"]["waiting"]),
            f"{tile['live']['longest_wait_seconds']:.0f}s",
            "-" if sl is None else f"{sl:.0%}",
            "-" if target is None else f"{target:.0%}",
            str(tile["sla"]["breached"]),
            str(tile["sla"]["at_risk"]),
            str(tile["agents"]["available"]),
            tile["status"]["overall"],
        )
        lines.append("  ".join(f"{c:<{w}.{w}}" for c, (_, w) in zip(cells, COLUMNS, strict=True)))
    if not board.get("queues"):
        lines.append("(no queues yet)")
    return "\n".join(lines)
