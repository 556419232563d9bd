"""The Amazon Connect connector against documents written by hand from the Amazon Connect
Administrator Guide: the EventBridge contact events of "Amazon Connect contact events"
(its samples: connected to an agent, disconnected), the agent event stream records of
"Determine how long an agent spends doing ACW" and "Sample agent event stream"
(fixtures/amazon_connect, comments of the samples removed) and contact records of the
"Contact records data model". Connect cannot run here; every expectation is worked out by
hand beside its case (epoch milliseconds computed from the dates)."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.connectors.amazon_connect import AmazonConnectConnector, verify_secret
from streams.core.intake import Rejection, decode

FIXTURES = Path(__file__).parent / "fixtures" / "amazon_connect"
INSTANCE = "arn:aws:connect:us-west-2:123456789012:instance/12345678-1234-1234-1234-123456789012"
QUEUE_ID = "aaaaaaaa-0000-4000-8000-000000000001"
QUEUE_ARN = f"{INSTANCE}/queue/{QUEUE_ID}"
AGENT_ID = "bbbbbbbb-0000-4000-8000-000000000007"
AGENT_ARN = f"{INSTANCE}/agent/{AGENT_ID}"
CALL = "11111111-1111-1111-1111-111111111111"
# 2021-08-04T00:00:00Z = 18843 days after 1970-01-01 = 1628035200 s.
DAY = 1628035200
QUEUED_AT = (DAY + 17 * 3600 + 29 * 60 + 4) * 1000  # 17:29:04 -> 1628098144000
ANSWERED_AT = QUEUED_AT + 5000  # 17:29:09
ENDED_AT = (DAY + 17 * 3600 + 31 * 60 + 37) * 1000  # 17:31:37 -> 1628098297000
WRAPPED_AT = ENDED_AT + 30_000  # 17:32:07


def iso(ms: int) -> str:
    """The documented form of a time, written from the hand-computed milliseconds."""
    seconds = ms // 1000 - DAY
    h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"2021-08-04T{h:02d}:{m:02d}:{s:02d}.{ms % 1000:03d}Z"


def contact_event(kind: str, envelope_id: str, contact: str = CALL, **detail: Any) -> bytes:
    """An EventBridge event as the guide's samples show it (camelCase detail)."""
    body = {
        "eventType": kind,
        "contactId": contact,
        "initialContactId": contact,
        "channel": "VOICE",
        "instanceArn": INSTANCE,
        "initiationMethod": "INBOUND",
        "initiationTimestamp": "2021-08-04T17:28:53.000Z",
        **detail,
    }
    return orjson.dumps(
        {
            "version": "0",
            "id": envelope_id,
            "detail-type": "Amazon Connect Contact Event",
            "source": "aws.connect",
            "account": "111122223333",
            "time": "2021-08-04T17:43:48Z",
            "region": "us-west-2",
            "resources": [f"{INSTANCE}/contact/{contact}", INSTANCE],
            "detail": body,
        }
    )


QUEUE_INFO = {"queueArn": QUEUE_ARN, "queueType": "STANDARD", "enqueueTimestamp": iso(QUEUED_AT)}
AGENT_INFO = {"agentArn": AGENT_ARN, "connectedToAgentTimestamp": iso(ANSWERED_AT)}
QUEUED = contact_event("QUEUED", "e-1", queueInfo=QUEUE_INFO)
CONNECTED = contact_event("CONNECTED_TO_AGENT", "e-2", queueInfo=QUEUE_INFO, agentInfo=AGENT_INFO)
DISCONNECTED = contact_event(
    "DISCONNECTED",
    "e-3",
    queueInfo=QUEUE_INFO,
    agentInfo=AGENT_INFO,
    disconnectTimestamp=iso(ENDED_AT),
    disconnectReason="AGENT_DISCONNECT",
)
COMPLETED = contact_event(
    "COMPLETED",
    "e-4",
    queueInfo=QUEUE_INFO,
    disconnectTimestamp=iso(ENDED_AT),
    agentInfo={
        **AGENT_INFO,
        "afterContactWorkStartTimestamp": iso(ENDED_AT),
        "afterContactWorkEndTimestamp": iso(WRAPPED_AT),
        "afterContactWorkDuration": 30,
    },
)


