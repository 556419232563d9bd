"""The Twilio TaskRouter connector against bodies written by hand from Twilio's documentation:
the parameters the TaskRouter Event reference lists for each event of a Workspace's Event
Callback URL (Task, TaskChannel, TaskQueue, Reservation, Worker fields; Sid EV…, Timestamp,
TimestampMs), posted form-encoded, and Event Streams CloudEvents shaped like the documented
TaskRouter.WDSEvent examples (data.payload with the same fields in snake_case). Twilio
cannot be reached here; every expectation is worked out by hand beside its case."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

import orjson
import pytest

from streams.connectors.base import Connector
from streams.connectors.twilio import TwilioConnector, verify_signature
from streams.core.intake import Rejection

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"
T = 1795338000  # 2026-11-22T09:00:00Z
T2 = T + 3600  # 2026-11-22T10:00:00Z, the Event Streams batch
CALL = "WT7f3e2d1c0b9a8f7e6d5c4b3a29180706"
EMAIL = "WTe0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0"
ALICE = "WKa0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
BOB = "WKb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
CAROL = "WKc0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0"
DAVE = "WKd0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0"
EV = "EV000000000000000000000000000"  # + 5 digits: the fixtures' event sids


def plain(item: dict[str, Any] | Rejection) -> Any:
    if isinstance(item, Rejection):
        return (item.reason, item.detail)
    return item


def mapped(connector: Connector, *records: bytes) -> list[Any]:
    out: list[Any] = []
    for record in records:
        out += [plain(item) for item in connector.feed(record)]
    return out


def call_lines() -> list[bytes]:
    return (FIXTURES / "call.form").read_bytes().splitlines()


def batch() -> list[dict[str, Any]]:
    return orjson.loads((FIXTURES / "email-batch.json").read_bytes())


def form(**params: str) -> bytes:
    """A webhook body as TaskRouter posts it (application/x-www-form-urlencoded)."""
    base = {
        "AccountSid": "AC5ef8732a3c49700934481addd5ce1659",
        "WorkspaceSid": "WS5b8c3c2e6f0d4a1b9c7d8e9f0a1b2c3d",
        "Timestamp": str(T),
    }
    return urlencode({**base, **params}).encode()


def cloudevent(event_type: str, ident: str, time: str, **payload: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "type": f"com.twilio.taskrouter.{event_type}",
        "source": "/v1/Workspaces/WS5b8c3c2e6f0d4a1b9c7d8e9f0a1b2c3d",
        "id": ident,
        "dataschema": "https://events-schemas.twilio.com/TaskRouter.WDSEvent/4",
        "datacontenttype": "application/json",
        "time": time,
        "data": {"name": event_type, "timestamp": time, "payload": payload},
    }


# ---------------------------------------------------------------------- whole contacts


def test_a_voice_call_posted_to_the_event_callback_url() -> None:
    """Bob's reservation times out (20 s), Carol rejects hers, Alice accepts at t+30; the
    call ends at t+150 (task.wrapup), wrap-up ends at t+165 (task.completed). task.created
    (no queue yet), workflow.entered and reservation.created are ignored, counted."""
    connector = TwilioConnector()
    assert mapped(connector, *call_lines()) == [
        {
            "event_id": f"twilio:{EV}00103",
            "type": "contact.queued",
            "occurred_at": (T + 1) * 1000,
            "contact_id": CALL,
            "queue": "Support:20EU",  # "Support EU": the space escaped, reversibly
            "channel": "voice",
        },
        {
            "event_id": f"twilio:{EV}00105",
            "type": "contact.missed",
            "occurred_at": (T + 21) * 1000 + 500,
            "contact_id": CALL,
            "agent_id": BOB,
        },
        {
            "event_id": f"twilio:{EV}00106",
            "type": "contact.missed",
            "occurred_at": (T + 25) * 1000,
            "contact_id": CALL,
            "agent_id": CAROL,
        },
        {
            "event_id": f"twilio:{EV}00107",
            "type": "contact.answered",
            "occurred_at": (T + 30) * 1000,
            "contact_id": CALL,
            "agent_id": ALICE,
        },
        {
            "event_id": f"twilio:{EV}00108",
            "type": "agent.state",
            "occurred_at": (T + 30) * 1000 + 250,
            "agent_id": ALICE,
            "state": "on_contact",  # activity Busy
        },
        {
            "event_id": f"twilio:{CALL}:ended",
            "type": "contact.ended",
            "occurred_at": (T + 150) * 1000,
            "contact_id": CALL,
        },
        {  # task.completed: the same end again, with the same id (a duplicate downstream)
            "event_id": f"twilio:{CALL}:ended",
            "type": "contact.ended",
            "occurred_at": (T + 165) * 1000,
            "contact_id": CALL,
        },
        {
            "event_id": f"twilio:{EV}00110",
            "type": "contact.wrapped",
            "occurred_at": (T + 165) * 1000,
            "contact_id": CALL,
        },  # voice: resolved is not sent
        {
            "event_id": f"twilio:{EV}00111",
            "type": "agent.state",
            "occurred_at": (T + 165) * 1000 + 500,
            "agent_id": ALICE,
            "state": "available",
        },
    ]
    assert connector.ignored == {
        "task.created": 1,
        "workflow.entered": 1,
        "reservation.created": 1,
    }


def test_an_email_task_from_an_event_streams_batch() -> None:
    """One POST of an Event Streams webhook sink: a JSON array of CloudEvents. The email is
    queued at 10:00:00.250 (payload timestamp), accepted by Dave at 10:02, completed at 10:20
    (ended, wrapped and, not a live channel, resolved); Dave goes on Break at 10:21. A Studio
    event in the same sink and reservation.created are ignored."""
    connector = TwilioConnector()
    body = (FIXTURES / "email-batch.json").read_bytes()
    assert mapped(connector, body) == [
        {
            "event_id": "twilio:EV00000000000000000000000000000201",
            "type": "contact.queued",
            "occurred_at": T2 * 1000 + 250,
            "contact_id": EMAIL,
            "queue": "Billing",
            "channel": "email",
        },
        {
            "event_id": "twilio:EV00000000000000000000000000000203",
            "type": "contact.answered",
            "occurred_at": (T2 + 120) * 1000,
            "contact_id": EMAIL,
            "agent_id": DAVE,
        },
        {
            "event_id": f"twilio:{EMAIL}:ended",
            "type": "contact.ended",
            "occurred_at": (T2 + 1200) * 1000,
            "contact_id": EMAIL,
        },
        {
            "event_id": "twilio:EV00000000000000000000000000000205",
            "type": "contact.wrapped",
            "occurred_at": (T2 + 1200) * 1000,
            "contact_id": EMAIL,
        },
        {
            "event_id": "twilio:EV00000000000000000000000000000205:resolved",
            "type": "contact.resolved",
            "occurred_at": (T2 + 1200) * 1000,
            "contact_id": EMAIL,
        },
        {
            "event_id": "twilio:EV00000000000000000000000000000206",
            "type": "agent.state",
            "occurred_at": (T2 + 1260) * 1000,
            "agent_id": DAVE,
            "state": "away",
            "reason": "break",
        },
    ]
    assert connector.ignored == {"reservation.created": 1, "not_taskrouter": 1}


def test_a_canceled_task_is_abandoned_with_twilio_s_reason() -> None:
    """task.canceled (webhook: TaskCanceledReason; Event Streams: task_canceled_reason)."""
    hangup = form(
        EventType="task.canceled",
        Sid=f"{EV}00301",
        TimestampMs=str(T * 1000 + 42),
        TaskSid="WT33333333333333333333333333333333",
        TaskAssignmentStatus="canceled",
        TaskCanceledReason="hangup",
        TaskChannelUniqueName="voice",
    )
    ttl = cloudevent(
        "task.canceled",
        "NOb0000000000000000000000000000001",
        "2026-11-22T09:05:00Z",
        task_sid="WT44444444444444444444444444444444",
        task_canceled_reason="Task TTL Exceeded",
        task_channel_unique_name="chat",
    )
    assert mapped(TwilioConnector(), hangup, orjson.dumps(ttl)) == [
        {
            "event_id": f"twilio:{EV}00301",
            "type": "contact.abandoned",
            "occurred_at": T * 1000 + 42,
            "contact_id": "WT33333333333333333333333333333333",
            "reason": "hangup",
        },
        {  # no EV sid in this payload: the CloudEvent id
            "event_id": "twilio:NOb0000000000000000000000000000001",
            "type": "contact.abandoned",
            "occurred_at": (T + 300) * 1000,
            "contact_id": "WT44444444444444444444444444444444",
            "reason": "Task TTL Exceeded",
        },
    ]


# ---------------------------------------------------------------------- delivery


def test_a_retried_delivery_maps_to_the_same_event_ids() -> None:
    """At least once: the same body again (another receiver, or a retry) gives the same
    events; a CloudEvent alone on a line maps as it does inside its batch."""
    lines = call_lines()
    first = mapped(TwilioConnector(), *lines)
    assert mapped(TwilioConnector(), *lines) == first
    again = TwilioConnector()
    assert mapped(again, lines[6], lines[6]) == [first[3], first[3]]  # reservation.accepted
    events = batch()
    alone = [item for e in events for item in mapped(TwilioConnector(), orjson.dumps(e))]
    assert alone == mapped(TwilioConnector(), orjson.dumps(events))


def test_each_record_maps_alone_whatever_came_before() -> None:
    """Unordered delivery: task.completed before reservation.accepted before the queue
    entry maps each record exactly as in order; no record depends on another."""
    lines = call_lines()
    in_order = [mapped(TwilioConnector(), line) for line in lines]
    connector = TwilioConnector()
    backwards = [mapped(connector, line) for line in reversed(lines)]
    assert backwards == list(reversed(in_order))
    completed, accepted = lines[9], lines[6]
    assert mapped(TwilioConnector(), completed, accepted) == [
        {
            "event_id": f"twilio:{CALL}:ended",
            "type": "contact.ended",
            "occurred_at": (T + 165) * 1000,
            "contact_id": CALL,
        },
        {
            "event_id": f"twilio:{EV}00110",
            "type": "contact.wrapped",
            "occurred_at": (T + 165) * 1000,
            "contact_id": CALL,
        },
        {
            "event_id": f"twilio:{EV}00107",
            "type": "contact.answered",
            "occurred_at": (T + 30) * 1000,
            "contact_id": CALL,
            "agent_id": ALICE,
        },
    ]


def test_webhook_parameters_kept_as_a_json_line_map_like_the_form() -> None:
    """A file line may hold the webhook's parameters as a JSON object (EventType...)."""
    line = call_lines()[2]
    params = dict(pair.split("=", 1) for pair in line.decode().split("&"))
    as_json = orjson.dumps({k: unquote_plus(v) for k, v in params.items()})
    assert mapped(TwilioConnector(), as_json) == mapped(TwilioConnector(), line)


