"""The fast intake path against the reference path: it accepts nothing the reference path
rejects and builds identical events; `decode` gives the reference's outcome for any input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from streams.core import fast_intake, intake
from streams.core.contract import EVENT_TYPES
from streams.core.intake import (
    Event,
    Rejection,
    _fast_micros,
    _micros,
    decode,
    decode_fast,
    decode_reference,
    event_to_tuple,
)
from tests.support.daygen import DayPlan, write_day
from tests.support.helpers import WALL


def outcome(step: Any, raw: bytes, wall: float = WALL) -> tuple[str, ...]:
    """What a path makes of `raw`: the event's fields with their types (30 is not 30.0,
    True is not 1, -0.0 is not 0.0), or the rejection's reason and detail."""
    try:
        event = step(raw, wall)
    except Rejection as rejected:
        return ("rejected", rejected.reason, rejected.detail)
    assert isinstance(event, Event)
    return ("event", repr(event_to_tuple(event)))


def check(raw: bytes, wall: float = WALL) -> None:
    reference = outcome(decode_reference, raw, wall)
    fast = decode_fast(raw, wall)
    if fast is not None:
        assert reference == ("event", repr(event_to_tuple(fast))), raw
    assert outcome(decode, raw, wall) == reference, raw


BASES: dict[str, dict[str, Any]] = {
    "contact.queued": {"contact_id": "c-1", "queue": "billing", "channel": "voice"},
    "contact.answered": {"contact_id": "c-1", "agent_id": "a-1"},
    "contact.ended": {"contact_id": "c-1", "hold_seconds": 30},
    "contact.resolved": {"contact_id": "c-1", "first_contact": True},
    "contact.missed": {"contact_id": "c-1", "agent_id": "a-1", "ring_seconds": 12.5},
    "survey.responded": {"contact_id": "c-1", "csat": 5, "ces": 3, "nps": 9},
    "agent.state": {"agent_id": "a-1", "state": "available", "queues": ["billing", "sales"]},
}
for _type in EVENT_TYPES:
    BASES.setdefault(_type, {"contact_id": "c-1"})

FIELDS = [
    *("event_id", "type", "occurred_at", "contact_id", "queue", "channel", "priority"),
    *("team", "agent_id", "state", "queues", "reason", "hold_seconds", "ring_seconds"),
    *("first_contact", "csat", "ces", "nps", "note"),
]
TIMESTAMPS = [
    *("2026-11-22T09:00:00Z", "2026-11-22T09:00:00.125Z", "2026-11-22T10:00:00+01:00"),
    *("2026-11-22T04:30:00.5-04:30", "2026-11-22T09:00:00.123456Z", "2026-11-22t09:00:00Z"),
    *("2026-11-22T09:00:00z", "2026-11-22 09:00:00Z", "2026-11-22T09:00:00", "2026-11-22"),
    *("2026-11-22T09:00:00.1234567Z", "2026-11-22T09:00:00+0100", "2026-11-22T09:00:00-00:00"),
    *("2026-11-22T09:00:60Z", "2028-02-29T12:00:00Z", "2027-02-29T12:00:00Z", "0001-01-01T00:00Z"),
    *("1969-12-31T23:59:59.999Z", "1970-01-01T00:00:00+00:01", "9999-12-31T23:59:59Z"),
    *("2029-12-31T23:59:59Z", "2030-01-01T00:05:00Z", "2030-01-01T00:05:00.000001Z"),
    *("2026-11-22T09:00:00,5Z", "2026-11-22T09:00:00.Z", "2026-11-22T24:00:00Z"),
    *(1795338000000, 0, -1, 253402300799999, 253402300800000, 2**63, 2**64, 2**70),
    *(1.5e12, 1795338000000.0, True, None, [], {}),
]
STRINGS = [
    *("", "x", "billing", "sales", "a-1", "c-1", "q" * 64, "q" * 65, "x" * 128, "x" * 129),
    *("é" * 64, "é" * 65, "bill ing", "billing\n", "billing\u00e9", "tier1", "\U0001f600"),
    *("voice", "chat", "email", "social", "fax", "VOICE", "urgent", "high", "normal", "low"),
    *("available", "on_contact", "after_contact_work", "away", "offline", "napping", "lunch"),
    "contact.queued",
]
SCALARS = [
    *(None, True, False, 0, 1, 3, 5, 6, 7, 8, 10, 11, -1, 5.0, 4.5, -0.0, 0.0, 30, 30.5),
    *(-0.5, 1e308, 2**53 + 1, 2**63, 2**64 - 1, 2**64, 2**70, -(2**63) - 1, 123456789e300),
]
VALUES = st.one_of(
    st.sampled_from(STRINGS),
    st.sampled_from(SCALARS),
    st.sampled_from(TIMESTAMPS),
    st.lists(st.sampled_from([*STRINGS[:10], None, 3]), max_size=4),
    st.dictionaries(st.sampled_from(["x", "csat"]), st.sampled_from(SCALARS), max_size=2),
    st.text(max_size=5),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)