def plain(item: dict[str, Any] | Rejection) -> Any:
    if isinstance(item, Rejection):
        return (item.reason, item.detail)
    return item


def mapped(*records: bytes, queues: dict[str, str] | None = None) -> list[Any]:
    connector = AmazonConnectConnector(queues)
    out: list[Any] = []
    for record in records:
        out += connector.feed(record)
    return [plain(item) for item in out]


def valid(events: list[Any]) -> None:
    """Every mapped event is a contract event the intake accepts."""
    for event in events:
        decode(orjson.dumps(event), wall_now=2_000_000_000.0)


def test_a_call_queued_answered_ended_and_wrapped() -> None:
    expected = [
        {
            "event_id": f"connect-{CALL}-queued-1628098144",
            "type": "contact.queued",
            "occurred_at": 1628098144000,
            "contact_id": CALL,
            "queue": QUEUE_ID,
            "channel": "voice",
        },
        {
            "event_id": f"connect-{CALL}-answered-1628098149",
            "type": "contact.answered",
            "occurred_at": 1628098149000,
            "contact_id": CALL,
            "agent_id": AGENT_ID,
        },
        {
            "event_id": f"connect-{CALL}-ended",
            "type": "contact.ended",
            "occurred_at": 1628098297000,
            "contact_id": CALL,
        },
        {
            "event_id": f"connect-{CALL}-wrapped",
            "type": "contact.wrapped",
            "occurred_at": 1628098327000,
            "contact_id": CALL,
        },
    ]
    assert mapped(QUEUED, CONNECTED, DISCONNECTED, COMPLETED) == expected
    valid(expected)
    # Unordered delivery: each event maps on its own, so the order changes nothing else
    # (the engine parks what overtakes its contact.queued).
    assert mapped(COMPLETED, CONNECTED, DISCONNECTED, QUEUED) == [
        expected[3],
        expected[1],
        expected[2],
        expected[0],
    ]


def test_redeliveries_keep_their_event_ids() -> None:
    """EventBridge retries (same envelope id) and a second copy from Connect (another
    envelope id, same contact and step) give the same event ids: the engine drops them."""
    again = QUEUED.replace(b'"id":"e-1"', b'"id":"e-1-copy"')
    assert again != QUEUED
    first, retry, copy_ = mapped(QUEUED, QUEUED, again)
    assert first == retry == copy_


def test_a_caller_who_hangs_up_in_the_queue_is_abandoned() -> None:
    """DISCONNECTED without agentInfo after a queue: abandoned at disconnectTimestamp; a
    reason other than CUSTOMER_DISCONNECT is kept (the flow ended the call)."""
    gone = ENDED_AT + 60_000  # 17:32:37 -> 1628098357000
    hung_up = contact_event(
        "DISCONNECTED",
        "e-5",
        "c-2",
        queueInfo=QUEUE_INFO,
        disconnectTimestamp=iso(gone),
        disconnectReason="CUSTOMER_DISCONNECT",
    )
    by_flow = contact_event(
        "DISCONNECTED",
        "e-6",
        "c-3",
        queueInfo=QUEUE_INFO,
        disconnectTimestamp=iso(gone),
        disconnectReason="CONTACT_FLOW_DISCONNECT",
    )
    ivr_only = contact_event("DISCONNECTED", "e-7", "c-4", disconnectTimestamp=iso(gone))
    connector = AmazonConnectConnector()
    out = [plain(e) for r in (hung_up, by_flow, ivr_only) for e in connector.feed(r)]
    assert out == [
        {"event_id": "connect-c-2-abandoned", "type": "contact.abandoned",
         "occurred_at": 1628098357000, "contact_id": "c-2"},
        {"event_id": "connect-c-3-abandoned", "type": "contact.abandoned",
         "occurred_at": 1628098357000, "contact_id": "c-3", "reason": "contact_flow_disconnect"},
    ]  # fmt: skip
    assert connector.ignored == {"never_queued": 1}
    valid(out)


