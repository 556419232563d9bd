"""Scenario files: queues, channels, arrival profiles and agents, parsed and validated.

A scenario is a small TOML file; every problem is a `ScenarioError` whose message starts
with the key, e.g. ``queues[2].arrivals.per_hour: expected 24 numbers, got 23``. The
format is in ``streams/simulator/scenarios/README.md``, beside the shipped scenarios.
"""

from __future__ import annotations

import bisect
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streams.core.contract import CHANNELS, LIVE_CHANNELS, PRIORITIES

__all__ = [
    "SCENARIO_DIR",
    "AgentGroup",
    "ArrivalProfile",
    "Break",
    "Duration",
    "QueueSpec",
    "Scenario",
    "ScenarioError",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
]

#: Where the shipped scenarios are (package data next to this module).
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

ASYNC_CHANNELS = frozenset(c for c in CHANNELS if c not in LIVE_CHANNELS)
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_AGENT_GROUP = re.compile(r"[A-Za-z0-9_.-]{1,48}")


class ScenarioError(ValueError):
    """A problem in a scenario: `key` is the offending key (``queues[1].channel``) and
    `problem` what is wrong with it; the message is ``key: problem`` (or the problem alone
    when no key is to blame, e.g. invalid TOML)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key = key
        self.problem = problem


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Duration:
    """A log-normal duration given by its mean (seconds) and the sigma of its logarithm:
    a queue's handle time or after-contact work, drawn afresh for each contact."""

    mean: float
    sigma: float

    @property
    def mu(self) -> float:
        """Mean of the underlying normal, so that the log-normal has mean `mean`."""
        return math.log(self.mean) - self.sigma * self.sigma / 2 if self.mean > 0 else 0.0


@dataclass(frozen=True)
class ArrivalProfile:
    """Contacts per hour as a function of the local hour of the day (repeats every day).

    ``step``: 24 hourly rates, constant within each hour. ``linear``: (hour, rate) points
    linearly interpolated, wrapping around midnight.
    """

    kind: str  # "step" | "linear"
    hours: tuple[float, ...]
    rates: tuple[float, ...]
    scale: float = 1.0

    @classmethod
    def flat(cls, rate: float) -> ArrivalProfile:
        return cls("step", tuple(float(h) for h in range(24)), (float(rate),) * 24)

    @property
    def max_rate(self) -> float:
        return max(self.rates) * self.scale

    def rate(self, hour: float) -> float:
        """Contacts per hour at local hour `hour` (0 <= hour < 24)."""
        if self.kind == "step":
            return self.rates[min(int(hour), 23)] * self.scale
        hours, rates = self.hours, self.rates
        if len(hours) == 1:
            return rates[0] * self.scale
        i = bisect.bisect_right(hours, hour)
        if i == 0:  # before the first point: between the last point (yesterday) and the first
            h0, r0, h1, r1 = hours[-1] - 24, rates[-1], hours[0], rates[0]
        elif i == len(hours):  # after the last point: towards the first point (tomorrow)
            h0, r0, h1, r1 = hours[-1], rates[-1], hours[0] + 24, rates[0]
        else:
            h0, r0, h1, r1 = hours[i - 1], rates[i - 1], hours[i], rates[i]
        if h1 <= h0:
            return r1 * self.scale
        return (r0 + (r1 - r0) * (hour - h0) / (h1 - h0)) * self.scale

    def daily_total(self) -> float:
        """Expected contacts per day (numerically, 1-minute steps for linear profiles)."""
        if self.kind == "step":
            return sum(self.rates) * self.scale
        return sum(self.rate((m + 0.5) / 60) for m in range(24 * 60)) / 60