# ---------------------------------------------------------------------- channels, activities


@pytest.mark.parametrize(
    ("unique_name", "attributes", "channel"),
    [
        ("voice", "{}", "voice"),
        ("chat", "{}", "chat"),
        ("sms", "{}", "messaging"),
        ("whatsapp", "{}", "messaging"),
        ("messaging", "{}", "messaging"),
        ("email", "{}", "email"),
        ("default", '{"call_sid":"CA42ed11f93dc08b952027ffbc406d0868"}', "voice"),  # <Enqueue>
        ("default", '{"channelType":"web"}', "chat"),
        ("default", '{"channelType":"whatsapp"}', "messaging"),
        ("default", "{}", "messaging"),
        ("callback", "not json", "messaging"),
    ],
)
def test_the_channel_comes_from_the_task_channel(
    unique_name: str, attributes: str, channel: str
) -> None:
    body = form(
        EventType="task-queue.entered",
        Sid=f"{EV}00401",
        TaskSid=CALL,
        TaskQueueName="Sales",
        TaskChannelUniqueName=unique_name,
        TaskAttributes=attributes,
    )
    assert mapped(TwilioConnector(), body)[0]["channel"] == channel


def activity(name: str, sid: str = f"{EV}00501") -> bytes:
    return form(
        EventType="worker.activity.update", Sid=sid, WorkerSid=ALICE, WorkerActivityName=name
    )


