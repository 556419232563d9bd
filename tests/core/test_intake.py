"""Event intake: every rejection rule has its own reason; valid forms are accepted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.intake import (
    Rejection,
    _fast_timestamp,
    decode,
    event_from_tuple,
    event_to_tuple,
    parse_timestamp,
)
from tests.support.helpers import WALL

VALID = {
    "event_id": "e-1",
    "type": "contact.queued",
    "occurred_at": "2026-11-22T09:00:00Z",
    "contact_id": "c-1",
    "queue": "billing",
    "channel": "voice",
}


def reason_of(raw: bytes, wall: float = WALL) -> str:
    with pytest.raises(Rejection) as caught:
        decode(raw, wall)
    return caught.value.reason


def with_fields(**changes: object) -> bytes:
    event = {**VALID, **changes}
    return orjson.dumps({k: v for k, v in event.items() if v is not ...})


def test_the_contract_examples_are_valid() -> None:
    examples = [
        '{"event_id":"e-1","type":"contact.queued","occurred_at":"2026-11-22T09:00:00Z",'
        '"contact_id":"c-1","queue":"billing","channel":"voice","priority":"high","team":"tier1"}',
        '{"event_id":"e-3","type":"contact.ended","occurred_at":"2026-11-22T09:04:17Z",'
        '"contact_id":"c-1","hold_seconds":30}',
        '{"event_id":"e-5","type":"contact.resolved","occurred_at":"2026-11-22T09:05:02Z",'
        '"contact_id":"c-1","first_contact":true}',
        '{"event_id":"e-6","type":"survey.responded","occurred_at":"2026-11-22T09:30:00Z",'
        '"contact_id":"c-1","csat":5,"ces":6,"nps":9}',
        '{"event_id":"e-7","type":"agent.state","occurred_at":1795338300000,"agent_id":"a-7",'
        '"state":"available","queues":["billing","sales"]}',
    ]
    events = [decode(line.encode(), WALL) for line in examples]
    assert events[0].priority == "high" and events[0].team == "tier1"
    assert events[1].hold_seconds == 30.0
    assert events[2].first_contact is True
    assert (events[3].csat, events[3].ces, events[3].nps) == (5, 6, 9)
    assert events[4].agent_queues == ("billing", "sales")
    # 1795338300000 ms = 2026-11-22T09:05:00Z
    assert events[4].ts == 1795338300.0


def test_both_timestamp_forms_and_offsets_agree() -> None:
    # 2026-11-22T09:00:00Z is 1795338000 s after the epoch.
    assert parse_timestamp("2026-11-22T09:00:00Z") == 1795338000.0
    assert parse_timestamp("2026-11-22T10:00:00+01:00") == 1795338000.0
    assert parse_timestamp("2026-11-22T09:00:00.125Z") == 1795338000.125
    assert parse_timestamp(1795338000125) == 1795338000.125


def test_unknown_extra_fields_are_ignored() -> None:
    event = decode(with_fields(vendor_blob={"x": [1, 2]}, note="hi"), WALL)
    assert event.contact_id == "c-1"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "invalid_json"),
        (b"\xff\xfe{}", "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        (
            b'{"event_id":"e","type":"contact.queued","occurred_at":"2026-11-22T09:00:00Z",'
            b'"contact_id":"c","queue":"q","channel":"voice","pad":"' + b"x" * 65536 + b'"}',
            "too_large",
        ),
        (with_fields(event_id=...), "missing_field"),
        (with_fields(type=...), "missing_field"),
        (with_fields(occurred_at=...), "missing_field"),
        (with_fields(contact_id=...), "missing_field"),
        (with_fields(queue=...), "missing_field"),
        (with_fields(channel=...), "missing_field"),
        (with_fields(event_id=7), "wrong_type"),
        (with_fields(type=["contact.queued"]), "wrong_type"),
        (with_fields(contact_id={"id": 1}), "wrong_type"),
        (with_fields(queue=["billing"]), "wrong_type"),
        (with_fields(occurred_at=1.5e12), "wrong_type"),
        (with_fields(occurred_at=True), "wrong_type"),
        (with_fields(event_id=""), "out_of_range"),
        (with_fields(event_id="x" * 129), "out_of_range"),
        (with_fields(occurred_at=-1), "out_of_range"),
        (with_fields(occurred_at="1969-12-31T23:59:59.999Z"), "out_of_range"),
        (with_fields(channel="fax"), "invalid_value"),
        (with_fields(priority="asap"), "invalid_value"),
        (with_fields(queue="bill ing"), "invalid_value"),
        (with_fields(queue="q" * 65), "invalid_value"),
        (with_fields(occurred_at="2026-11-22T09:00:00"), "invalid_timestamp"),
        (with_fields(occurred_at="2026-11-22"), "invalid_timestamp"),
        (with_fields(occurred_at="yesterday at noon"), "invalid_timestamp"),
        (with_fields(type="contact.teleported"), "unknown_type"),
    ],
)
def test_each_rejection_has_its_reason(raw: bytes, reason: str) -> None:
    assert reason_of(raw) == reason


def test_exactly_64_kib_is_accepted_and_one_byte_more_rejected() -> None:
    base = with_fields(pad="")
    filler = 65536 - len(base)
    exact = with_fields(pad="x" * filler)
    assert len(exact) == 65536
    assert decode(exact, WALL).event_id == "e-1"
    assert reason_of(with_fields(pad="x" * (filler + 1))) == "too_large"


def test_future_timestamps_beyond_five_minutes_are_rejected() -> None:
    at = parse_timestamp("2026-11-22T09:00:00Z")
    assert decode(with_fields(), at - 300).ts == at  # exactly 5 minutes ahead: accepted
    assert reason_of(with_fields(), at - 300.001) == "future_timestamp"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"type": "survey.responded"}, "missing_field"),
        ({"type": "survey.responded", "csat": 6}, "out_of_range"),
        ({"type": "survey.responded", "csat": 0}, "out_of_range"),
        ({"type": "survey.responded", "ces": 8}, "out_of_range"),
        ({"type": "survey.responded", "nps": 11}, "out_of_range"),
        ({"type": "survey.responded", "nps": -1}, "out_of_range"),
        ({"type": "survey.responded", "csat": 4.0}, "wrong_type"),
        ({"type": "survey.responded", "csat": True}, "wrong_type"),
        ({"type": "contact.ended", "hold_seconds": -1}, "out_of_range"),
        ({"type": "contact.ended", "hold_seconds": "30"}, "wrong_type"),
        ({"type": "contact.resolved", "first_contact": "yes"}, "wrong_type"),
        ({"type": "agent.state", "contact_id": ..., "agent_id": "a"}, "missing_field"),
        ({"type": "agent.state", "agent_id": "a", "state": "napping"}, "invalid_value"),
        ({"type": "agent.state", "agent_id": "a", "state": "away", "queues": "q"}, "wrong_type"),
        (
            {"type": "agent.state", "agent_id": "a", "state": "away", "queues": ["a b"]},
            "invalid_value",
        ),
        ({"type": "contact.answered", "contact_id": ...}, "missing_field"),
        ({"type": "contact.missed"}, "missing_field"),  # agent_id
        ({"type": "contact.missed", "agent_id": "a", "ring_seconds": -1}, "out_of_range"),
        ({"type": "contact.missed", "agent_id": "a", "ring_seconds": "15"}, "wrong_type"),
        ({"type": "agent.state", "agent_id": "a", "state": "away", "reason": ""}, "out_of_range"),
        (
            {"type": "agent.state", "agent_id": "a", "state": "away", "reason": "x" * 65},
            "out_of_range",
        ),
        ({"type": "agent.state", "agent_id": "a", "state": "away", "reason": 3}, "wrong_type"),
    ],
)
def test_type_specific_rules(fields: dict, reason: str) -> None:
    assert reason_of(with_fields(**fields)) == reason


def test_optional_queue_and_channel_on_follow_up_events() -> None:
    raw = orjson.dumps(
        {
            "event_id": "e-2",
            "type": "contact.answered",
            "occurred_at": "2026-11-22T09:00:17Z",
            "contact_id": "c-1",
        }
    )
    event = decode(raw, WALL)
    assert event.queue is None and event.channel is None and event.priority is None


def test_rejection_details_name_the_field_but_not_the_value() -> None:
    with pytest.raises(Rejection) as caught:
        decode(with_fields(queue="secret customer name!"), WALL)
    assert "queue" in caught.value.detail
    assert "secret" not in caught.value.detail


def test_version_1_1_fields_are_kept() -> None:
    missed = decode(with_fields(type="contact.missed", agent_id="a-7", ring_seconds=15), WALL)
    assert (missed.agent_id, missed.ring_seconds) == ("a-7", 15.0)
    away = decode(
        with_fields(type="agent.state", contact_id=..., agent_id="a", state="away", reason="lunch"),
        WALL,
    )
    assert away.reason == "lunch"


def test_an_event_stored_before_version_1_1_is_read_back() -> None:
    """Parked events are stored as tuples; one written before the 1.1 fields existed."""
    old = ("e-1", "contact.answered", 10.0, "c-1", None, None, None, None, "a-7")
    old += (None, None, None, None, None, "", None)
    event = event_from_tuple(old)
    assert (event.agent_id, event.reason, event.ring_seconds) == ("a-7", None, None)
    assert event_to_tuple(event) == (*old, None, None)


def test_every_field_survives_the_tuple_between_processes() -> None:
    """The decoding process sends tuples: each field, set alone and all together, is read
    back as it was (the others keep their defaults)."""
    full = ("e-1", "agent.state", 10.5, "c-1", "q", "chat", "high", "t", "a-7", 3.5, False)
    full += (4, 6, 0, "away", ("q", "r"), "lunch", 12.0)
    defaults = ("e-1", "agent.state", 10.5, "", None, None, None, None, "")
    defaults += (None, None, None, None, None, "", None, None, None)
    for index in range(3, len(full)):
        one = (*defaults[:index], full[index], *defaults[index + 1 :])
        assert event_to_tuple(event_from_tuple(one)) == one
    assert event_to_tuple(event_from_tuple(full)) == full
    assert event_to_tuple(event_from_tuple(defaults)) == defaults


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(
    moment=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.none()
    ),
    offset_minutes=st.integers(-23 * 60 - 59, 23 * 60 + 59),
    digits=st.integers(0, 9),
    zulu=st.booleans(),
)
def test_the_fast_timestamp_path_equals_the_standard_parser(
    moment: datetime, offset_minutes: int, digits: int, zulu: bool
) -> None:
    """Every RFC 3339 form, with 0-9 fraction digits and any offset: the same epoch seconds
    as datetime.fromisoformat (or the same rejection), whichever path takes it."""
    if zulu:
        zone, suffix = UTC, "Z"
    else:
        zone = timezone(timedelta(minutes=offset_minutes))
        sign = "+" if offset_minutes >= 0 else "-"
        suffix = f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
    local = moment.replace(tzinfo=zone)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{local.microsecond:06d}{local.microsecond:03d}"[:digits]
    text += suffix
    expected = datetime.fromisoformat(text).timestamp()
    if expected < 0:
        assert reason_of(with_fields(occurred_at=text)) == "out_of_range"
    else:
        assert parse_timestamp(text) == expected


@given(st.text(alphabet="0123456789-:TZtz+.,Ez ٣", min_size=18, max_size=32))
def test_the_fast_path_takes_no_text_the_standard_parser_refuses(text: str) -> None:
    fast = _fast_timestamp(text)
    if fast >= 0:
        assert fast == datetime.fromisoformat(text).timestamp()


def test_the_fast_path_handles_leap_days_and_offsets() -> None:
    """Worked out by hand: 2028-02-29T12:00:00+02:00 = 10:00 UTC on day 21,243 after 1970
    (58 years: 14 leap days from 1972 to 2024 + 58 x 365 = 21,184, then Jan 31 + Feb 28)."""
    assert 58 * 365 + 14 + 31 + 28 == 21243
    assert _fast_timestamp("2028-02-29T12:00:00+02:00") == 21243 * 86400 + 10 * 3600
    assert _fast_timestamp("2027-02-29T12:00:00Z") == -1.0  # no such day: the full parser
    assert _fast_timestamp("2026-11-22T09:15:02.1234567Z") == -1.0  # 7 digits: the full parser
    assert parse_timestamp("2026-11-22T09:15:02.1234567Z") == 1795338902.123456