def test_completed_without_after_contact_work_wraps_at_the_disconnect() -> None:
    no_acw = contact_event("COMPLETED", "e-8", queueInfo=QUEUE_INFO, agentInfo=AGENT_INFO,
                           disconnectTimestamp=iso(ENDED_AT))  # fmt: skip
    unanswered = contact_event("COMPLETED", "e-9", "c-2", queueInfo=QUEUE_INFO,
                               disconnectTimestamp=iso(ENDED_AT))  # fmt: skip
    connector = AmazonConnectConnector()
    assert [plain(e) for e in connector.feed(no_acw)] == [
        {"event_id": f"connect-{CALL}-wrapped", "type": "contact.wrapped",
         "occurred_at": 1628098297000, "contact_id": CALL},
    ]  # fmt: skip
    assert connector.feed(unanswered) == []
    assert connector.ignored == {"completed_unanswered": 1}


def test_channels_queue_names_and_agent_queues() -> None:
    """CHAT -> chat, EMAIL -> email (its COMPLETED also resolves it), TASK ignored; the
    `queues` map names a queue by id or ARN; AGENT queues are one queue, `_agent`."""
    chat = contact_event("QUEUED", "e-10", "c-chat", channel="CHAT", queueInfo=QUEUE_INFO)
    email_done = contact_event(
        "COMPLETED", "e-11", "c-mail", channel="EMAIL", agentInfo=AGENT_INFO,
        disconnectTimestamp=iso(ENDED_AT),
    )  # fmt: skip
    task = contact_event("QUEUED", "e-12", "c-task", channel="TASK", queueInfo=QUEUE_INFO)
    to_agent = contact_event(
        "QUEUED", "e-13", "c-xfer", initiationMethod="TRANSFER",
        queueInfo={"queueArn": f"{INSTANCE}/queue/agent/{AGENT_ID}", "queueType": "AGENT",
                   "enqueueTimestamp": iso(QUEUED_AT)},
    )  # fmt: skip
    out = mapped(chat, email_done, task, to_agent, queues={QUEUE_ID: "Billing Desk"})
    assert out == [
        {"event_id": "connect-c-chat-queued-1628098144", "type": "contact.queued",
         "occurred_at": 1628098144000, "contact_id": "c-chat", "queue": "Billing:20Desk",
         "channel": "chat"},
        {"event_id": "connect-c-mail-wrapped", "type": "contact.wrapped",
         "occurred_at": 1628098297000, "contact_id": "c-mail"},
        {"event_id": "connect-c-mail-resolved", "type": "contact.resolved",
         "occurred_at": 1628098297000, "contact_id": "c-mail"},
        {"event_id": "connect-c-xfer-queued-1628098144", "type": "contact.queued",
         "occurred_at": 1628098144000, "contact_id": "c-xfer", "queue": "_agent",
         "channel": "voice"},
    ]  # fmt: skip
    by_arn = mapped(chat, queues={QUEUE_ARN: "billing"})
    assert by_arn[0]["queue"] == "billing"
    valid(out)


def test_the_first_documented_sample_in_pascal_case_uses_the_envelope_time() -> None:
    """The guide's first sample: PascalCase detail, no timestamps of its own: the
    envelope's `time` (2021-05-01T18:43:48Z = 18748 days + 67428 s = 1619894628 s)."""
    record = orjson.dumps({
        "version": "0", "id": "abcabcab-abca-abca-abca-abcabcabcabc",
        "detail-type": "Amazon Connect Contact Event", "source": "aws.connect",
        "account": "111122223333", "time": "2021-05-01T18:43:48Z", "region": "us-west-1",
        "resources": [],
        "detail": {
            "EventType": "CONNECTED_TO_AGENT", "ContactId": CALL, "Channel": "Voice",
            "InstanceARN": INSTANCE, "InitiationMethod": "INBOUND",
            "QueueInfo": {"QueueArn": QUEUE_ARN, "QueueType": "STANDARD"},
            "AgentInfo": {"AgentArn": AGENT_ARN, "RoutingProfileArn": ""},
        },
    })  # fmt: skip
    assert mapped(record) == [
        {"event_id": f"connect-{CALL}-answered-1619894628", "type": "contact.answered",
         "occurred_at": 1619894628000, "contact_id": CALL, "agent_id": AGENT_ID},
    ]  # fmt: skip