def test_activities_map_to_agent_states_through_a_configurable_map() -> None:
    """Defaults name Twilio's built-in activities; a given map adds to them and overrides
    them ("state" or "state:reason"); names match exactly, else ignoring case; an activity
    no map names is away with its name as the reason."""
    connector = TwilioConnector(
        {"Lunch": "away:lunch", "Unavailable": "offline", "Training": "away"}
    )
    names = ["Available", "offline", "Break", "Lunch", "Unavailable", "Training", "Coaching 1:1"]
    got = [
        (e["state"], e.get("reason")) for name in names for e in mapped(connector, activity(name))
    ]
    assert got == [
        ("available", None),
        ("offline", None),  # "Offline", whatever its case
        ("away", "break"),
        ("away", "lunch"),
        ("offline", None),  # the default away:unavailable overridden
        ("away", None),
        ("away", "Coaching 1:1"),
    ]


@pytest.mark.parametrize(
    ("activities", "message"),
    [
        ({"Lunch": "napping"}, "activity 'Lunch': 'napping' is not an agent state"),
        ({"Lunch": "away:" + "x" * 65}, "activity 'Lunch': reason 'xxxxxxxxxxxxxxxxxxxx'..."),
    ],
)
def test_a_wrong_activity_map_is_refused_at_start(activities: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(".", r"\.")):
        TwilioConnector(activities)