@dataclass(frozen=True)
class QueueSpec:
    """One queue on one channel, with its arrivals and its customers' behaviour: priorities,
    patience, handle times, transfers, overflow and surveys; holds and greetings on live
    channels, replies and reopens on asynchronous ones."""

    name: str
    channel: str
    arrivals: ArrivalProfile
    team: str | None = None
    priority: tuple[tuple[str, float], ...] = (("normal", 1.0),)  # weights, in PRIORITIES order
    patience_seconds: float = math.inf  # mean of an exponential; inf = never abandons
    handle: Duration = Duration(300.0, 0.6)  # live: talk time; async: work per response
    after_contact_work: Duration = Duration(0.0, 0.0)
    survey_share: float = 0.0
    survey_delay_seconds: float = 600.0
    transfer_share: float = 0.0
    transfer_to: tuple[str, ...] = ()
    overflow_after_seconds: float | None = None
    overflow_to: str | None = None
    # live channels
    first_contact_share: float = 0.75
    hold_share: float = 0.0  # voice
    hold_seconds: float = 60.0  # voice, mean of an exponential
    first_response_seconds: float = 8.0  # chat: greeting after the answer, mean
    # async channels
    resolve_share: float = 0.6
    reply_seconds: float = 7200.0
    reopen_share: float = 0.0
    reopen_seconds: float = 21600.0
    max_responses: int = 5

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.channel)

    @property
    def live(self) -> bool:
        return self.channel in LIVE_CHANNELS

    @property
    def label(self) -> str:
        return f"{self.name}/{self.channel}"


@dataclass(frozen=True)
class Break:
    """A break in every shift of an agent group: `minutes` long, `after_hours` into the
    shift, each agent's start moved by up to the group's `break_jitter_minutes` either way."""

    after_hours: float  # from the start of the shift
    minutes: float


@dataclass(frozen=True)
class AgentGroup:
    """`count` agents with the same skills (queue names) and channels, who work the
    group's shifts (assigned round-robin), take its breaks and belong to its team."""

    name: str
    count: int
    skills: tuple[str, ...]
    channels: tuple[str, ...]  # channels served (of the skill queues)
    shifts: tuple[tuple[float, float], ...] = ((0.0, 24.0),)  # local (start, end) hours
    breaks: tuple[Break, ...] = ()
    break_jitter_minutes: float = 10.0
    team: str | None = None

    def serves(self, queue: QueueSpec) -> bool:
        return queue.name in self.skills and queue.channel in self.channels


@dataclass(frozen=True)
class Scenario:
    """A whole scenario as `load_scenario` reads it: queues, agent groups and time zone.
    `scaled` makes a copy with more or fewer arrivals or agents, for comparisons."""

    name: str
    queues: tuple[QueueSpec, ...]
    agents: tuple[AgentGroup, ...]
    description: str = ""
    timezone: str = "UTC"
    source: str = field(default="", compare=False)

    def queue(self, name: str, channel: str) -> QueueSpec:
        for spec in self.queues:
            if spec.name == name and spec.channel == channel:
                return spec
        raise KeyError(f"{name}/{channel}")

    @property
    def agent_count(self) -> int:
        return sum(group.count for group in self.agents)

    def scaled(self, *, arrivals: float = 1.0, agents: float = 1.0) -> Scenario:
        """A copy with every arrival rate times `arrivals` and every group's head count
        times `agents` (rounded). Arrivals of the copy with the same seed are unaffected
        by `agents`, so the two can be compared."""
        if arrivals < 0 or agents < 0:
            raise ValueError("scale factors must be >= 0")
        queues = tuple(
            replace(q, arrivals=replace(q.arrivals, scale=q.arrivals.scale * arrivals))
            for q in self.queues
        )
        groups = tuple(replace(g, count=round(g.count * agents)) for g in self.agents)
        return replace(self, queues=queues, agents=groups)


# --------------------------------------------------------------------------- reading