NUMBERS = [*(None, -1, -0.0, 0, 0.0, 30, 30.5, 2**64, 2**70, 1e308, -1e-300, "30", True, False)]
SCORES = [*(None, -1, 0, 1, 5, 6, 7, 8, 10, 11, 5.0, True, False, "5", 2**64, [5])]
IDS = [*(None, "", "x", "x" * 128, "x" * 129, "é" * 128, "é" * 129, 7, ["a"], True)]
NAMES = [*(None, "", "billing", "q" * 64, "q" * 65, "é" * 64, "é" * 65, "bill ing", "billing\n")]
# Field -> values near its rules' edges (the generic VALUES are drawn as well).
POOLS: dict[str, list[Any]] = {
    "event_id": IDS,
    "contact_id": IDS,
    "agent_id": IDS,
    "type": [*EVENT_TYPES, None, "contact.teleported", 3, ["contact.queued"]],
    "occurred_at": TIMESTAMPS,
    "queue": [*NAMES, "sales", "a.b:c-d_e", 3, ["billing"]],
    "team": [*NAMES, 3],
    "reason": [*NAMES, 3],
    "channel": [None, "voice", "email", "social", "fax", "Voice", 1],
    "priority": [None, "urgent", "low", "asap", 1],
    "state": [None, "available", "offline", "napping", 1],
    "queues": [None, [], ["billing"], ["b", "a", "b"], ["a b"], ["billing", None], "billing", {}],
    "hold_seconds": NUMBERS,
    "ring_seconds": NUMBERS,
    "first_contact": [None, True, False, 0, 1, "yes", "true"],
    "csat": SCORES,
    "ces": SCORES,
    "nps": SCORES,
    "note": [None, 1, "x"],
}
POOLS["occurred_at"] = [None, "2026-11-22T09:00:00Z", 1795338000000]  # all forms: TIMESTAMPS


def value_for(key: str) -> st.SearchStrategy[Any]:
    near = st.sampled_from(POOLS[key])
    return st.one_of(near, near, near, VALUES)