def test_other_contact_events_are_counted() -> None:
    connector = AmazonConnectConnector()
    for kind in ("INITIATED", "CONNECTED_TO_SYSTEM", "CONTACT_DATA_UPDATED", "A_NEW_TYPE"):
        assert connector.feed(contact_event(kind, f"x-{kind}")) == []
    lens = orjson.dumps(
        {
            "id": "l-1",
            "detail-type": "Contact Lens Analysis State Change",
            "source": "aws.connect",
            "time": "2021-08-04T17:43:48Z",
            "detail": {},
        }
    )
    assert connector.feed(lens) == []  # fmt: skip
    assert connector.feed(contact_event("QUEUED", "t", channel="TASK", queueInfo=QUEUE_INFO)) == []
    assert connector.ignored == {
        "initiated": 1,
        "connected_to_system": 1,
        "contact_data_updated": 1,
        "other_event_type": 1,
        "other_detail_type": 1,
        "task_channel": 1,
    }


# Agent event stream ---------------------------------------------------------------------

SAMPLE_AGENT = "agent-ARN"
SAMPLE_QUEUES = ["queue-ARN-for-BasicQueue", "queue-ARN-for-PrimaryQueue"]
# 2019-05-25T00:00:00Z = 18041 days = 1558742400 s; 18:55:27 = +68127 s.
ACW_START_MS = 1558810527017
ACW_END_MS = 1558810532022


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_after_contact_work_from_the_documented_pair_of_records() -> None:
    """The guide's example: CONNECTED -> ENDED is after-contact work from 18:55:27.017;
    the ENDED contact leaving the snapshot at 18:55:32.022 makes the agent available."""
    out = mapped(fixture("acw_started.json"), fixture("acw_finished.json"))
    assert out == [
        {"event_id": "connect-EventId-1", "type": "agent.state", "occurred_at": ACW_START_MS,
         "agent_id": SAMPLE_AGENT, "state": "after_contact_work", "queues": SAMPLE_QUEUES},
        {"event_id": "connect-477f2c4f-cd1a-4785-b1a8-97023dc1229d", "type": "agent.state",
         "occurred_at": ACW_END_MS, "agent_id": SAMPLE_AGENT, "state": "available",
         "queues": SAMPLE_QUEUES},
    ]  # fmt: skip
    valid(out)


def agent_record(
    event_id: str,
    previous: list[dict],
    current: list[dict],
    status: str = "Available",
    kind: str = "STATE_CHANGE",
) -> bytes:
    record = orjson.loads(fixture("acw_finished.json"))
    record.update(EventId=event_id, EventType=kind, EventTimestamp="2019-05-25T18:56:00.000Z")
    record["PreviousAgentSnapshot"]["Contacts"] = previous
    record["CurrentAgentSnapshot"]["Contacts"] = current
    record["CurrentAgentSnapshot"]["AgentStatus"]["Name"] = status
    return orjson.dumps(record)  # fmt: skip


def voice(state: str, at: str) -> dict[str, Any]:
    return {"Channel": "VOICE", "ContactId": "ContactId-2", "InitiationMethod": "INBOUND",
            "State": state, "StateStartTimestamp": at, "QueueTimestamp": at}  # fmt: skip


AT_56 = 1558810560000  # 18:56:00.000


