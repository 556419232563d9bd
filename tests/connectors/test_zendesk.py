"""The Zendesk connector against records written by hand from Zendesk's developer
documentation: webhook events in the shape of the "Ticket events" reference
(zen:event-type:ticket.*: account_id, id, time, subject zen:ticket:ID, detail = the ticket
with via.channel, event = what changed; comment_added carries event.comment with is_public
and author.is_staff), the examples of the "Ticket metric event types reference" and the
Satisfaction Ratings API's JSON format. Signatures are computed here with hmac, hashlib and
base64 as "Verifying webhooks" describes: base64(HMAC-SHA256(timestamp + body)).
Expectations are worked out by hand beside each case."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.connectors.zendesk import ZendeskConnector, verify_signature
from streams.core.intake import Rejection, decode

FIXTURES = Path(__file__).parent / "fixtures" / "zendesk"
T = 1795338000  # 2026-11-22T09:00:00Z
MS = 1000
WALL = T + 30 * 86400  # a wall clock after every fixture (intake rejects future events)


def lines(name: str) -> list[bytes]:
    return [line for line in (FIXTURES / name).read_bytes().splitlines() if line.strip()]


def plain(item: dict[str, Any] | Rejection) -> Any:
    if isinstance(item, Rejection):
        return (item.reason, item.detail)
    return item


def mapped(records: list[bytes], connector: ZendeskConnector | None = None) -> list[Any]:
    connector = connector if connector is not None else ZendeskConnector()
    out: list[Any] = []
    for record in records:
        out += connector.feed(record)
    return [plain(item) for item in out]


def webhook(kind: str, event: dict[str, Any] | None = None, **detail: Any) -> dict[str, Any]:
    """A ticket webhook event in the documented envelope (ticket 42, group 7, via email)."""
    ticket = {
        "id": "42",
        "group_id": "7",
        "priority": "NORMAL",
        "status": "OPEN",
        "created_at": "2026-11-22T08:00:00Z",
        "updated_at": "2026-11-22T09:00:00Z",
        "via": {"channel": "email"},
    }
    ticket.update(detail)
    return {
        "type": f"zen:event-type:ticket.{kind}",
        "account_id": 22129848,
        "id": "11111111-2222-4333-8444-555555555555",
        "time": "2026-11-22T09:00:00Z",
        "zendesk_event_version": "2022-11-06",
        "subject": "zen:ticket:42",
        "detail": ticket,
        "event": {} if event is None else event,
    }


def one(body: dict[str, Any], connector: ZendeskConnector | None = None) -> list[Any]:
    return mapped([orjson.dumps(body)], connector)


def test_a_ticket_from_creation_to_close_through_webhooks() -> None:
    """Ticket 5158: created by its requester through the web form in group 8447320466430
    (priority HIGH), moved to group 360001234567, a private note, the agent's first public
    reply, pending, the requester answers, priority raised, a second reply, solved,
    reopened, solved again (its time given with +01:00), closed; a user event between."""
    connector = ZendeskConnector()
    out = mapped(lines("ticket_5158.jsonl"), connector)
    contact = "zd-5158"
    assert out == [
        {
            "event_id": "zd-cbe4028c-7239-495d-b020-f22348516046",
            "type": "contact.queued",
            "occurred_at": T * MS + 672,  # .672717030: nanoseconds cut to milliseconds
            "contact_id": contact,
            "queue": "8447320466430",
            "channel": "email",  # via web
            "priority": "high",  # HIGH
        },
        {
            "event_id": "zd-3f1d9a20-77c4-4a8e-b6a1-2e4c9d0b1a02",
            "type": "contact.queued",  # moved: a transfer into the new group
            "occurred_at": (T + 300) * MS,
            "contact_id": contact,
            "queue": "360001234567",
            "channel": "email",
            "priority": "high",
        },
        {
            "event_id": "zd-d4f5c389-8f4a-4c2e-a1b9-8e4f39c71d52",
            "type": "contact.responded",
            "occurred_at": (T + 630) * MS + 123,
            "contact_id": contact,
            "agent_id": "8447388090495",  # a JSON number there
        },
        {
            "event_id": "zd-a03b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c08",
            "type": "contact.responded",
            "occurred_at": (T + 1500) * MS,
            "contact_id": contact,
            "agent_id": "8447388090495",
        },
        {
            "event_id": "zd-a8b9c1d2-3e4f-5a6b-7c8d-9e0f1a2b3c4d",
            "type": "contact.resolved",
            "occurred_at": (T + 3600) * MS + 987,
            "contact_id": contact,
        },
        {
            "event_id": "zd-b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d10",
            "type": "contact.reopened",
            "occurred_at": (T + 7200) * MS,
            "contact_id": contact,
        },
        {
            "event_id": "zd-c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e11",
            "type": "contact.resolved",
            "occurred_at": (T + 9000) * MS,  # 12:30:00+01:00 is 11:30Z
            "contact_id": contact,
        },
    ]
    assert connector.ignored == {
        "end_user_comment": 2,  # the requester's description and her answer
        "private_comment": 1,
        "status_change": 1,  # OPEN -> PENDING
        "priority_change": 1,
        "closed": 1,  # SOLVED -> CLOSED: resolved already
        "not_ticket": 1,  # user.active_changed
    }
    for event in out:  # every event passes the contract's own intake
        decode(orjson.dumps(event), WALL)


def test_retries_and_reordering_give_the_same_events() -> None:
    """At least once and unordered: each record maps on its own, so a delivery repeated or
    late maps to the same events with the same ids (the engine drops the repeats)."""
    records = lines("ticket_5158.jsonl")
    once = mapped(records)
    backwards = mapped(list(reversed(records)))
    assert sorted(backwards, key=lambda e: e["event_id"]) == sorted(
        once, key=lambda e: e["event_id"]
    )
    twice = mapped(records + records)
    assert twice == once + once
    assert len({e["event_id"] for e in once}) == len(once)


def test_groups_name_the_queue_and_a_ticket_without_group_is_ungrouped() -> None:
    groups = {"7": "Billing Team", "8": "tier2"}
    connector = ZendeskConnector(groups)
    created = one(webhook("created"), connector)
    assert [e["queue"] for e in created] == ["Billing:20Team"]  # space escaped reversibly
    moved = one(webhook("group_assignment_changed", {"current": 8, "previous": 7}), connector)
    assert [e["queue"] for e in moved] == ["tier2"]
    unmapped = one(webhook("created", group_id="99"), connector)
    assert [e["queue"] for e in unmapped] == ["99"]
    for nothing in (None, "", "0", 0):
        assert [e["queue"] for e in one(webhook("created", group_id=nothing))] == ["ungrouped"]


def test_group_changes_without_a_new_group_are_ignored() -> None:
    connector = ZendeskConnector()
    assert one(webhook("group_assignment_changed", {"current": None, "previous": "7"}),
               connector) == []  # fmt: skip
    assert one(webhook("group_assignment_changed", {"current": "7", "previous": "7"}),
               connector) == []  # fmt: skip
    assert connector.ignored == {"group_removed": 1, "group_unchanged": 1}


@pytest.mark.parametrize(
    ("via", "channel"),
    [
        ("email", "email"),
        ("web", "email"),
        ("web_form", "email"),
        ("api", "email"),
        ("web_service", "email"),
        ("mobile_sdk", "email"),
        ("voicemail", "email"),
        ("something_new", "email"),
        ("chat", "messaging"),
        ("chat_transcript", "messaging"),
        ("native_messaging", "messaging"),
        ("whatsapp", "messaging"),
        ("sms", "messaging"),
        ("twitter", "social"),
        ("facebook_post", "social"),
        ("instagram_dm", "social"),
    ],
)
def test_channel_from_via(via: str, channel: str) -> None:
    (event,) = one(webhook("created", via={"channel": via}))
    assert event["channel"] == channel


def test_a_ticket_without_via_is_email() -> None:
    (event,) = one(webhook("created", via=None))
    assert event["channel"] == "email"


@pytest.mark.parametrize(
    ("priority", "expected"),
    [("URGENT", "urgent"), ("high", "high"), ("NORMAL", "normal"), ("LOW", "low"),
     (None, "normal"), ("", "normal"), ("-", "normal")],
)  # fmt: skip
def test_priority(priority: Any, expected: str) -> None:
    (event,) = one(webhook("created", priority=priority))
    assert event["priority"] == expected


def test_tickets_of_phone_calls_are_ignored_on_every_event() -> None:
    """Zendesk Talk: the call is a live contact whose answer and end no ticket event tells."""
    connector = ZendeskConnector()
    for source in ("voice", "phone_call_inbound", "phone_call_outbound"):
        assert one(webhook("created", via={"channel": source}), connector) == []
    solved = webhook("status_changed", {"current": "SOLVED", "previous": "OPEN"},
                     via={"channel": "phone_call_inbound"})  # fmt: skip
    assert one(solved, connector) == []
    assert connector.ignored == {"voice_call": 4}


def test_a_ticket_created_solved_is_queued_then_resolved() -> None:
    body = webhook("created", status="SOLVED")
    assert one(body) == [
        {
            "event_id": "zd-11111111-2222-4333-8444-555555555555",
            "type": "contact.queued",
            "occurred_at": T * MS,
            "contact_id": "zd-42",
            "queue": "7",
            "channel": "email",
            "priority": "normal",
        },
        {
            "event_id": "zd-11111111-2222-4333-8444-555555555555-r",
            "type": "contact.resolved",
            "occurred_at": T * MS,
            "contact_id": "zd-42",
        },
    ]


def test_comments() -> None:
    """Each public comment by staff is a response; the description of a ticket an agent
    opened (detail created_at = updated_at: the same action) is not."""

    def comment(public: bool, staff: bool, **detail: Any) -> dict[str, Any]:
        author = {"id": "900", "is_staff": staff, "name": "A"}
        body = {"comment": {"id": "1", "body": "x", "is_public": public, "author": author}}
        return webhook("comment_added", body, **detail)

    connector = ZendeskConnector()
    assert one(comment(True, True), connector) == [
        {
            "event_id": "zd-11111111-2222-4333-8444-555555555555",
            "type": "contact.responded",
            "occurred_at": T * MS,
            "contact_id": "zd-42",
            "agent_id": "900",
        }
    ]
    assert one(comment(False, True), connector) == []
    assert one(comment(True, False), connector) == []
    assert one(comment(False, False), connector) == []
    opening = comment(True, True, updated_at="2026-11-22T08:00:00Z")
    assert one(opening, connector) == []
    assert connector.ignored == {
        "private_comment": 2,
        "end_user_comment": 1,
        "opening_comment": 1,
    }


@pytest.mark.parametrize(
    ("previous", "current", "mapped_to"),
    [
        ("OPEN", "SOLVED", "contact.resolved"),
        ("NEW", "SOLVED", "contact.resolved"),
        ("PENDING", "solved", "contact.resolved"),
        ("OPEN", "CLOSED", "contact.resolved"),  # closed without passing solved (a merge)
        (None, "SOLVED", "contact.resolved"),
        ("SOLVED", "OPEN", "contact.reopened"),
        ("SOLVED", "NEW", "contact.reopened"),
        ("SOLVED", "PENDING", "contact.reopened"),
        ("SOLVED", "HOLD", "contact.reopened"),
        ("SOLVED", "CLOSED", "closed"),
        ("CLOSED", "OPEN", "status_change"),  # Zendesk reopens no closed ticket (follow-ups)
        ("OPEN", "PENDING", "status_change"),
        ("PENDING", "OPEN", "status_change"),
        ("NEW", "OPEN", "status_change"),
        ("OPEN", "DELETED", "ticket_deleted"),
    ],
)
def test_status_changes(previous: Any, current: str, mapped_to: str) -> None:
    connector = ZendeskConnector()
    out = one(webhook("status_changed", {"current": current, "previous": previous}), connector)
    if mapped_to.startswith("contact."):
        assert [e["type"] for e in out] == [mapped_to]
        assert connector.ignored == {}
    else:
        assert out == []
        assert connector.ignored == {mapped_to: 1}


def test_other_ticket_events_are_ignored_with_their_reason() -> None:
    connector = ZendeskConnector()
    kinds = [
        "agent_assignment_changed", "priority_changed", "custom_status_changed", "merged",
        "soft_deleted", "marked_as_spam", "tags_changed", "subject_changed",
        "custom_field_changed", "comment_made_private", "a_type_added_next_year",
    ]  # fmt: skip
    for kind in kinds:
        assert one(webhook(kind, {"current": "x", "previous": "y"}), connector) == []
    assert connector.ignored == {
        "assignee_change": 1,
        "priority_change": 1,
        "custom_status": 1,
        "merged": 1,
        "ticket_deleted": 2,
        "ticket_field_change": 4,
        "ticket_other": 1,
    }


def test_ticket_metric_events_page_and_lines() -> None:
    """The reference's examples on ticket 987 (a page of the incremental export): the
    reply_time activate of instance 1 (creation) queues it in `zendesk` as email; each
    reply_time fulfill is a response; requester_wait_time fulfill is solved, and its
    next activate a reopen (the one after a pause is not)."""
    connector = ZendeskConnector()
    page = (FIXTURES / "ticket_metric_events_page.json").read_bytes()
    contact = "zd-987"
    expected = [
        {
            "event_id": "zd-tme-123456",
            "type": "contact.queued",
            "occurred_at": (T - 3600) * MS,
            "contact_id": contact,
            "queue": "zendesk",
            "channel": "email",
            "priority": "normal",
        },
        {"event_id": "zd-tme-123477", "type": "contact.responded",
         "occurred_at": (T + 600) * MS, "contact_id": contact},
        {"event_id": "zd-tme-123481", "type": "contact.resolved",
         "occurred_at": (T + 3600) * MS, "contact_id": contact},
        {"event_id": "zd-tme-123483", "type": "contact.reopened",
         "occurred_at": (T + 7200) * MS, "contact_id": contact},
        {"event_id": "zd-tme-123484", "type": "contact.responded",
         "occurred_at": (T + 7500) * MS, "contact_id": contact},
        {"event_id": "zd-tme-123485", "type": "contact.resolved",
         "occurred_at": (T + 9000) * MS, "contact_id": contact},
    ]  # fmt: skip
    assert mapped([page], connector) == expected
    assert connector.ignored == {
        "metric_activate": 3,  # requester_wait_time at creation and after the pause; reply 2
        "metric_other": 2,  # agent_work_time, resolution_time
        "metric_sla": 3,  # apply_sla, update_status, breach
        "metric_pause": 1,
    }
    items = orjson.loads(page)["ticket_metric_events"]
    assert mapped([orjson.dumps(item) for item in items]) == expected  # one per line
    single = orjson.dumps({"ticket_metric_event": items[0]})  # the show endpoint's shape
    assert mapped([single]) == expected[:1]
    for event in expected:
        decode(orjson.dumps(event), WALL)


def test_the_metric_replay_state_survives_snapshot_and_restore() -> None:
    items = orjson.loads((FIXTURES / "ticket_metric_events_page.json").read_bytes())[
        "ticket_metric_events"
    ]
    first = ZendeskConnector()
    mapped([orjson.dumps(item) for item in items[:11]], first)  # up to the first solve
    second = ZendeskConnector()
    second.restore(orjson.loads(orjson.dumps(first.snapshot())))
    assert second.ignored == first.ignored
    reopen = mapped([orjson.dumps(items[12])], second)
    assert [e["type"] for e in reopen] == ["contact.reopened"]


def test_satisfaction_ratings() -> None:
    """good -> CSAT 5, bad -> CSAT 1; offered and unoffered are no answer. The queue is the
    group at the time of the rating; no channel (the rating does not say it)."""
    connector = ZendeskConnector({"44": "support"})
    page = (FIXTURES / "satisfaction_ratings_page.json").read_bytes()
    expected = [
        {
            "event_id": "zd-sat-35436",
            "type": "survey.responded",
            "occurred_at": (T + 10800) * MS,
            "contact_id": "zd-208",
            "csat": 5,
            "queue": "support",
        },
        {
            "event_id": "zd-sat-120447",
            "type": "survey.responded",
            "occurred_at": (T + 12600) * MS,  # created_at, not updated_at
            "contact_id": "zd-209",
            "csat": 1,
            "queue": "support",
        },
    ]
    assert mapped([page], connector) == expected
    assert connector.ignored == {"rating_not_given": 1}
    items = orjson.loads(page)["satisfaction_ratings"]
    wrapped = orjson.dumps({"satisfaction_rating": items[1]})  # the show endpoint's shape
    assert mapped([orjson.dumps(items[0]), wrapped], ZendeskConnector({"44": "support"})) == (
        expected
    )
    unoffered = dict(items[2], score="unoffered")
    assert mapped([orjson.dumps(unoffered)]) == []
    no_id = {"ticket_id": 5, "score": "GOOD", "created_at": "2026-11-22T09:00:00Z"}
    assert mapped([orjson.dumps(no_id)]) == [
        {
            "event_id": f"zd-sat-t5-{T * MS}",
            "type": "survey.responded",
            "occurred_at": T * MS,
            "contact_id": "zd-5",
            "csat": 5,
        }
    ]
    for event in expected:
        decode(orjson.dumps(event), WALL)


def test_malformed_records_are_rejected_with_a_specific_reason() -> None:
    def reject(body: Any) -> list[Any]:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        return mapped([raw])

    assert reject(b"{not json") == [("invalid_json", "a Zendesk record that is not UTF-8 JSON")]
    assert reject(b"\xff\xfe") == [("invalid_json", "a Zendesk record that is not UTF-8 JSON")]
    assert reject([1, 2]) == [
        ("not_an_object", "a Zendesk record that is a JSON list, not an object")
    ]
    assert reject({"hello": "world"}) == [
        (
            "unknown_type",
            "a JSON object that is neither a Zendesk webhook event (type zen:event-type:...), "
            "a ticket metric event nor a satisfaction rating",
        )
    ]
    assert reject({"type": "ticket.created"}) == [
        ("unknown_type", "type 'ticket.created' is not a Zendesk webhook event type "
         "(zen:event-type:...)")
    ]  # fmt: skip
    no_ticket = webhook("created")
    del no_ticket["subject"]
    no_ticket["detail"].pop("id")
    assert reject(no_ticket) == [
        (
            "missing_field",
            "webhook event zen:event-type:ticket.created without a ticket id "
            "(detail.id, subject zen:ticket:ID)",
        )
    ]
    from_subject = webhook("created")
    from_subject["detail"].pop("id")
    assert [e["contact_id"] for e in reject(from_subject)] == ["zd-42"]
    bad_ticket = webhook("created", id=["42"])
    assert reject(bad_ticket) == [
        ("wrong_type", "webhook event zen:event-type:ticket.created: detail.id is not a ticket id")
    ]
    no_id = webhook("created")
    del no_id["id"]
    assert reject(no_id) == [
        ("missing_field",
         "webhook event zen:event-type:ticket.created with no id (a string is needed)")
    ]  # fmt: skip
    number_id = dict(webhook("created"), id=17)
    assert reject(number_id) == [
        ("wrong_type",
         "webhook event zen:event-type:ticket.created with a int id (a string is needed)")
    ]  # fmt: skip
    bad_time = dict(webhook("created"), time="yesterday")
    assert reject(bad_time) == [
        ("invalid_timestamp",
         "webhook event zen:event-type:ticket.created: time 'yesterday' is not RFC 3339")
    ]  # fmt: skip
    bad_date = dict(webhook("created"), time="2026-02-30T09:00:00Z")
    assert reject(bad_date)[0][0] == "invalid_timestamp"
    no_detail = dict(webhook("created"), detail=None)
    assert reject(no_detail) == [
        ("missing_field",
         "webhook event zen:event-type:ticket.created without a detail object (the ticket)")
    ]  # fmt: skip
    text_detail = dict(webhook("created"), detail="42")
    assert reject(text_detail)[0][0] == "wrong_type"
    list_event = dict(webhook("status_changed"), event=["SOLVED"])
    assert reject(list_event) == [
        ("wrong_type", "webhook event zen:event-type:ticket.status_changed: event is not an object")
    ]
    assert reject(webhook("status_changed", {"previous": "OPEN"})) == [
        ("missing_field", "status_changed without a status in event.current")
    ]
    assert reject(webhook("status_changed", {"current": 3})) == [
        ("wrong_type", "status_changed without a status in event.current")
    ]
    assert reject(webhook("comment_added", {})) == [
        ("missing_field", "comment_added without an event.comment object")
    ]
    unauthored = webhook("comment_added", {"comment": {"id": "1", "is_public": True}})
    assert reject(unauthored) == [
        ("missing_field", "comment_added: event.comment.author.is_staff (true or false) is missing")
    ]
    text_public = webhook(
        "comment_added", {"comment": {"is_public": "yes", "author": {"is_staff": True}}}
    )
    assert reject(text_public) == [
        ("wrong_type", "comment_added: event.comment.is_public is not a boolean")
    ]
    bad_group = webhook("group_assignment_changed", {"current": {"id": 8}})
    assert reject(bad_group) == [
        ("wrong_type", "group_assignment_changed: event.current/previous is not a group id")
    ]
    assert reject({"ticket_metric_events": "none"}) == [
        ("wrong_type", "ticket_metric_events is not a list")
    ]
    assert reject({"ticket_metric_events": [7]}) == [
        ("not_an_object", "an item of ticket_metric_events that is not an object")
    ]
    assert reject({"metric": "reply_time", "type": "fulfill", "ticket_id": 1,
                   "time": "2026-11-22T09:00:00Z"}) == [
        ("missing_field", "ticket metric event without an id")
    ]  # fmt: skip
    assert reject({"id": 1, "metric": "reply_time", "type": "fulfill",
                   "time": "2026-11-22T09:00:00Z"}) == [
        ("missing_field", "ticket metric event without a ticket_id")
    ]  # fmt: skip
    assert reject({"id": 1, "ticket_id": True, "metric": "reply_time", "type": "fulfill"}) == [
        ("wrong_type", "ticket metric event: id or ticket_id is neither a number nor a string")
    ]
    assert reject({"id": 1, "ticket_id": 2, "metric": "reply_time", "type": "fulfill",
                   "time": 1795338000}) == [
        ("invalid_timestamp", "ticket metric event: time '1795338000' is not RFC 3339")
    ]  # fmt: skip
    assert reject({"id": 1, "ticket_id": 2, "metric": "reply_time",
                   "time": "2026-11-22T09:00:00Z"}) == [
        ("missing_field", "ticket metric event without metric and type")
    ]  # fmt: skip
    assert reject({"id": 1, "ticket_id": 2, "score": "meh", "created_at": "x"}) == [
        ("invalid_value", "satisfaction rating score 'meh': good or bad is mapped "
         "(offered and unoffered are ignored)")
    ]  # fmt: skip
    assert reject({"id": 1, "ticket_id": 2, "score": 5}) == [
        ("wrong_type", "satisfaction rating without a score string (good, bad)")
    ]
    assert reject({"id": 1, "score": "good", "created_at": "2026-11-22T09:00:00Z"}) == [
        ("missing_field", "satisfaction rating without a ticket_id")
    ]
    assert reject({"id": 1, "ticket_id": 2, "score": "good", "created_at": None}) == [
        ("invalid_timestamp", "satisfaction rating: created_at 'None' is not RFC 3339")
    ]
    assert reject({"id": [1], "ticket_id": 2, "score": "good"}) == [
        ("wrong_type", "satisfaction rating: id, ticket_id or group_id is not a number or string")
    ]


def test_a_page_maps_its_good_items_and_rejects_the_bad_ones() -> None:
    good = {"id": 5, "ticket_id": 6, "metric": "reply_time", "type": "fulfill",
            "time": "2026-11-22T09:00:00Z"}  # fmt: skip
    page = {"ticket_metric_events": [good, {"id": 6, "metric": "reply_time"}]}
    assert mapped([orjson.dumps(page)]) == [
        {"event_id": "zd-tme-5", "type": "contact.responded", "occurred_at": T * MS,
         "contact_id": "zd-6"},
        ("missing_field", "ticket metric event without a ticket_id"),
    ]  # fmt: skip


def test_long_ids_are_bounded_for_the_contract() -> None:
    body = dict(webhook("created"), id="e" * 300)
    body["detail"]["id"] = "9" * 300
    (event,) = one(body)
    assert len(event["event_id"]) <= 128 and len(event["contact_id"]) <= 128
    decode(orjson.dumps(event), WALL)


def test_too_large_records_are_rejected() -> None:
    huge = b'{"pad":"' + b"x" * (8 * 1024 * 1024) + b'"}'
    assert mapped([huge]) == [
        ("too_large", f"Zendesk record of {len(huge)} bytes exceeds {8 * 1024 * 1024}")
    ]


# ---------------------------------------------------------------- signatures

SECRET = "dGhpcyBpcyBhIHNpZ25pbmcgc2VjcmV0"
STAMP = "2026-11-22T09:00:00Z"
BODY = (FIXTURES / "ticket_5158.jsonl").read_bytes().splitlines()[0]


def signed(secret: str, stamp: str, body: bytes) -> str:
    """What Zendesk sends: base64 of HMAC-SHA256 over the timestamp then the raw body."""
    mac = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def test_a_signature_computed_as_zendesk_does_verifies() -> None:
    signature = signed(SECRET, STAMP, BODY)
    assert verify_signature(SECRET, BODY, signature, STAMP)
    empty = signed(SECRET, STAMP, b"")
    assert verify_signature(SECRET, b"", empty, STAMP)  # a request without a body


def test_a_known_signature_value() -> None:
    """A value worked out once with OpenSSL, outside Python: printf '%s'
    '2026-11-22T09:00:00Z{}' | openssl dgst -sha256 -hmac s3cret -binary | base64"""
    assert verify_signature(
        "s3cret", b"{}", "xsRSQm37bxEesrTBDS6WZagku8uOSmDtIdO4puJrfnQ=", "2026-11-22T09:00:00Z"
    )


def test_anything_else_does_not_verify() -> None:
    signature = signed(SECRET, STAMP, BODY)
    assert not verify_signature("another secret", BODY, signature, STAMP)
    assert not verify_signature(SECRET, BODY.replace(b"HIGH", b"LOW"), signature, STAMP)
    assert not verify_signature(SECRET, BODY + b" ", signature, STAMP)
    assert not verify_signature(SECRET, BODY, signature, "2026-11-22T09:00:01Z")
    assert not verify_signature(SECRET, BODY, "", STAMP)
    assert not verify_signature(SECRET, BODY, "not base64 é", STAMP)
    assert not verify_signature(SECRET, BODY, signature.lower(), STAMP)
    hexed = hmac.new(SECRET.encode(), STAMP.encode() + BODY, hashlib.sha256).hexdigest()
    assert not verify_signature(SECRET, BODY, hexed, STAMP)  # hex is not Zendesk's encoding
    assert not verify_signature("", BODY, signed("", STAMP, BODY), STAMP)  # no secret set