def dumps(value: object) -> bytes:
    """JSON text of `value`, integers beyond 64 bits included (orjson refuses those)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False).encode()


def escaped(key: str) -> bytes:
    """The key with its first letter written as a JSON \\u escape."""
    return b'"\\u%04x' % ord(key[0]) + key[1:].encode() + b'"'


@st.composite
def near_valid(draw: st.DrawFn) -> bytes:
    """A valid event of some type with a few fields changed, dropped, repeated (a JSON
    object may repeat a key: the last counts) or written with an escaped key."""
    type_ = draw(st.sampled_from(EVENT_TYPES))
    event: dict[str, Any] = {
        "event_id": "e-1",
        "type": type_,
        "occurred_at": draw(st.sampled_from(TIMESTAMPS[:5])),
        **BASES[type_],
    }
    for key in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        if draw(st.integers(0, 4)) == 0:
            event.pop(key, None)
        else:
            event[key] = draw(value_for(key))
    pairs = [(dumps(key), dumps(value)) for key, value in event.items()]
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(FIELDS))
        name = escaped(key) if draw(st.booleans()) else dumps(key)
        pairs.insert(draw(st.integers(0, len(pairs))), (name, dumps(draw(value_for(key)))))
    space = draw(st.sampled_from([b"", b" ", b"\n", b"\t "]))
    return space + b"{" + b",".join(k + b":" + space + v for k, v in pairs) + b"}" + space


def test_every_single_field_edit_has_one_outcome() -> None:
    """Exhaustively: each event type with one field set to each value of its pool (and to
    each timestamp form), or removed."""
    checked = 0
    for type_ in EVENT_TYPES:
        for occurred_at in TIMESTAMPS:
            base = {"event_id": "e-1", "type": type_, "occurred_at": occurred_at, **BASES[type_]}
            for key in FIELDS:
                for value in [..., *POOLS[key]]:
                    event = {**base, key: value}
                    if value is ...:
                        del event[key]
                    check(dumps(event))
                    checked += 1
    assert checked > 50_000


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=2000, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid())
@example(
    b'{"event_id":"e","type":"survey.responded","occurred_at":0,"contact_id":"c","csat":1,"csat":true}'
)
@example(
    b'{"event_id":"e","type":"contact.ended","type":"contact.ended","occurred_at":0,"contact_id":"c"}'
)
@example(
    b'{"event_id":"e","type":"contact.ended","type":"survey.responded","occurred_at":0,"contact_id":"c","csat":1}'
)
@example(b'{"event_id":"e","type":"contact.ended","occurred_at":0,"contact_id":"c","\xff":1}')
@example(b'{"event_id":"e","type":"contact.ended","occurred_at":0,"contact_id":"c","x":1e400}')
def test_near_valid_messages_have_one_outcome(raw: bytes) -> None:
    check(raw)


@settings(max_examples=500)
@given(JSON)
def test_arbitrary_json_has_one_outcome(value: object) -> None:
    check(dumps(value))


@settings(max_examples=500)
@given(near_valid(), st.data())
def test_damaged_bytes_have_one_outcome(raw: bytes, data: st.DataObject) -> None:
    """Bytes changed, cut or inserted: invalid UTF-8, surrogate escapes, a BOM, NaN."""
    at = data.draw(st.integers(0, len(raw)))
    patch = data.draw(
        st.sampled_from([b"\xff", b"\xed\xa0\x80", b"\\ud800", b"\xef\xbb\xbf", b"NaN", b"1e400"])
        | st.binary(max_size=3)
    )
    check(raw[:at] + patch + raw[at + data.draw(st.integers(0, 2)) :])


def test_the_fast_path_takes_every_valid_event_of_a_simulated_day(tmp_path: Path) -> None:
    """Not a path for show: each event of a generated day (every type, the three
    timestamp forms) is built by the fast path, identical to the reference path's."""
    path = tmp_path / "day.jsonl"
    write_day(DayPlan(seed=7, contacts=300, day="2026-11-20"), path)
    lines = path.read_bytes().splitlines()
    assert len(lines) > 1000
    for raw in lines:
        fast = decode_fast(raw, WALL)
        assert fast is not None, raw
        assert event_to_tuple(fast) == event_to_tuple(decode_reference(raw, WALL))


@given(st.sampled_from(EVENT_TYPES), st.sampled_from(TIMESTAMPS[:5]))
def test_the_fast_path_takes_each_type(type_: str, occurred_at: object) -> None:
    raw = orjson.dumps({"event_id": "e", "type": type_, "occurred_at": occurred_at, **BASES[type_]})
    fast = decode_fast(raw, WALL)
    assert fast is not None
    assert event_to_tuple(fast) == event_to_tuple(decode_reference(raw, WALL))