# ---------------------------------------------------------------------- ignored, rejected


def test_events_floorwatch_does_not_map_are_ignored_and_counted() -> None:
    connector = TwilioConnector()
    bodies = [
        form(EventType="task.updated", Sid=f"{EV}00601", TaskSid=CALL),
        form(EventType="reservation.created", Sid=f"{EV}00602", TaskSid=CALL, WorkerSid=BOB),
        form(EventType="reservation.canceled", Sid=f"{EV}00603", TaskSid=CALL, WorkerSid=BOB),
        form(EventType="workflow.target-matched", Sid=f"{EV}00604", TaskSid=CALL),
        form(EventType="worker.attributes.update", Sid=f"{EV}00605", WorkerSid=BOB),
        form(EventType="task.created", Sid=f"{EV}00606", TaskSid=CALL),
        form(EventType="task.brand-new-event", Sid=f"{EV}00607", TaskSid=CALL),
        orjson.dumps(cloudevent("workflow.entered", "NOc1", "2026-11-22T09:00:00Z")),
    ]
    assert mapped(connector, *bodies) == []
    assert connector.ignored == {
        "task.updated": 1,
        "reservation.created": 1,
        "reservation.canceled": 1,
        "workflow.target-matched": 1,
        "worker.attributes.update": 1,
        "task.created": 1,
        "unknown_event_type": 1,
        "workflow.entered": 1,
    }
    assert connector.snapshot() == {"ignored": connector.ignored}


def test_task_created_with_a_queue_is_queued() -> None:
    """Should a task.created ever name its queue, it is queued there (an id of its own)."""
    body = form(
        EventType="task.created",
        Sid=f"{EV}00701",
        TaskSid=CALL,
        TaskQueueName="Sales",
        TaskChannelUniqueName="chat",
    )
    assert mapped(TwilioConnector(), body) == [
        {
            "event_id": f"twilio:{EV}00701:created",
            "type": "contact.queued",
            "occurred_at": T * 1000,
            "contact_id": CALL,
            "queue": "Sales",
            "channel": "chat",
        }
    ]


MALFORMED = [
    (
        b"hello world",
        ("invalid_value", "neither JSON nor a form-encoded body (name=value pairs joined by &)"),
    ),
    (b"[1]", ("not_an_object", "element 0 of the array: not an object")),
    (
        b'{"foo": 1}',
        (
            "missing_field",
            "the body: neither a CloudEvent (type, data) nor TaskRouter parameters (EventType)",
        ),
    ),
    (
        b'{"type": "com.twilio.taskrouter.task.wrapup", "id": "NO1", "data": "x"}',
        ("wrong_type", "the body: CloudEvent data is not an object"),
    ),
    (b'{"type": 7, "data": {}}', ("wrong_type", "the body: CloudEvent type is not a string")),
    (b'{"EventType": 7}', ("wrong_type", "the body: EventType is not a string")),
    (form(TaskSid=CALL), ("missing_field", "EventType: no event type")),
    (b"", ("missing_field", "EventType: no event type")),
    (
        form(EventType="task-queue.entered", TaskQueueName="Sales"),
        ("missing_field", "task-queue.entered without TaskSid"),
    ),
    (
        form(EventType="task-queue.entered", TaskSid=CALL),
        ("missing_field", "task-queue.entered without TaskQueueName"),
    ),
    (
        form(EventType="reservation.accepted", TaskSid=CALL),
        ("missing_field", "reservation.accepted without WorkerSid"),
    ),
    (
        form(EventType="reservation.timeout", WorkerSid=BOB),
        ("missing_field", "reservation.timeout without TaskSid"),
    ),
    (
        form(EventType="worker.activity.update", WorkerSid=BOB),
        ("missing_field", "worker.activity.update without WorkerActivityName"),
    ),
    (
        form(EventType="task.wrapup", TaskSid=CALL, Timestamp="yesterday"),
        ("invalid_timestamp", "timestamp: 'yesterday' is not an epoch or ISO time"),
    ),
    (
        b"EventType=task.wrapup&TaskSid=WT1",
        ("missing_field", "Timestamp: the event carries no time"),
    ),
    (b"x" * (4 * 1024 * 1024 + 1), ("too_large", "body of 4194305 bytes exceeds 4194304")),
]


