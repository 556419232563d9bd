"""Event intake: bytes -> validated `Event`, or a `Rejection` with a specific reason.

Implements the input contract (../shared/spec/events.md) exactly. Pure: the wall
clock is passed in, nothing is logged here.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

import orjson

from streams.core import fast_intake
from streams.core.contract import (
    AGENT_STATES,
    AGENT_TYPE,
    CHANNELS,
    EVENT_TYPES,
    MAX_FUTURE_SECONDS,
    MAX_MESSAGE_BYTES,
    PRIORITIES,
    SURVEY_TYPE,
)

_QUEUE_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_CHANNELS = frozenset(CHANNELS)
_PRIORITIES = frozenset(PRIORITIES)
_STATES = frozenset(AGENT_STATES)
_TYPES = frozenset(EVENT_TYPES)
# Epoch milliseconds accepted: 1970-01-01 up to the year 9999.
_MAX_EPOCH_MS = 253402300799999
# Queue names already found valid (a cache in front of the pattern check; bounded).
_KNOWN_QUEUES: Final[set[str]] = set()
_MAX_KNOWN_QUEUES: Final = 10_000


class Rejection(Exception):
    """A rejected message, the one reject type of both runtimes: a `reason` label, a human
    detail (no payload data) and, once known, the original bytes, Kafka key and source
    offset (-1 outside Kafka) it came with, for rejects files and the dead-letter topic.
    `decode` raises it; the ingestion step fills in where the message came from."""

    def __init__(
        self,
        reason: str,
        detail: str,
        raw: bytes | None = None,
        key: bytes | None = None,
        offset: int = -1,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.raw = raw
        self.key = key
        self.offset = offset


class Event:
    """One validated input event. Times are epoch seconds (float).

    Optional fields default at class level; an instance stores only what it has (cheaper
    to build on the hot path than a full set of slots). Identifiers that a type does not
    carry are "" (contact_id of agent events, agent_id and state of contact events).
    """

    contact_id: str = ""
    queue: str | None = None
    channel: str | None = None
    priority: str | None = None
    team: str | None = None
    agent_id: str = ""
    hold_seconds: float | None = None
    first_contact: bool | None = None
    csat: int | None = None
    ces: int | None = None
    nps: int | None = None
    state: str = ""
    agent_queues: tuple[str, ...] | None = None
    reason: str | None = None  # agent.state (version 1.1)
    ring_seconds: float | None = None  # contact.missed (version 1.1)

    def __init__(self, event_id: str, type_: str, ts: float) -> None:
        self.event_id = event_id
        self.type = type_
        self.ts = ts

    def __repr__(self) -> str:
        return f"Event({self.type} {self.event_id} at {self.ts})"


# Microseconds below 2**53 convert to a double exactly, so the division by 10**6 rounds
# as Python's exact int division does (compiled code divides doubles).
_EXACT_MICROS: Final = 2**53
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    if month <= 2:
        year -= 1
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _fast_timestamp(value: str) -> float:
    """Epoch seconds of the common form YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|-HH:MM),
    or -1.0 when the text is not exactly that (the full parser then decides). The value
    equals `datetime.fromisoformat(value).timestamp()`: whole microseconds / 10**6."""
    micros: int = _micros(value)
    return micros / 1_000_000 if micros >= 0 else -1.0


def _minute_micros(year: int, month: int, day: int, hour: int, minute: int) -> int:
    """Epoch microseconds of the start of a minute, read as UTC."""
    return (_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60) * 1_000_000


def _fast_micros(value: str) -> int:
    """`_fast_timestamp` in whole epoch microseconds, or -1."""
    n = len(value)
    if n < 20 or not value.isascii() or value[4] != "-" or value[7] != "-":
        return -1
    if value[10] != "T" or value[13] != ":" or value[16] != ":":
        return -1
    digits = value[0:4] + value[5:7] + value[8:10] + value[11:13] + value[14:16] + value[17:19]
    if not digits.isdigit():
        return -1
    year = int(value[0:4])
    month = int(value[5:7])
    day = int(value[8:10])
    hour = int(value[11:13])
    minute = int(value[14:16])
    second = int(value[17:19])
    if year < 1 or not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        return -1
    leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= _DAYS_IN_MONTH[month] + (1 if leap else 0):
        return -1
    i = 19
    micros = 0
    if value[i] == ".":
        j = i + 1
        while j < n and "0" <= value[j] <= "9":
            j += 1
        if not 1 <= j - i - 1 <= 6:
            return -1
        micros = int(value[i + 1 : j].ljust(6, "0"))
        i = j
    rest = value[i:]
    if rest == "Z":
        offset = 0
    elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":" and (rest[1:3] + rest[4:]).isdigit():
        offset_hours = int(rest[1:3])
        offset_minutes = int(rest[4:6])
        if offset_hours > 23 or offset_minutes > 59:
            return -1
        offset = (offset_hours * 3600 + offset_minutes * 60) * (1 if rest[0] == "+" else -1)
    else:
        return -1
    total = _minute_micros(year, month, day, hour, minute) + (second - offset) * 1_000_000 + micros
    if not 0 <= total < _EXACT_MICROS:  # beyond 2255 a double cannot hold it exactly
        return -1
    return total


# The parser the fast path and `parse_timestamp` use: the same function in C
# (`core/_timestamp.c`, about 40 times faster) when the package was built with it.
try:
    from streams.core._timestamp import micros as _micros
except ImportError:  # a pure-Python install (FLOORWATCH_PURE_PYTHON=1)
    _micros = _fast_micros


def parse_timestamp(value: object) -> float:
    """RFC 3339 with offset, or integer epoch milliseconds -> epoch seconds."""
    if isinstance(value, str):
        fast = _fast_timestamp(value)
        if fast >= 0.0:
            return fast
        if len(value) < 20 or value[10] not in "Tt":
            raise Rejection(
                "invalid_timestamp", "occurred_at: not an RFC 3339 timestamp with offset"
            )
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise Rejection(
                "invalid_timestamp", "occurred_at: not an RFC 3339 timestamp with offset"
            ) from None
        if parsed.tzinfo is None:
            raise Rejection("invalid_timestamp", "occurred_at: RFC 3339 timestamp lacks an offset")
        ts = parsed.timestamp()
        if ts < 0:
            raise Rejection("out_of_range", "occurred_at: before 1970-01-01T00:00:00Z")
        return ts
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= _MAX_EPOCH_MS:
            raise Rejection("out_of_range", "occurred_at: epoch milliseconds out of range")
        return value / 1000.0
    raise Rejection(
        "wrong_type", "occurred_at: expected an RFC 3339 string or integer epoch milliseconds"
    )


def _text(value: object, key: str, max_len: int = 128) -> str:
    """A present string field of 1..max_len characters, or the specific rejection."""
    if type(value) is str and 0 < len(value) <= max_len:
        return value
    if value is None:
        raise Rejection("missing_field", f"{key}: required")
    if type(value) is not str:
        raise Rejection("wrong_type", f"{key}: expected a string")
    raise Rejection("out_of_range", f"{key}: length must be 1-{max_len}")


def _queue_name(value: object, key: str) -> str:
    if type(value) is not str:
        raise Rejection("wrong_type", f"{key}: expected a string")
    if not _QUEUE_NAME.fullmatch(value):
        raise Rejection("invalid_value", f"{key}: must be 1-64 characters of [A-Za-z0-9_.:-]")
    if len(_KNOWN_QUEUES) < _MAX_KNOWN_QUEUES:
        _KNOWN_QUEUES.add(value)
    return value


def _enum(data: dict, key: str, allowed: frozenset[str], *, required: bool) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise Rejection("missing_field", f"{key}: required")
        return None
    if type(value) is not str:
        raise Rejection("wrong_type", f"{key}: expected a string")
    if value not in allowed:
        raise Rejection("invalid_value", f"{key}: must be one of {', '.join(sorted(allowed))}")
    return value


def _score(data: dict, key: str, low: int, high: int) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if type(value) is not int:
        raise Rejection("wrong_type", f"{key}: expected an integer")
    if not low <= value <= high:
        raise Rejection("out_of_range", f"{key}: must be {low}-{high}")
    return value


def _validate(data: dict, wall_now: float) -> Event:
    event_id = _text(data.get("event_id"), "event_id")
    type_ = data.get("type")
    if type(type_) is not str or type_ not in _TYPES:
        if type_ is None:
            raise Rejection("missing_field", "type: required")
        if type(type_) is not str:
            raise Rejection("wrong_type", "type: expected a string")
        raise Rejection("unknown_type", "type: not a known event type")
    occurred_at = data.get("occurred_at")
    if occurred_at is None:
        raise Rejection("missing_field", "occurred_at: required")
    ts = parse_timestamp(occurred_at)
    if ts > wall_now + MAX_FUTURE_SECONDS:
        raise Rejection(
            "future_timestamp", "occurred_at: more than 5 minutes ahead of the wall clock"
        )
    return _fields(Event(event_id, type_, ts), data)


def _fields(event: Event, data: dict) -> Event:
    """Validate and copy the type-specific fields."""
    type_ = event.type
    is_agent = type_ == AGENT_TYPE
    contact_id = data.get("contact_id")
    if contact_id is not None or not is_agent:
        event.contact_id = _text(contact_id, "contact_id")
    queue = data.get("queue")
    if queue is not None:
        event.queue = (
            queue if type(queue) is str and queue in _KNOWN_QUEUES else _queue_name(queue, "queue")
        )
    channel = data.get("channel")
    if channel is not None:
        event.channel = _enum(data, "channel", _CHANNELS, required=False)
    if type_ == "contact.queued" and (event.queue is None or event.channel is None):
        raise Rejection("missing_field", "queue and channel: required on contact.queued")
    if "priority" in data:
        event.priority = _enum(data, "priority", _PRIORITIES, required=False)
    team = data.get("team")
    if team is not None:
        event.team = _text(team, "team", max_len=64)
    agent_id = data.get("agent_id")
    if agent_id is not None or is_agent:
        event.agent_id = _text(agent_id, "agent_id")

    if is_agent:
        event.state = _enum(data, "state", _STATES, required=True) or ""
        queues = data.get("queues")
        if queues is not None:
            if type(queues) is not list:
                raise Rejection("wrong_type", "queues: expected a list of queue names")
            names = (
                q if type(q) is str and q in _KNOWN_QUEUES else _queue_name(q, "queues[]")
                for q in queues
            )
            event.agent_queues = tuple(dict.fromkeys(names))
        reason = data.get("reason")
        if reason is not None:
            event.reason = _text(reason, "reason", max_len=64)
    elif type_ == SURVEY_TYPE:
        event.csat = _score(data, "csat", 1, 5)
        event.ces = _score(data, "ces", 1, 7)
        event.nps = _score(data, "nps", 0, 10)
        if event.csat is None and event.ces is None and event.nps is None:
            raise Rejection("missing_field", "csat, ces or nps: a survey needs at least one answer")
    elif type_ == "contact.ended":
        hold = data.get("hold_seconds")
        if hold is not None:
            if type(hold) not in (int, float):
                raise Rejection("wrong_type", "hold_seconds: expected a number")
            if hold < 0:
                raise Rejection("out_of_range", "hold_seconds: must be >= 0")
            event.hold_seconds = float(hold)
    elif type_ == "contact.missed":
        if agent_id is None:
            raise Rejection("missing_field", "agent_id: required on contact.missed")
        ring = data.get("ring_seconds")
        if ring is not None:
            if type(ring) not in (int, float):
                raise Rejection("wrong_type", "ring_seconds: expected a number")
            if ring < 0:
                raise Rejection("out_of_range", "ring_seconds: must be >= 0")
            event.ring_seconds = float(ring)
    elif type_ == "contact.resolved":
        first = data.get("first_contact")
        if first is not None:
            if type(first) is not bool:
                raise Rejection("wrong_type", "first_contact: expected true or false")
            event.first_contact = first
    return event


def _known_queue(name: str) -> bool:
    """Whether `name` is a valid queue name (remembered in `_KNOWN_QUEUES` as the
    reference path does)."""
    if name in _KNOWN_QUEUES:
        return True
    if _QUEUE_NAME.fullmatch(name) is None:
        return False
    if len(_KNOWN_QUEUES) < _MAX_KNOWN_QUEUES:
        _KNOWN_QUEUES.add(name)
    return True


# The fast path's names bound once (mypyc reads a Final name as a C variable, not from
# the module): the decoder, and each Struct class of `fast_intake` -> (its event type, the
# kind of its own fields: 0 none, 1 agent.state, 2 survey, 3 ended, 4 missed, 5 resolved,
# 6 queued).
_DECODE: Final = fast_intake.DECODER.decode
_DECODE_ERROR: Final = fast_intake.DecodeError
_ASTUPLE: Final = fast_intake.astuple
_MAX_BYTES: Final = MAX_MESSAGE_BYTES
_MAX_AHEAD: Final = MAX_FUTURE_SECONDS
_FAST_KINDS: Final[dict[type, tuple[str, int]]] = {
    fast_intake.Queued: ("contact.queued", 6),
    fast_intake.Answered: ("contact.answered", 0),
    fast_intake.Abandoned: ("contact.abandoned", 0),
    fast_intake.Responded: ("contact.responded", 0),
    fast_intake.Ended: ("contact.ended", 3),
    fast_intake.Wrapped: ("contact.wrapped", 0),
    fast_intake.Resolved: ("contact.resolved", 5),
    fast_intake.Reopened: ("contact.reopened", 0),
    fast_intake.Missed: ("contact.missed", 4),
    fast_intake.Survey: ("survey.responded", 2),
    fast_intake.AgentState: ("agent.state", 1),
}


def decode_fast(raw: bytes, wall_now: float) -> Event | None:
    """The fast path: the `Event` of a valid message (at most 64 KiB), decoded and mostly
    checked in one C pass (`fast_intake.DECODER`), or None for any message it does not
    accept (then `decode_reference` gives the reason). Accepts nothing the reference path
    rejects and builds the identical event."""
    if len(raw) > _MAX_BYTES:
        return None
    try:
        msg = _DECODE(raw)
    except _DECODE_ERROR:
        return None
    type_, kind = _FAST_KINDS[type(msg)]
    fields: tuple[Any, ...] = _ASTUPLE(msg)  # fast_intake.COMMON, then the type's own
    occurred = fields[1]
    if type(occurred) is str:
        ts = _fast_timestamp(occurred)
        if ts < 0.0:
            return None
    else:
        ts = occurred / 1000.0
    if ts > wall_now + _MAX_AHEAD:
        return None
    event = Event(fields[0], type_, ts)
    contact_id = fields[2]
    if contact_id is not None:
        event.contact_id = contact_id
    elif kind != 1:
        return None
    queue = fields[3]
    if queue is not None:
        if queue not in _KNOWN_QUEUES and not _known_queue(queue):
            return None
        event.queue = queue
    channel = fields[4]
    if channel is not None:
        event.channel = channel
    priority = fields[5]
    if priority is not None:
        event.priority = priority
    team = fields[6]
    if team is not None:
        event.team = team
    agent_id = fields[7]
    if agent_id is not None:
        event.agent_id = agent_id
    if kind == 0:
        return event
    if kind == 6:
        return event if queue is not None and channel is not None else None
    if kind == 1:
        state = fields[8]
        if agent_id is None or state is None:
            return None
        event.state = state
        queues = fields[9]
        if queues is not None:
            for name in queues:
                if name not in _KNOWN_QUEUES and not _known_queue(name):
                    return None
            event.agent_queues = tuple(dict.fromkeys(queues))
        event.reason = fields[10]
    elif kind == 2:
        csat, ces, nps = fields[8], fields[9], fields[10]
        if csat is None and ces is None and nps is None:
            return None
        event.csat, event.ces, event.nps = csat, ces, nps
    elif kind == 3:
        event.hold_seconds = fields[8]
    elif kind == 4:
        if agent_id is None:
            return None
        event.ring_seconds = fields[8]
    else:
        event.first_contact = fields[8]
    return event


def decode(raw: bytes, wall_now: float) -> Event:
    """Decode and validate one message; raises `Rejection` for bad input.

    A valid message takes the fast path; any other goes through the reference checks,
    which give the specific reason."""
    event = decode_fast(raw, wall_now)
    if event is not None:
        return event
    return decode_reference(raw, wall_now)


def decode_reference(raw: bytes, wall_now: float) -> Event:
    """The reference path: decode with orjson, then check each rule in Python in the
    contract's order; raises `Rejection` with the specific reason and detail."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise Rejection("too_large", f"message of {len(raw)} bytes exceeds 65536")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Rejection("invalid_json", "not valid UTF-8 JSON") from None
    if type(data) is not dict:
        raise Rejection("not_an_object", "a message must be one JSON object")
    return _validate(data, wall_now)