def test_a_ring_answered_missed_and_statuses() -> None:
    """INCOMING -> CONNECTED: on_contact; hold changes nothing (counted); INCOMING ->
    MISSED after 12.5 s: contact.missed and away {missed} until cleared; Break: away."""
    ring = voice("INCOMING", "2019-05-25T18:55:47.500Z")
    answered = agent_record("a-1", [ring], [voice("CONNECTED", "2019-05-25T18:56:00.000Z")])
    held = agent_record(
        "a-2",
        [voice("CONNECTED", "2019-05-25T18:56:00.000Z")],
        [voice("CONNECTED_ONHOLD", "2019-05-25T18:56:00.000Z")],
    )
    missed = agent_record("a-3", [ring], [voice("MISSED", "2019-05-25T18:56:00.000Z")])
    brk = agent_record("a-4", [], [], status="Break")
    logout = agent_record("a-5", [], [], status="Offline", kind="LOGOUT")
    connector = AmazonConnectConnector()
    out = [plain(e) for r in (answered, held, missed, brk, logout) for e in connector.feed(r)]
    state = {"type": "agent.state", "occurred_at": AT_56, "agent_id": SAMPLE_AGENT}
    assert out == [
        {"event_id": "connect-a-1", **state, "state": "on_contact", "queues": SAMPLE_QUEUES},
        {"event_id": "connect-a-3", **state, "state": "away", "queues": SAMPLE_QUEUES,
         "reason": "missed"},
        {"event_id": "connect-ContactId-2-missed-agent-ARN-1558810560", "type": "contact.missed",
         "occurred_at": AT_56, "contact_id": "ContactId-2", "agent_id": SAMPLE_AGENT,
         "ring_seconds": 12.5},
        {"event_id": "connect-a-4", **state, "state": "away", "queues": SAMPLE_QUEUES,
         "reason": "Break"},
        {"event_id": "connect-a-5", **state, "state": "offline", "queues": []},
    ]  # fmt: skip
    assert connector.ignored == {"no_state_change": 1}
    valid(out)


def test_heart_beats_are_counted_and_retries_keep_ids() -> None:
    connector = AmazonConnectConnector()
    assert connector.feed(fixture("heart_beat.json")) == []
    assert connector.ignored == {"heart_beat": 1}
    first = connector.feed(fixture("acw_finished.json"))
    assert connector.feed(fixture("acw_finished.json")) == first


def test_firehose_and_kinesis_envelopes_carry_the_same_records() -> None:
    data = base64.b64encode(fixture("acw_finished.json")).decode()
    firehose = orjson.dumps(
        {
            "requestId": "r-1",
            "timestamp": 1558810533000,
            "records": [{"data": data}, {"data": "%%"}],
        }
    )
    kinesis = orjson.dumps({"Records": [{"kinesis": {"partitionKey": "k", "data": data}}]})
    direct = mapped(fixture("acw_finished.json"))
    assert mapped(firehose) == [
        *direct,
        ("invalid_value", "an envelope record's data is not base64"),
    ]
    assert mapped(kinesis) == direct  # fmt: skip


# Contact records (CTR) ------------------------------------------------------------------

CTR_QUEUE = "4c4e8c2d-6e8e-4a8a-9a3e-0f5b1a2c3d4e"
ANSWERED_CTR = "5ca32fbd-8f92-46af-92a5-6b0f970f0efe"
ABANDONED_CTR = "9e3b1a57-2c4d-4e6f-8a9b-0c1d2e3f4a5b"
# 2020-03-31T16:20:00Z = 18352 days + 58800 s = 1585671600 s.
T = 1585671600