@pytest.mark.parametrize(("body", "rejection"), MALFORMED)
def test_a_malformed_body_is_rejected_with_a_specific_reason(
    body: bytes, rejection: tuple[str, str]
) -> None:
    assert mapped(TwilioConnector(), body) == [rejection]


def test_broken_json_is_invalid_json_and_a_bad_element_spares_its_neighbours() -> None:
    [(reason, detail)] = mapped(TwilioConnector(), b'{"type": ')
    assert (reason, detail.startswith("a body starting with b'{': ")) == ("invalid_json", True)
    good = cloudevent("task.wrapup", "NOd1", "2026-11-22T09:00:00Z", task_sid=CALL)
    assert mapped(TwilioConnector(), orjson.dumps(["oops", good])) == [
        ("not_an_object", "element 0 of the array: not an object"),
        {
            "event_id": f"twilio:{CALL}:ended",
            "type": "contact.ended",
            "occurred_at": T * 1000,
            "contact_id": CALL,
        },
    ]


# ---------------------------------------------------------------------- X-Twilio-Signature

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
FORM_TYPE = "application/x-www-form-urlencoded"


def expected_form_signature(token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's scheme, computed here with the standard library alone."""
    signed = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(
        hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    ).decode()


def test_a_form_body_signature() -> None:
    """The vector of twilio-java's RequestValidator tests (token 12345), then a TaskRouter
    body signed here: a wrong token, a tampered body or another URL fail."""
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    body = urlencode(params).encode()
    assert verify_signature(TOKEN, URL, body, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", FORM_TYPE)
    line = call_lines()[6]
    event = dict(parse_qsl(line.decode()))
    hook = "https://floor.example.com/hooks/twilio"
    signature = expected_form_signature("tok-abc", hook, event)
    content_type = FORM_TYPE + "; charset=utf-8"
    assert verify_signature("tok-abc", hook, line, signature, content_type)
    assert not verify_signature("tok-abd", hook, line, signature, content_type)
    tampered = line.replace(b"WorkerSid=WKa0", b"WorkerSid=WKb0")
    assert not verify_signature("tok-abc", hook, tampered, signature, content_type)
    assert not verify_signature("tok-abc", hook + "x", line, signature, content_type)
    assert not verify_signature("tok-abc", hook, line, "", content_type)
    assert not verify_signature("", hook, line, signature, content_type)
    # Twilio may sign the URL with the default port, or without it
    with_port = "https://floor.example.com:443/hooks/twilio"
    assert verify_signature("tok-abc", with_port, line, signature, content_type)


def test_a_json_body_signature_checks_body_sha256() -> None:
    """JSON (Event Streams): the URL carries bodySHA256 = hex SHA-256 of the body and is
    signed alone. The vector of Twilio's helper libraries, then an Event Streams batch."""
    body = b'{"property": "value", "boolean": true}'
    digest = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    url = f"{URL}&bodySHA256={digest}"
    assert verify_signature(TOKEN, url, body, "a9nBmqA0ju/hNViExpshrM61xv4=", "application/json")
    batch_body = (FIXTURES / "email-batch.json").read_bytes()
    sink = (
        "https://floor.example.com/hooks/twilio?bodySHA256="
        + hashlib.sha256(batch_body).hexdigest()
    )
    signature = base64.b64encode(
        hmac.new(b"tok-abc", sink.encode(), hashlib.sha1).digest()
    ).decode()
    assert verify_signature("tok-abc", sink, batch_body, signature, "application/json")
    assert not verify_signature("tok-abd", sink, batch_body, signature, "application/json")
    tampered = batch_body.replace(b'"Break"', b'"Lunch"')
    assert not verify_signature("tok-abc", sink, tampered, signature, "application/json")
    no_hash = "https://floor.example.com/hooks/twilio"
    unsigned = base64.b64encode(hmac.new(b"tok-abc", no_hash.encode(), hashlib.sha1).digest())
    assert not verify_signature(
        "tok-abc", no_hash, batch_body, unsigned.decode(), "application/json"
    )
