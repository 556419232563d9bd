"""Property-based tests of the engine: monotone counters, idempotent delivery, robust intake."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from tests.support.helpers import T0, Feed, iso

PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CONTACT_TYPES = (
    "contact.queued",
    "contact.answered",
    "contact.abandoned",
    "contact.responded",
    "contact.ended",
    "contact.wrapped",
    "contact.resolved",
    "contact.reopened",
)
EVENT_TYPES = (*CONTACT_TYPES, "survey.responded", "agent.state")
CHANNELS = ("voice", "chat", "email", "messaging", "social")
PRIORITIES = ("urgent", "high", "normal", "low")
STATES = ("available", "on_contact", "after_contact_work", "away", "offline")
CONTACTS = ("c0", "c1", "c2")
QUEUES = ("q0", "q1")
AGENTS = ("a0", "a1")

# ---------------------------------------------------------------- random valid sequences


@st.composite
def event_fields(draw: st.DrawFn) -> dict:
    """The body of one valid event (no event_id / occurred_at yet)."""
    type_ = draw(st.sampled_from(EVENT_TYPES))
    if type_ == "agent.state":
        fields: dict = {
            "agent_id": draw(st.sampled_from(AGENTS)),
            "state": draw(st.sampled_from(STATES)),
        }
        if draw(st.booleans()):
            fields["queues"] = draw(st.lists(st.sampled_from(QUEUES), max_size=2, unique=True))
        return {"type": type_, **fields}
    fields = {"type": type_, "contact_id": draw(st.sampled_from(CONTACTS))}
    if type_ == "contact.queued" or draw(st.integers(0, 5)) == 0:
        fields["queue"] = draw(st.sampled_from(QUEUES))
        fields["channel"] = draw(st.sampled_from(CHANNELS))
    if type_ == "contact.queued" and draw(st.booleans()):
        fields["priority"] = draw(st.sampled_from(PRIORITIES))
    if type_ == "contact.ended" and draw(st.booleans()):
        fields["hold_seconds"] = draw(st.integers(0, 300))
    if type_ == "contact.resolved" and draw(st.booleans()):
        fields["first_contact"] = draw(st.booleans())
    if type_ == "survey.responded":
        fields["csat"] = draw(st.integers(1, 5))
        if draw(st.booleans()):
            fields["nps"] = draw(st.integers(0, 10))
    return fields


@st.composite
def steps(draw: st.DrawFn) -> list[tuple[str, object]]:
    """A short mixed sequence: ('event', dict) with unique ids, or ('advance', epoch seconds).

    Times jump around a bit (out of order on purpose); an advance may leap far enough for
    SLA breaches, the 30-minute handle rule and the orphan hold to fire.
    """
    out: list[tuple[str, object]] = []
    for i in range(draw(st.integers(1, 14))):
        if draw(st.integers(0, 5)) == 0:
            leap = draw(st.sampled_from((30, 61, 1801, 4000, 90000)))
            out.append(("advance", T0 + 2400 + leap + draw(st.integers(0, 9))))
            continue
        at = T0 + draw(st.integers(0, 2_400_000)) / 1000
        event = {"event_id": f"p{i}", **draw(event_fields())}
        # both timestamp forms of the contract: RFC 3339 and integer epoch milliseconds
        event["occurred_at"] = iso(at) if draw(st.booleans()) else round(at * 1000)
        out.append(("event", event))
    return out


def run(feed: Feed, step: tuple[str, object]) -> None:
    kind, value = step
    if kind == "advance":
        feed.advance(value)  # type: ignore[arg-type]
    else:
        assert feed.send(value) is True  # type: ignore[arg-type]


def monotone_samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Samples of counter and histogram families (which must never decrease)."""
    out = {}
    for family in text_string_to_metric_families(text):
        if family.type in ("counter", "histogram"):
            for sample in family.samples:
                out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


@PROPERTY
@given(steps())
def test_counters_never_decrease(sequence: list[tuple[str, object]]) -> None:
    feed = Feed()
    previous = monotone_samples(feed.metrics().text)
    for step in sequence:
        run(feed, step)
        current = monotone_samples(feed.metrics().text)
        for key, value in previous.items():
            assert key in current, f"{key} disappeared after {step}"
            assert current[key] >= value, f"{key} went {value} -> {current[key]} after {step}"
        previous = current


DUPLICATES = "contactcenter_events_duplicate_total"