def test_contact_records_replay_as_events() -> None:
    """Answered: queued 16:20:00, answered 16:20:16, ended 16:20:30 with 4 s on hold,
    wrapped 16:20:40 (ACW end). Abandoned: queued 16:20:00, hung up at 16:21:10."""
    expected = [
        {"event_id": f"connect-{ANSWERED_CTR}-queued-{T}", "type": "contact.queued",
         "occurred_at": T * 1000, "contact_id": ANSWERED_CTR, "queue": CTR_QUEUE,
         "channel": "voice"},
        {"event_id": f"connect-{ANSWERED_CTR}-answered-{T + 16}", "type": "contact.answered",
         "occurred_at": (T + 16) * 1000, "contact_id": ANSWERED_CTR,
         "agent_id": "1cc79f82-d221-47b8-a181-0774037b4be0"},
        {"event_id": f"connect-{ANSWERED_CTR}-ended", "type": "contact.ended",
         "occurred_at": (T + 30) * 1000, "contact_id": ANSWERED_CTR, "hold_seconds": 4},
        {"event_id": f"connect-{ANSWERED_CTR}-wrapped", "type": "contact.wrapped",
         "occurred_at": (T + 40) * 1000, "contact_id": ANSWERED_CTR},
        {"event_id": f"connect-{ABANDONED_CTR}-queued-{T}", "type": "contact.queued",
         "occurred_at": T * 1000, "contact_id": ABANDONED_CTR, "queue": CTR_QUEUE,
         "channel": "voice"},
        {"event_id": f"connect-{ABANDONED_CTR}-abandoned", "type": "contact.abandoned",
         "occurred_at": (T + 70) * 1000, "contact_id": ABANDONED_CTR},
    ]  # fmt: skip
    lines = fixture("contact_records.jsonl").splitlines()
    assert mapped(*lines) == expected
    valid(expected)
    # Firehose's S3 objects: records one after the other, no separator; a JSON array.
    assert mapped(b"".join(lines)) == expected
    assert mapped(b"[" + b",".join(lines) + b"]") == expected


def test_a_contact_record_still_in_after_contact_work_and_one_never_queued() -> None:
    line = orjson.loads(fixture("contact_records.jsonl").splitlines()[0])
    in_acw = copy.deepcopy(line)
    in_acw["Agent"]["AfterContactWorkEndTimestamp"] = None
    ivr = copy.deepcopy(line)
    ivr.update(Agent=None, Queue=None, ContactId="ivr-only")
    connector = AmazonConnectConnector()
    types = [e["type"] for e in connector.feed(orjson.dumps(in_acw)) if isinstance(e, dict)]
    assert types == ["contact.queued", "contact.answered", "contact.ended"]
    assert connector.feed(orjson.dumps(ivr)) == []
    assert connector.ignored == {"never_queued": 1}


# Malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (b"not json", ("invalid_json", "not a JSON document (nor several in a row)")),
        (b'"text"', ("not_an_object", "a JSON document that is not an object")),
        (b"[1]", ("not_an_object", "a JSON document that is not an object")),
        (
            b'{"foo": 1}',
            (
                "unknown_type",
                "a JSON object that is not an EventBridge event, an agent event stream record "
                "nor a contact record",
            ),
        ),
        (
            contact_event("QUEUED", "m-1", contact=""),
            ("missing_field", "detail.contactId: required"),
        ),
        (
            contact_event("QUEUED", "m-2"),
            ("missing_field", "detail.queueInfo.queueArn: required (an ARN)"),
        ),
        (
            contact_event(
                "QUEUED", "m-3", queueInfo={**QUEUE_INFO, "enqueueTimestamp": "yesterday"}
            ),
            (
                "invalid_timestamp",
                "detail.queueInfo.enqueueTimestamp 'yesterday': not an ISO 8601 time with offset",
            ),
        ),
        (
            contact_event("QUEUED", "m-4", channel="FAX", queueInfo=QUEUE_INFO),
            ("invalid_value", "detail.channel 'FAX': not VOICE, CHAT, EMAIL, TASK"),
        ),
        (
            b'{"detail-type": "Amazon Connect Contact Event", "id": "m-5"}',
            ("missing_field", "an Amazon Connect Contact Event without `detail`"),
        ),
        (
            b'{"AgentARN": "arn:aws:connect:r:1:instance/i/agent/a", "EventType": "LOGOUT",'
            b' "EventTimestamp": "2019-05-25T18:56:00.000Z"}',
            ("missing_field", "agent event: EventId required"),
        ),
        (
            b'{"x": "' + b"a" * 70_000 + b'"}',
            ("too_large", "document of 70009 bytes exceeds 65536"),
        ),
    ],
)
def test_malformed_records_are_rejected_with_a_specific_reason(
    record: bytes, expected: tuple[str, str]
) -> None:
    assert mapped(record) == [expected]