EventTuple = tuple[
    str,
    str,
    float,
    str,
    str | None,
    str | None,
    str | None,
    str | None,
    str,
    float | None,
    bool | None,
    int | None,
    int | None,
    int | None,
    str,
    tuple[str, ...] | None,
    str | None,
    float | None,
]


def event_to_tuple(event: Event) -> EventTuple:
    """A plain tuple of every field (cheap to pickle between processes)."""
    return (
        event.event_id,
        event.type,
        event.ts,
        event.contact_id,
        event.queue,
        event.channel,
        event.priority,
        event.team,
        event.agent_id,
        event.hold_seconds,
        event.first_contact,
        event.csat,
        event.ces,
        event.nps,
        event.state,
        event.agent_queues,
        event.reason,
        event.ring_seconds,
    )


def event_from_tuple(fields: tuple[Any, ...]) -> Event:
    """The inverse of `event_to_tuple` (a tuple stored before version 1.1 lacks the last
    two fields)."""
    if len(fields) < 18:
        fields = (*fields, None, None)
    event = Event(fields[0], fields[1], fields[2])
    (
        event.contact_id,
        event.queue,
        event.channel,
        event.priority,
        event.team,
        event.agent_id,
        event.hold_seconds,
        event.first_contact,
        event.csat,
        event.ces,
        event.nps,
        event.state,
        event.agent_queues,
        event.reason,
        event.ring_seconds,
    ) = fields[3:]
    return event