class _Table:
    """Typed access to one TOML table; remembers which keys were read to flag unknown ones."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ScenarioError(path, f"expected a table, got {_kind(data)}")
        self.data: Mapping[str, Any] = data
        self.path = path
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str) -> Any:
        self.seen.add(name)
        return self.data.get(name)

    def string(
        self, name: str, default: str | None = None, *, pattern: re.Pattern[str] | None = None
    ) -> str | None:
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, str) or not value:
            raise ScenarioError(self.key(name), f"expected a non-empty string, got {_show(value)}")
        if pattern is not None and not pattern.fullmatch(value):
            raise ScenarioError(
                self.key(name), f"{value!r} must be 1-64 characters of [A-Za-z0-9_.:-]"
            )
        return value

    def required_string(self, name: str, *, pattern: re.Pattern[str] | None = None) -> str:
        value = self.string(name, pattern=pattern)
        if value is None:
            raise ScenarioError(self.key(name), "required")
        return value

    def number(
        self,
        name: str,
        default: float,
        *,
        low: float = 0.0,
        high: float = math.inf,
        low_open: bool = False,
        allow_inf: bool = False,
    ) -> float:
        value = self.raw(name)
        if value is None:
            return default
        return _number(value, self.key(name), low, high, low_open, allow_inf)

    def share(self, name: str, default: float) -> float:
        return self.number(name, default, low=0.0, high=1.0)

    def integer(self, name: str, default: int, *, low: int = 0, high: int = 10**6) -> int:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(self.key(name), f"expected an integer, got {_show(value)}")
        if not low <= value <= high:
            raise ScenarioError(self.key(name), f"{value} is out of range [{low}, {high}]")
        return value

    def strings(
        self, name: str, *, pattern: re.Pattern[str] | None = None
    ) -> tuple[str, ...] | None:
        value = self.raw(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ScenarioError(self.key(name), f"expected a list of strings, got {_show(value)}")
        if pattern is not None:
            for item in value:
                if not pattern.fullmatch(item):
                    raise ScenarioError(
                        self.key(name), f"{item!r} must be 1-64 characters of [A-Za-z0-9_.:-]"
                    )
        return tuple(dict.fromkeys(value))

    def table(self, name: str) -> _Table | None:
        value = self.raw(name)
        if value is None:
            return None
        return _Table(value, self.key(name))

    def tables(self, name: str) -> list[_Table]:
        value = self.raw(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ScenarioError(
                self.key(name), f"expected an array of tables ([[{name}]]), got {_kind(value)}"
            )
        return [_Table(item, f"{self.key(name)}[{i}]") for i, item in enumerate(value)]

    def finish(self, allowed_elsewhere: Mapping[str, str] | None = None) -> None:
        """Unknown keys are errors (a typo must not silently fall back to a default)."""
        for name in self.data:
            if name in self.seen:
                continue
            if allowed_elsewhere and name in allowed_elsewhere:
                raise ScenarioError(self.key(name), allowed_elsewhere[name])
            raise ScenarioError(self.key(name), "unknown key")


def _kind(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(
    value: object, key: str, low: float, high: float, low_open: bool, allow_inf: bool
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(key, f"expected a number, got {_show(value)}")
    number = float(value)
    if math.isnan(number):
        raise ScenarioError(key, "nan is not allowed")
    if math.isinf(number) and not (allow_inf and number > 0):
        raise ScenarioError(key, "must be finite")
    if number < low or (low_open and number == low) or (number > high and not math.isinf(number)):
        bracket = "(" if low_open else "["
        upper = "inf" if math.isinf(high) else f"{high:g}"
        raise ScenarioError(key, f"{value} is out of range {bracket}{low:g}, {upper}]")
    return number


# Built-in behaviour per channel; `[channels.<name>]` and each queue override it.
_CHANNEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "voice": {
        "patience_seconds": 180.0,
        "handle": Duration(360.0, 0.6),
        "after_contact_work": Duration(45.0, 0.5),
        "survey_share": 0.15,
        "survey_delay_seconds": 600.0,
        "hold_share": 0.25,
        "hold_seconds": 60.0,
    },
    "chat": {
        "patience_seconds": 240.0,
        "handle": Duration(540.0, 0.55),
        "after_contact_work": Duration(30.0, 0.5),
        "survey_share": 0.25,
        "survey_delay_seconds": 120.0,
        "first_response_seconds": 8.0,
    },
    "email": {
        "patience_seconds": math.inf,
        "handle": Duration(420.0, 0.7),
        "survey_share": 0.1,
        "survey_delay_seconds": 3600.0,
        "reply_seconds": 7200.0,
        "reopen_share": 0.05,
    },
    "messaging": {
        "patience_seconds": 14400.0,
        "handle": Duration(240.0, 0.6),
        "survey_share": 0.15,
        "survey_delay_seconds": 900.0,
        "reply_seconds": 900.0,
        "reopen_share": 0.04,
    },
    "social": {
        "patience_seconds": math.inf,
        "handle": Duration(240.0, 0.6),
        "survey_share": 0.05,
        "survey_delay_seconds": 1800.0,
        "reply_seconds": 1800.0,
        "reopen_share": 0.03,
    },
}

_COMMON_KEYS = (
    "patience_seconds",
    "handle_seconds",
    "after_contact_work_seconds",
    "priority",
    "survey_share",
    "survey_delay_seconds",
    "transfer_share",
)
_KEYS_BY_CHANNEL: dict[str, tuple[str, ...]] = {
    "voice": ("first_contact_share", "hold_share", "hold_seconds"),
    "chat": ("first_contact_share", "first_response_seconds"),
}
_ASYNC_KEYS = ("resolve_share", "reply_seconds", "reopen_share", "reopen_seconds", "max_responses")
_ALL_BEHAVIOUR_KEYS = frozenset(
    (
        *_COMMON_KEYS,
        "first_contact_share",
        "hold_share",
        "hold_seconds",
        "first_response_seconds",
        *_ASYNC_KEYS,
    )
)


def _behaviour_keys(channel: str) -> tuple[str, ...]:
    return _COMMON_KEYS + _KEYS_BY_CHANNEL.get(
        channel, _ASYNC_KEYS if channel in ASYNC_CHANNELS else ()
    )


def _not_here(channel: str) -> dict[str, str]:
    """Behaviour keys that exist, but not for this channel: a clearer message than 'unknown'."""
    allowed = set(_behaviour_keys(channel))
    out = {}
    for name in _ALL_BEHAVIOUR_KEYS - allowed:
        if name in ("hold_share", "hold_seconds"):
            out[name] = f"only for voice queues, not {channel}"
        elif name == "first_response_seconds":
            out[name] = f"only for chat queues, not {channel}"
        elif name == "first_contact_share":
            out[name] = f"only for voice and chat queues (async ones derive it), not {channel}"
        else:
            out[name] = f"only for email, messaging and social queues, not {channel}"
    return out


def _duration(table: _Table, name: str, default: Duration) -> Duration:
    value = table.raw(name)
    if value is None:
        return default
    key = table.key(name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Duration(_number(value, key, 0.0, math.inf, False, False), default.sigma)
    sub = _Table(value, key)
    mean = sub.number("mean", default.mean)
    sigma = sub.number("sigma", default.sigma, high=3.0)
    sub.finish()
    return Duration(mean, sigma)


def _priorities(
    table: _Table, default: tuple[tuple[str, float], ...]
) -> tuple[tuple[str, float], ...]:
    sub = table.table("priority")
    if sub is None:
        return default
    weights = [(p, sub.number(p, 0.0)) for p in PRIORITIES]
    sub.finish()
    weights = [(p, w) for p, w in weights if w > 0]
    if not weights:
        raise ScenarioError(
            sub.path, f"give a positive weight to at least one of {', '.join(PRIORITIES)}"
        )
    return tuple(weights)


def _behaviour(table: _Table, channel: str, base: dict[str, Any]) -> dict[str, Any]:
    """Read the behaviour keys valid for `channel` over `base` (a dict of QueueSpec fields)."""
    out = dict(base)
    out["patience_seconds"] = table.number(
        "patience_seconds", base.get("patience_seconds", math.inf), low_open=True, allow_inf=True
    )
    out["handle"] = _duration(table, "handle_seconds", base.get("handle", Duration(300.0, 0.6)))
    if out["handle"].mean <= 0:
        raise ScenarioError(table.key("handle_seconds"), "mean must be > 0")
    out["after_contact_work"] = _duration(
        table, "after_contact_work_seconds", base.get("after_contact_work", Duration(0.0, 0.0))
    )
    out["priority"] = _priorities(table, base.get("priority", (("normal", 1.0),)))
    for name in ("survey_share", "transfer_share"):
        out[name] = table.share(name, base.get(name, 0.0))
    out["survey_delay_seconds"] = table.number(
        "survey_delay_seconds", base.get("survey_delay_seconds", 600.0)
    )
    if channel in LIVE_CHANNELS:
        out["first_contact_share"] = table.share(
            "first_contact_share", base.get("first_contact_share", 0.75)
        )
    if channel == "voice":
        out["hold_share"] = table.share("hold_share", base.get("hold_share", 0.0))
        out["hold_seconds"] = table.number(
            "hold_seconds", base.get("hold_seconds", 60.0), low_open=True
        )
    if channel == "chat":
        out["first_response_seconds"] = table.number(
            "first_response_seconds", base.get("first_response_seconds", 8.0)
        )
    if channel in ASYNC_CHANNELS:
        out["resolve_share"] = table.number(
            "resolve_share", base.get("resolve_share", 0.6), high=1.0, low_open=True
        )
        out["reply_seconds"] = table.number(
            "reply_seconds", base.get("reply_seconds", 7200.0), low_open=True
        )
        out["reopen_share"] = table.share("reopen_share", base.get("reopen_share", 0.0))
        out["reopen_seconds"] = table.number(
            "reopen_seconds", base.get("reopen_seconds", 21600.0), low_open=True
        )
        out["max_responses"] = table.integer(
            "max_responses", base.get("max_responses", 5), low=1, high=100
        )
    return out


def _arrivals(table: _Table | None, key: str) -> ArrivalProfile:
    if table is None:
        raise ScenarioError(key, "required (a table with per_hour, points or rate)")
    given = [name for name in ("per_hour", "points", "rate") if table.has(name)]
    if len(given) != 1:
        raise ScenarioError(
            key,
            "give exactly one of per_hour (24 numbers), points ([[hour, rate], ...]) or rate",
        )
    scale = table.number("scale", 1.0)
    profile: ArrivalProfile
    if given[0] == "rate":
        profile = ArrivalProfile.flat(table.number("rate", 0.0))
    elif given[0] == "per_hour":
        value = table.raw("per_hour")
        k = table.key("per_hour")
        if not isinstance(value, list) or len(value) != 24:
            got = f"{len(value)}" if isinstance(value, list) else _kind(value)
            raise ScenarioError(k, f"expected 24 numbers (contacts per hour, 0-23h), got {got}")
        rates = tuple(
            _number(v, f"{k}[{i}]", 0.0, math.inf, False, False) for i, v in enumerate(value)
        )
        profile = ArrivalProfile("step", tuple(float(h) for h in range(24)), rates)
    else:
        value = table.raw("points")
        k = table.key("points")
        if not isinstance(value, list) or not value:
            raise ScenarioError(k, "expected a non-empty list of [hour, rate] pairs")
        hours: list[float] = []
        rates_l: list[float] = []
        for i, point in enumerate(value):
            if not isinstance(point, list) or len(point) != 2:
                raise ScenarioError(f"{k}[{i}]", f"expected [hour, rate], got {_show(point)}")
            hour = _number(point[0], f"{k}[{i}][0]", 0.0, 24.0, False, False)
            rate = _number(point[1], f"{k}[{i}][1]", 0.0, math.inf, False, False)
            if hours and hour <= hours[-1]:
                raise ScenarioError(f"{k}[{i}][0]", "hours must be strictly increasing")
            hours.append(hour)
            rates_l.append(rate)
        if hours[-1] - hours[0] >= 24 and rates_l[0] != rates_l[-1]:
            raise ScenarioError(
                k, "the rates at 0 and 24 must be equal (the profile repeats daily)"
            )
        profile = ArrivalProfile("linear", tuple(hours), tuple(rates_l))
    table.finish()
    return replace(profile, scale=scale)


def _shift(value: object, key: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ScenarioError(key, f"expected [start_hour, end_hour], got {_show(value)}")
    start = _number(value[0], f"{key}[0]", 0.0, 24.0, False, False)
    end = _number(value[1], f"{key}[1]", 0.0, 24.0, False, False)
    if start >= 24:
        raise ScenarioError(f"{key}[0]", "must be < 24")
    if start == end:
        raise ScenarioError(key, "start and end are equal (use [0, 24] for round the clock)")
    return (start, end)


def shift_hours(shift: tuple[float, float]) -> float:
    """Length of a shift; an end at or before the start is on the next day."""
    start, end = shift
    return end - start if end > start else end + 24 - start


def _agent_group(table: _Table, queues: Sequence[QueueSpec]) -> AgentGroup:
    name = table.required_string("name")
    if not _AGENT_GROUP.fullmatch(name):
        raise ScenarioError(
            table.key("name"), f"{name!r} must be 1-48 characters of [A-Za-z0-9_.-]"
        )
    count = table.integer("count", 1, low=0, high=100_000)
    skills = table.strings("skills")
    if not skills:
        raise ScenarioError(table.key("skills"), "required: a non-empty list of queue names")
    known = {q.name for q in queues}
    for skill in skills:
        if skill not in known:
            raise ScenarioError(
                table.key("skills"), f"unknown queue {skill!r} (queues: {', '.join(sorted(known))})"
            )
    channels = table.strings("channels")
    if channels is None:
        channels = tuple(
            c for c in CHANNELS if any(q.channel == c and q.name in skills for q in queues)
        )
    for channel in channels:
        if channel not in CHANNELS:
            raise ScenarioError(
                table.key("channels"), f"{channel!r} is not one of {', '.join(CHANNELS)}"
            )
    if not any(q.name in skills and q.channel in channels for q in queues):
        raise ScenarioError(table.key("channels"), "these skills and channels match no queue")
    if table.has("shift") and table.has("shifts"):
        raise ScenarioError(table.key("shifts"), "give shift or shifts, not both")
    shifts: tuple[tuple[float, float], ...] = ((0.0, 24.0),)
    if table.has("shift"):
        shifts = (_shift(table.raw("shift"), table.key("shift")),)
    elif table.has("shifts"):
        value = table.raw("shifts")
        if not isinstance(value, list) or not value:
            raise ScenarioError(table.key("shifts"), "expected a non-empty list of [start, end]")
        shifts = tuple(_shift(v, f"{table.key('shifts')}[{i}]") for i, v in enumerate(value))
    shortest = min(shift_hours(s) for s in shifts)
    breaks: list[Break] = []
    for sub in table.tables("breaks"):
        if not sub.has("after_hours"):
            raise ScenarioError(sub.key("after_hours"), "required (hours after the shift start)")
        after = sub.number("after_hours", 0.0)
        minutes = sub.number("minutes", 15.0, low_open=True, high=600.0)
        if after >= shortest:
            raise ScenarioError(
                sub.key("after_hours"),
                f"{after:g} h is not inside the shortest shift ({shortest:g} h)",
            )
        sub.finish()
        breaks.append(Break(after, minutes))
    jitter = table.number("break_jitter_minutes", 10.0, high=120.0)
    team = table.string("team")
    if team is not None and len(team) > 64:
        raise ScenarioError(table.key("team"), "at most 64 characters")
    table.finish()
    return AgentGroup(name, count, skills, channels, shifts, tuple(breaks), jitter, team)


def _queue(table: _Table, channel_defaults: Mapping[str, dict[str, Any]]) -> QueueSpec:
    name = table.required_string("name", pattern=_NAME)
    channel = table.required_string("channel")
    if channel not in CHANNELS:
        raise ScenarioError(
            table.key("channel"), f"{channel!r} is not one of {', '.join(CHANNELS)}"
        )
    team = table.string("team")
    if team is not None and len(team) > 64:
        raise ScenarioError(table.key("team"), "at most 64 characters")
    arrivals = _arrivals(table.table("arrivals"), table.key("arrivals"))
    fields = _behaviour(table, channel, channel_defaults[channel])
    transfer_to = table.strings("transfer_to", pattern=_NAME) or ()
    overflow = table.table("overflow")
    overflow_after: float | None = None
    overflow_to: str | None = None
    if overflow is not None:
        overflow_after = overflow.number("after_seconds", 60.0, low_open=True)
        overflow_to = overflow.required_string("to", pattern=_NAME)
        overflow.finish()
        if channel not in LIVE_CHANNELS:
            raise ScenarioError(overflow.path, "only for voice and chat queues")
    table.finish(_not_here(channel))
    if fields["transfer_share"] > 0 and not transfer_to:
        raise ScenarioError(table.key("transfer_to"), "required when transfer_share > 0")
    return QueueSpec(
        name=name,
        channel=channel,
        arrivals=arrivals,
        team=team,
        transfer_to=transfer_to,
        overflow_after_seconds=overflow_after,
        overflow_to=overflow_to,
        **fields,
    )


def parse_scenario(
    data: Mapping[str, Any], *, name: str = "scenario", source: str = ""
) -> Scenario:
    """Validate a scenario given as a mapping (e.g. from `tomllib.loads`)."""
    root = _Table(data, "")
    scenario_name = root.string("name", name) or name
    description = root.string("description", "") or ""
    timezone = root.string("timezone", "UTC") or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError("timezone", f"unknown time zone {timezone!r}") from None

    channel_defaults = {c: dict(_CHANNEL_DEFAULTS[c]) for c in CHANNELS}
    channels = root.table("channels")
    if channels is not None:
        for channel in CHANNELS:
            sub = channels.table(channel)
            if sub is not None:
                channel_defaults[channel] = _behaviour(sub, channel, channel_defaults[channel])
                sub.finish(_not_here(channel))
        channels.finish()

    queue_tables = root.tables("queues")
    if not queue_tables:
        raise ScenarioError("queues", "required: at least one [[queues]] table")
    queues = [_queue(t, channel_defaults) for t in queue_tables]
    seen: dict[tuple[str, str], int] = {}
    for i, q in enumerate(queues):
        if q.key in seen:
            raise ScenarioError(
                f"queues[{i}]", f"duplicate queue {q.label} (also queues[{seen[q.key]}])"
            )
        seen[q.key] = i
    for i, q in enumerate(queues):
        for target in q.transfer_to:
            if (target, q.channel) not in seen or target == q.name:
                raise ScenarioError(
                    f"queues[{i}].transfer_to",
                    f"no other queue {target!r} on channel {q.channel} to transfer to",
                )
        if q.overflow_to is not None and (
            (q.overflow_to, q.channel) not in seen or q.overflow_to == q.name
        ):
            raise ScenarioError(
                f"queues[{i}].overflow.to",
                f"no other queue {q.overflow_to!r} on channel {q.channel}",
            )

    agent_tables = root.tables("agents")
    if not agent_tables:
        raise ScenarioError("agents", "required: at least one [[agents]] table")
    groups = [_agent_group(t, queues) for t in agent_tables]
    names: dict[str, int] = {}
    for i, g in enumerate(groups):
        if g.name in names:
            raise ScenarioError(f"agents[{i}].name", f"duplicate group name {g.name!r}")
        names[g.name] = i
    for i, q in enumerate(queues):
        if not any(g.serves(q) for g in groups):
            raise ScenarioError(f"queues[{i}]", f"no agent group serves {q.label}")
    root.finish()
    return Scenario(
        name=scenario_name,
        description=description,
        timezone=timezone,
        queues=tuple(queues),
        agents=tuple(groups),
        source=source,
    )


def scenario_from_toml(text: str, *, name: str = "scenario", source: str = "") -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError("", f"{source or name}: invalid TOML: {exc}") from None
    return parse_scenario(data, name=name, source=source)


def list_scenarios(directory: Path | None = None) -> list[str]:
    """Names of the shipped scenarios (the `*.toml` files of `scenarios/`), sorted."""
    folder = directory or SCENARIO_DIR
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name (``contact-centre``) or a scenario file by path."""
    text = str(name_or_path)
    path = Path(text)
    looks_like_path = isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text
    if not looks_like_path:
        candidate = SCENARIO_DIR / f"{text}.toml"
        if not candidate.is_file():
            known = ", ".join(list_scenarios()) or "none found in " + str(SCENARIO_DIR)
            raise ScenarioError("", f"unknown scenario {text!r} (shipped: {known})")
        path = candidate
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("", f"scenario file {text}: not found") from None
    except OSError as exc:
        raise ScenarioError("", f"scenario file {text}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError("", f"scenario file {text}: not UTF-8 text") from None
    try:
        return scenario_from_toml(content, name=path.stem, source=str(path))
    except ScenarioError as exc:
        if exc.key:
            raise ScenarioError(exc.key, f"{exc.problem} (in {path.name})") from None
        raise
