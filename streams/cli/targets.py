"""`floorwatch targets`: change service-level and SLA targets live, through Redis."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from streams.cli.support import (
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    CliError,
    config_option,
)
from streams.config import load_settings, redacted_url
from streams.control.overrides import Selector, check_key, explain, ordered, parse_assignment
from streams.core.contract import CHANNELS, PRIORITIES
from streams.core.settings import TARGET_KEYS, ConfigError, RedisSettings

if TYPE_CHECKING:  # the Redis client is imported by this command only when it runs
    from streams.control.store import Change, RedisPlane

T = TypeVar("T")

KEYS_HELP = "target keys: " + ", ".join(TARGET_KEYS)


def add_targets(commands: argparse._SubParsersAction) -> None:
    tp = commands.add_parser(
        "targets",
        help="change service-level and SLA targets live (Redis)",
        description=(
            "Live targets: overrides of the configuration file's [defaults]/[[targets]], kept "
            "in Redis and applied by every worker (and `floorwatch run`) within "
            "[redis] poll_seconds. The most specific selector wins; on equal selectors a "
            "live value beats the file's; `unset` falls back to the file. Every change is "
            "recorded with who made it: see `floorwatch targets history`."
        ),
        epilog=KEYS_HELP,
    )
    actions = tp.add_subparsers(dest="action", metavar="ACTION", required=True)

    st = actions.add_parser(
        "set",
        help="set target keys for a queue / channel / priority",
        description="Set target keys; values are validated exactly like the file's.",
        epilog="example: floorwatch targets set --queue support --channel voice "
        "answer_within_seconds=30 service_level_target=0.85",
    )
    _selector_options(st)
    st.add_argument("assignments", nargs="+", metavar="KEY=VALUE", help=KEYS_HELP)
    _who_option(st)
    st.set_defaults(handler=_set)

    un = actions.add_parser(
        "unset",
        help="remove live values (the file's apply again)",
        description="Remove live target keys of one selector; the file's values apply again.",
    )
    _selector_options(un)
    un.add_argument("keys", nargs="*", metavar="KEY", help="keys to remove (default: --all)")
    un.add_argument("--all", action="store_true", help="remove every live key of the selector")
    _who_option(un)
    un.set_defaults(handler=_unset)

    gt = actions.add_parser(
        "get",
        help="the targets in force for one queue x channel x priority, and where each comes from",
        description=(
            "Print every target key in force for one queue x channel x priority, resolved "
            "as the workers resolve it (built-in values, the file's [defaults] and "
            "[[targets]], then the live overrides), with where each value comes from."
        ),
    )
    gt.add_argument("--queue", required=True, help="the queue, as in the events (required)")
    gt.add_argument("--channel", required=True, choices=CHANNELS, help="the channel (required)")
    gt.add_argument(
        "--priority", default="normal", choices=PRIORITIES, help="the priority (default normal)"
    )
    _common(gt)
    gt.set_defaults(handler=_get)

    ls = actions.add_parser(
        "list",
        help="every live override",
        description="Print every live override kept in Redis, ordered by queue, channel and "
        'priority ("any" first), with the keys it sets.',
    )
    _common(ls)
    ls.set_defaults(handler=_list)

    hi = actions.add_parser(
        "history",
        help="the audit trail of changes, newest first",
        description="Print the recorded changes of live targets, newest first: when, who, "
        "the selector, the key and its old and new value.",
    )
    hi.add_argument("--limit", type=int, default=20, help="changes to show (default 20)")
    _common(hi)
    hi.set_defaults(handler=_history)


def _common(parser: argparse.ArgumentParser) -> None:
    config_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _selector_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", help="one queue (default: every queue)")
    parser.add_argument("--channel", choices=CHANNELS, help="one channel (default: every one)")
    parser.add_argument("--priority", choices=PRIORITIES, help="one priority (default: every)")
    config_option(parser)


def _who_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by", metavar="NAME", help="who makes the change, for the audit trail (default: OS user)"
    )


def _selector(args: argparse.Namespace) -> Selector:
    try:
        return Selector(args.queue, args.channel, args.priority)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def _with_plane(redis: RedisSettings, work: Callable[[RedisPlane], Awaitable[T]]) -> T:
    """Run `work` against Redis; a Redis that does not answer is a clear error."""
    from streams.control.store import UNREACHABLE, RedisNotConfigured, RedisPlane

    async def run() -> T:
        plane = RedisPlane(redis)
        try:
            return await work(plane)
        finally:
            await plane.close()

    try:
        return asyncio.run(run())
    except RedisNotConfigured as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except UNREACHABLE as exc:
        raise CliError(
            f"Redis at {redacted_url(redis.url)} failed ({type(exc).__name__}: {exc}); "
            "check that it runs and [redis] url (FLOORWATCH_REDIS__URL), password and TLS files",
            EXIT_UNAVAILABLE,
        ) from None


def _show(value: Any) -> str:
    """A live value for people: (file) when not set live, 30 rather than 30.0."""
    if value is None:
        return "(file)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value)


def _set(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    selector = _selector(args)
    try:
        values = dict(parse_assignment(text) for text in args.assignments)
    except ConfigError as exc:
        raise CliError(f"invalid target: {exc}", EXIT_USAGE) from None
    known = sorted(c.name for c in settings.calendars)
    if "calendar" in values and values["calendar"] not in known:
        have = ", ".join(known) or "none in the configuration"
        raise CliError(
            f"invalid target: calendar: unknown calendar {values['calendar']!r} "
            f"(calendars: {have})",
            EXIT_USAGE,
        )
    who = args.by or _current_user()
    changes = _with_plane(settings.redis, lambda p: p.change(selector, values, (), who))
    _report(selector, changes, settings.redis.poll_seconds)
    return EXIT_OK


def _unset(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    selector = _selector(args)
    if bool(args.keys) == args.all:
        raise CliError("name the keys to remove, or give --all (not both)", EXIT_USAGE)
    try:
        keys = TARGET_KEYS if args.all else tuple(check_key(k) for k in args.keys)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    who = args.by or _current_user()
    changes = _with_plane(settings.redis, lambda p: p.change(selector, {}, keys, who))
    _report(selector, changes, settings.redis.poll_seconds)
    return EXIT_OK


def _current_user() -> str:
    from streams.control.store import current_user

    return current_user()


def _report(selector: Selector, changes: list[Change], poll_seconds: float) -> None:
    if not changes:
        print(f"{selector.describe()}: nothing changed")
        return
    for change in changes:
        print(f"{selector.describe()}: {change.key} {_show(change.old)} -> {_show(change.new)}")
    print(f"workers apply it within {poll_seconds:g} s", file=sys.stderr)


def _get(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    _, overrides = _with_plane(settings.redis, lambda p: p.live_targets())
    resolved = explain(settings, overrides, args.queue, args.channel, args.priority)
    if args.json:
        print(json.dumps({k: {"value": v, "from": src} for k, (v, src) in resolved.items()}))
        return EXIT_OK
    width = max(len(k) for k in resolved)
    for key, (value, source) in resolved.items():
        print(f"{key:<{width}}  {'-' if value is None else _show(value):<12}  {source}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    version, overrides = _with_plane(settings.redis, lambda p: p.live_targets())
    listed = ordered(overrides)
    if args.json:
        rows = [
            {"queue": s.queue, "channel": s.channel, "priority": s.priority, "targets": v}
            for s, v in listed
        ]
        print(json.dumps({"version": version[0], "overrides": rows}))
        return EXIT_OK
    if not listed:
        print("no live targets: the configuration file's apply")
    for selector, values in listed:
        pairs = " ".join(f"{k}={_show(v)}" for k, v in sorted(values.items()))
        print(f"{selector.describe()}: {pairs}")
    return EXIT_OK


def _history(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise CliError("--limit must be at least 1", EXIT_USAGE)
    settings = load_settings(args.config)
    entries = _with_plane(settings.redis, lambda p: p.history(args.limit))
    if args.json:
        rows = [
            {
                "at": e.at,
                "who": e.who,
                "queue": e.selector.queue,
                "channel": e.selector.channel,
                "priority": e.selector.priority,
                "key": e.key,
                "old": e.old,
                "new": e.new,
            }
            for e in entries
        ]
        print(json.dumps(rows))
        return EXIT_OK
    if not entries:
        print("no changes recorded")
    for e in entries:
        print(f"{e.at}  {e.who}  {e.selector.describe()}: {e.key} {_show(e.old)} -> {_show(e.new)}")
    return EXIT_OK