def test_agent_times_in_the_documented_colon_form_are_read() -> None:
    """The data model writes yyyy-mm-ddThh:mm:ss:sssZ; the samples use a dot."""
    record = fixture("acw_finished.json").replace(b"18:55:32.022Z", b"18:55:32:022Z")
    assert mapped(record)[0]["occurred_at"] == ACW_END_MS


def test_the_secret_is_compared_whole() -> None:
    assert verify_secret("s3cr3t-\u00e9", "s3cr3t-\u00e9")
    assert not verify_secret("s3cr3t", "s3cr3T")
    assert not verify_secret("s3cr3t", "s3cr3t ")
    assert not verify_secret("s3cr3t", "")
    assert not verify_secret("", "")


def test_a_missed_contact_counts_once_and_an_outbound_dial_is_not_abandoned() -> None:
    """A record after the miss (the agent changes status) still shows MISSED: no second
    contact.missed. An unanswered outbound dial has a queueInfo but never an enqueue time."""
    still = agent_record(
        "a-6",
        [voice("MISSED", "2019-05-25T18:56:00.000Z")],
        [voice("MISSED", "2019-05-25T18:56:00.000Z")],
        status="Break",
    )
    dial = contact_event("DISCONNECTED", "e-14", "c-out", initiationMethod="OUTBOUND",
                         queueInfo={"queueArn": QUEUE_ARN, "queueType": "STANDARD"},
                         disconnectTimestamp=iso(ENDED_AT))  # fmt: skip
    connector = AmazonConnectConnector()
    assert connector.feed(still) == []
    assert connector.feed(dial) == []
    assert connector.ignored == {"no_state_change": 1, "never_queued": 1}


def test_login_lists_the_standard_queues_only() -> None:
    """The sample's routing profile has an agent queue (Name null, .../queue/agent/...) and
    Omni-channel-queue: the agent serves the latter; 20:58:44.031 = 1565729924031 ms
    (2019-08-13 = 18121 days = 1565654400 s; 20:58:44 = +75524 s)."""
    record = orjson.loads(fixture("heart_beat.json"))
    record["EventType"] = "LOGIN"
    record["CurrentAgentSnapshot"]["AgentStatus"]["Name"] = "Available"
    del record["PreviousAgentSnapshot"]
    assert mapped(orjson.dumps(record)) == [
        {"event_id": "connect-EventId-1", "type": "agent.state", "occurred_at": 1565729924031,
         "agent_id": "agent-ARN", "state": "available", "queues": ["queue-ARN"]},
    ]  # fmt: skip


def test_a_contact_record_transferred_out_of_the_queue_and_an_email() -> None:
    """Sent on from the queue without an agent (TransferCompletedTimestamp 16:20:50): ended
    with reason transfer, neither answered nor abandoned. An email record also resolves."""
    lines = fixture("contact_records.jsonl").splitlines()
    moved = orjson.loads(lines[1])
    moved["TransferCompletedTimestamp"] = "2020-03-31T16:20:50Z"
    email = orjson.loads(lines[0])
    email["Channel"] = "EMAIL"
    out = mapped(orjson.dumps(moved), orjson.dumps(email))
    assert out[1] == {"event_id": f"connect-{ABANDONED_CTR}-ended", "type": "contact.ended",
                      "occurred_at": (T + 50) * 1000, "contact_id": ABANDONED_CTR,
                      "reason": "transfer"}  # fmt: skip
    assert [e["type"] for e in out[2:]] == [
        "contact.queued", "contact.answered", "contact.ended", "contact.wrapped",
        "contact.resolved",
    ]  # fmt: skip
    assert out[-1]["occurred_at"] == (T + 40) * 1000
    valid(out)