def test_every_struct_starts_with_the_common_fields() -> None:
    """`decode_fast` reads the common fields by position."""
    for cls in fast_intake.Message.__subclasses__():
        assert cls.__struct_fields__[: len(fast_intake.COMMON)] == fast_intake.COMMON


TIMESTAMP_TEXT = st.one_of(
    st.sampled_from([t for t in TIMESTAMPS if isinstance(t, str)]),
    st.builds(
        lambda prefix, second, tail: prefix + second + tail,
        st.sampled_from(
            [
                *("2026-11-22T09:00", "2026-11-22T09:01", "1970-01-01T00:00"),
                *("9999-12-31T23:59", "2026-02-29T09:00"),
            ]
        ),
        st.sampled_from([":00", ":59", ":60", ":5", ":0x", "x00", "00:"]),
        st.sampled_from(
            ["Z", ".5Z", ".123456Z", ".1234567Z", "+01:00", "-23:59", "+24:00", "z", ""]
        ),
    ),
    st.text(alphabet="0123456789-:TZtz+.,Ez ٣", min_size=18, max_size=32),
)


@settings(max_examples=500)
@given(TIMESTAMP_TEXT)
def test_the_c_parser_equals_the_python_parser(text: str) -> None:
    """`core/_timestamp.c` gives each text the value (or the refusal) of `_fast_micros`,
    its Python twin (in a pure-Python install the two are one function)."""
    assert _micros(text) == _fast_micros(text)


def test_the_compiled_build_parses_timestamps_in_c() -> None:
    """Where the core is compiled, the C parser is built and used beside it."""
    if intake.__file__.endswith(".so"):
        assert _micros is not _fast_micros
        assert type(_micros).__name__ == "builtin_function_or_method"


def test_every_tail_follows_the_parsers_rules() -> None:
    """Each tail (seconds, fraction, offset) after a minute, and a minute's neighbours:
    the C parser gives what `_fast_micros` gives, and where that is a value it is
    `datetime.fromisoformat`'s."""
    from datetime import datetime

    tails = [
        *("Z", ".5Z", ".12Z", ".123Z", ".1234Z", ".12345Z", ".123456Z", ".1234567Z", ".Z"),
        *("+01:00", "-04:00", "+23:59", "-00:30", ".12+05:30", ".123456-23:59"),
        *("+24:00", "+01:60", "+0100", "+01-00", "+01:0a", "+0a:00", "+a1:00", "-01:00 "),
        *("Z ", "z", "+01:00Z", ".1a3Z", "x", "Zx"),
    ]
    valid = 0
    for minute in ("2026-11-22T09:00", "2026-11-22T09:01", "2026-11-22T19:00"):
        for second in (":00", ":07", ":59", ":60", "x07", ":6a", ":0:"):
            for tail in tails:
                text = minute + second + tail
                expected = _fast_micros(text)
                assert _micros(text) == expected, text
                if expected >= 0:
                    valid += 1
                    assert expected / 1e6 == datetime.fromisoformat(text).timestamp(), text
    assert valid == 3 * 3 * 13  # the 13 valid tails, seconds 00, 07 and 59, three minutes
    edges = [
        *("2026-11-22T09:01:07٣Z", "2026-11-22t09:01:07Z", "2026-11-22T09:60:00Z"),
        *("2026-11-22T24:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z"),
        *("2026-11-00T00:00:00Z", "2026-11-31T00:00:00Z", "2026-02-29T00:00:00Z"),
        *("0000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "1970-01-01T00:30:00+01:00"),
        *("2024-02-29T23:59:59.999999Z", "2100-02-29T00:00:00Z", "2000-02-29T00:00:00Z"),
        *("9999-12-31T23:59:59-23:59", "2255-06-05T23:47:34.740992Z"),  # 2**53 µs
    ]
    for text in edges:
        expected = _fast_micros(text)
        assert _micros(text) == expected, text
        if expected >= 0:
            assert expected / 1e6 == datetime.fromisoformat(text).timestamp(), text