@PROPERTY
@given(steps(), st.booleans())
def test_delivering_every_event_twice_gives_the_same_metrics(
    sequence: list[tuple[str, object]], back_to_back: bool
) -> None:
    once = Feed()
    for step in sequence:
        run(once, step)
    twice = Feed()
    if back_to_back:  # each event immediately again
        for step in sequence:
            run(twice, step)
            if step[0] == "event":
                run(twice, step)
    else:  # the whole sequence, then all of it again
        for step in sequence + sequence:
            run(twice, step)

    sent = sum(1 for kind, _ in sequence if kind == "event")
    a, b = once.metrics(), twice.metrics()
    assert a.get(DUPLICATES) == 0
    assert b.get(DUPLICATES) == sent
    assert {k: v for k, v in a.samples.items() if k[0] != DUPLICATES} == {
        k: v for k, v in b.samples.items() if k[0] != DUPLICATES
    }


# ---------------------------------------------------------------- arbitrary input

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=16)
)
JSON = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)


def assert_never_raises(feed: Feed, message: bytes) -> None:
    result = feed.send(message)
    assert isinstance(result, bool)


@PROPERTY
@given(st.lists(JSON, min_size=1, max_size=5))
def test_arbitrary_json_never_raises(values: list[object]) -> None:
    feed = Feed()
    for value in values:
        assert_never_raises(feed, orjson.dumps(value))
    feed.metrics()


@PROPERTY
@given(st.lists(st.binary(max_size=64), min_size=1, max_size=5))
def test_arbitrary_bytes_never_raise(messages: list[bytes]) -> None:
    feed = Feed()
    for message in messages:
        assert_never_raises(feed, message)
    feed.metrics()


# Timestamps in a sane range here; the extremes of the RFC 3339 range are tested below.
OFFSETS = st.integers(-23 * 60, 23 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
DATETIMES = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=OFFSETS
)
TIMESTAMPS = (
    DATETIMES.map(lambda d: d.isoformat())
    | st.integers(0, 4_102_444_800_000)
    | st.integers(int(T0 * 1000), int(T0 * 1000) + 100_000_000)
    | JSON
)


def either(*options: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(*options, JSON)


EVENT_KEYS = {
    "event_id": either(st.sampled_from(("x1", "x2", "x3")), st.text(max_size=130)),
    "type": either(st.sampled_from((*EVENT_TYPES, "contact.other"))),
    "occurred_at": TIMESTAMPS,
    "contact_id": either(st.sampled_from(CONTACTS), st.text(max_size=130)),
    "queue": either(st.sampled_from((*QUEUES, "bad queue", "", "x" * 65))),
    "channel": either(st.sampled_from((*CHANNELS, "fax"))),
    "priority": either(st.sampled_from((*PRIORITIES, "asap"))),
    "team": either(st.text(max_size=70)),
    "agent_id": either(st.sampled_from(AGENTS)),
    "state": either(st.sampled_from((*STATES, "napping"))),
    "queues": either(st.lists(st.sampled_from((*QUEUES, "bad queue")), max_size=3)),
    "hold_seconds": either(st.integers(-5, 1000), st.floats(-1e300, 1e300)),
    "first_contact": either(st.booleans()),
    "csat": either(st.integers(-1, 7)),
    "ces": either(st.integers(-1, 9)),
    "nps": either(st.integers(-1, 12)),
    "extra": JSON,
}
EVENT_DICTS = st.fixed_dictionaries({}, optional=EVENT_KEYS)


@PROPERTY
@given(st.lists(EVENT_DICTS, min_size=1, max_size=10))
def test_random_dicts_with_the_event_keys_never_raise(events: list[dict]) -> None:
    feed = Feed()
    for event in events:
        assert_never_raises(feed, orjson.dumps(event))
    feed.metrics()


def _year_one(zone: str, occurred_at: str) -> bool:
    feed = Feed(config={"timezone": zone})
    event = {
        "event_id": "e1",
        "type": "contact.queued",
        "occurred_at": occurred_at,
        "contact_id": "c1",
        "queue": "q",
        "channel": "voice",
    }
    return feed.send(event)


@pytest.mark.parametrize(
    ("zone", "occurred_at"),
    [
        ("UTC", "0001-01-01T00:00:00Z"),
        ("UTC", "0001-01-02T00:00:00+01:00"),
        ("Europe/Berlin", "0001-01-01T00:00:00Z"),
        ("UTC", "1970-01-01T00:00:00Z"),
    ],
)
def test_earliest_timestamps_do_not_raise(zone: str, occurred_at: str) -> None:
    assert isinstance(_year_one(zone, occurred_at), bool)


@pytest.mark.parametrize(
    ("zone", "occurred_at"),
    [
        ("UTC", "0001-01-01T00:00:00+01:00"),  # 31 Dec of year 0 in UTC
        ("America/New_York", "0001-01-01T00:00:00Z"),  # 31 Dec of year 0 in New York
    ],
)
def test_timestamps_before_year_one_locally_do_not_raise(zone: str, occurred_at: str) -> None:
    assert isinstance(_year_one(zone, occurred_at), bool)
