"""`floorwatch board`: the board API of a worker (the whole cluster) or of `floorwatch
run` as 80-column tables that refresh: queues, or --agents, --at-risk, --moves; and the
client of `floorwatch staffing moves`."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
import urllib.parse
from collections.abc import Callable
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
from streams.read import terminal

CLEAR = "\x1b[H\x1b[2J"
API = "/api/v1/"
VIEWS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {  # view -> (path, text)
    "board": ("board", lambda board: terminal.render_board(board)),
    "agents": ("agents", terminal.render_agents),
    "at_risk": ("contacts", terminal.render_contacts),
    "moves": ("staffing/moves", terminal.render_moves),
}


def add_board(commands: argparse._SubParsersAction) -> None:
    bp = commands.add_parser(
        "board",
        help="the live board in the terminal: queues, agents, contacts at risk, moves",
        description=(
            "Show the board API as 80-column tables refreshed every --interval seconds: of "
            "a worker (every queue of the cluster, from Redis) or of `floorwatch run`; when "
            "it cannot be read, the error shows and it tries again. Live queues (voice, "
            "chat) show waiting, longest wait and service level over --window (default 15m "
            "when served, else the first window) and today; asynchronous ones their open "
            "contacts, first replies and SLAs. --agents, --at-risk and --moves show the "
            "agents, the contacts at risk or breached, and the suggested staffing moves. "
            "Durations read m:ss, then 1h02, then 3d04h. Sends [server] token when set."
        ),
    )
    bp.add_argument(
        "--url",
        help="the board API (default: http://<[server] host>:<[server] port>/api/v1/board); "
        "the other views are read beside it",
    )
    view = bp.add_mutually_exclusive_group()
    view.add_argument("--agents", action="store_true", help="agents: state, time, activity")
    view.add_argument(
        "--at-risk", action="store_true", help="contacts at risk or breached, most urgent first"
    )
    view.add_argument("--moves", action="store_true", help="suggested staffing moves")
    bp.add_argument("--team", help="one team's queues and agents (default: every team)")
    bp.add_argument("--queue", help="one queue, or several: a,b (default: every queue)")
    bp.add_argument(
        "--limit", type=int, default=30, help="rows of --agents and --at-risk (default 30)"
    )
    bp.add_argument(
        "--interval", type=float, default=2.0, help="seconds between refreshes (default 2)"
    )
    bp.add_argument(
        "--window",
        help="service-level window, one the board serves, e.g. 15m or today (default: 15m)",
    )
    bp.add_argument("--once", action="store_true", help="print the table once and exit")
    config_option(bp)
    bp.set_defaults(handler=_board)


def _view(args: argparse.Namespace) -> str:
    if getattr(args, "agents", False):
        return "agents"
    if getattr(args, "at_risk", False):
        return "at_risk"
    if getattr(args, "moves", False):
        return "moves"
    return "board"


def view_url(base: str, view: str, args: argparse.Namespace) -> str:
    """The API URL of a view, from the board URL (or any URL ending in /api/v1/...)."""
    root = base.split(API, 1)[0] if API in base else base.rstrip("/")
    query = {
        key: value
        for key, value in (
            ("team", getattr(args, "team", None)),
            ("queue", getattr(args, "queue", None)),
        )
        if value
    }
    if view in ("agents", "at_risk"):
        query["limit"] = str(getattr(args, "limit", 30))
    suffix = "?" + urllib.parse.urlencode(query) if query else ""
    return root + API + VIEWS[view][0] + suffix


def _board(args: argparse.Namespace) -> int:
    if not 0 < args.interval < math.inf:
        raise CliError(f"--interval {args.interval:g}: must be a positive number", EXIT_USAGE)
    if not 1 <= args.limit <= 10_000:
        raise CliError(f"--limit {args.limit}: must be from 1 to 10000", EXIT_USAGE)
    settings = load_settings(args.config)
    if args.window is not None and not _is_window(args.window):
        raise CliError(
            f"--window {args.window}: not a window; the configured ones are "
            + ", ".join(settings.windows),
            EXIT_USAGE,
        )
    base = args.url or f"http://{settings.server.host}:{settings.server.port}/api/v1/board"
    view = _view(args)
    url = view_url(base, view, args)
    token = settings.server.token
    live = sys.stdout.isatty() and not args.once
    while True:
        try:
            # at risk, soonest due first, then the most overdue (as on the wallboard)
            found = _at_risk(url, token, args.limit) if view == "at_risk" else fetch(url, token)
        except CliError as error:
            if args.once:
                raise
            table = f"{error}\n(trying again every {args.interval:g} s)"
        else:
            if view == "board":
                _check_window(args.window, found)
                table = render(found, args.window)
            else:
                table = VIEWS[view][1](found)
        print((CLEAR if live else "") + table, flush=True)
        if args.once:
            return EXIT_OK
        time.sleep(args.interval)


def _at_risk(url: str, token: str | None, limit: int) -> dict[str, Any]:
    """Contacts at risk (soonest due first) then breached (most overdue first), as the
    wallboard lists them, at most `limit`."""
    join = "&" if "?" in url else "?"
    at_risk = fetch(f"{url}{join}sla=at_risk", token)
    breached = fetch(f"{url}{join}sla=breached", token)
    return {
        "now": at_risk.get("now"),
        "total": at_risk["total"] + breached["total"],
        "at_risk": at_risk["total"],
        "breached": breached["total"],
        "contacts": [*at_risk["contacts"], *breached["contacts"]][:limit],
    }


def moves_command(args: argparse.Namespace) -> int:
    """`floorwatch staffing moves` (its options are in streams/cli/staffing.py): the
    suggested moves of a running instance, once."""
    settings = load_settings(args.config)
    base = args.url or f"http://{settings.server.host}:{settings.server.port}/api/v1/board"
    found = fetch(view_url(base, "moves", args), settings.server.token)
    print(json.dumps(found, indent=2) if args.json else terminal.render_moves(found))
    return EXIT_OK


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


def fetch(url: str, token: str | None = None) -> dict[str, Any]:
    """GET a JSON document of the API, with the token as a bearer token when given."""
    import urllib.error  # with the HTTP client: imported by the commands that read the API
    import urllib.request

    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            board: dict[str, Any] = json.load(response)
            return board
    except ValueError:  # JSON, or a URL that is not one
        raise CliError(f"{url} did not answer a board (JSON)", EXIT_UNAVAILABLE) from None
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")
        with contextlib.suppress(ValueError, KeyError, TypeError):
            detail = json.loads(detail)["error"]
        if error.code == 401:
            detail = "a token is needed: set [server] token (or FLOORWATCH_SERVER__TOKEN)"
        raise CliError(f"{url} answered {error.code}: {detail}", EXIT_UNAVAILABLE) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise CliError(
            f"cannot reach {url} ({reason}); is a worker or `floorwatch run` serving there? "
            "Give --url or [server] host/port",
            EXIT_UNAVAILABLE,
        ) from None


def render(board: dict[str, Any], window: str | None = None) -> str:
    """The board as 80-column tables (pure: tested without a terminal)."""
    return terminal.render_board(board, window)
