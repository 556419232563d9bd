"""Zendesk ticket events to contract events (pure): webhook events `zen:event-type:ticket.*`,
ticket metric events (/api/v2/incremental/ticket_metric_events, a replay format) and
satisfaction ratings (/api/v2/satisfaction_ratings). Webhook events map statelessly, each
from its own payload; `verify_signature` checks a webhook request. docs/connectors-zendesk.md
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from streams.connectors.base import Connector, Mapped, bounded, queue_label
from streams.core.intake import Rejection

# A vendor record may be much larger than a contract event (a long comment body, an API
# page of 1,000 metric events); the events it maps to are small.
MAX_RECORD_BYTES = 8 * 1024 * 1024
EVENT_PREFIX = "zen:event-type:"
TICKET_PREFIX = "zen:event-type:ticket."
NO_GROUP = "ungrouped"  # the queue of a ticket in no group
METRIC_QUEUE = "zendesk"  # the queue of the metric-event replay (it names no group)
METRIC_CHANNEL = "email"
PRIORITIES = frozenset(("urgent", "high", "normal", "low"))
SOLVED = frozenset(("solved", "closed"))
OPEN = frozenset(("new", "open", "pending", "hold"))
GONE = frozenset(("deleted", "archived", "scrubbed"))
CSAT = {"good": 5, "bad": 1}  # Zendesk's two-point rating on the contract's 1-5 scale
RATING_NOT_GIVEN = frozenset(("offered", "unoffered"))

# via.channel -> contract channel; any channel not listed is email (a ticket worked like an
# email: queued, responded to, resolved). Live phone calls are not contacts here (below).
CHANNELS: dict[str, str] = {
    **dict.fromkeys(
        (
            "chat", "chat_transcript", "chat_offline_message", "native_messaging",
            "sunshine_conversations_api", "whatsapp", "line", "wechat", "viber", "telegram",
            "kakaotalk", "apple_business_chat", "google_business_messages", "google_rcs",
            "sms", "text_message", "twilio_sms", "messagebird_sms", "connect_sms",
            "business_messaging_slack_connect", "slack",
        ),
        "messaging",
    ),
    **dict.fromkeys(
        (
            "twitter", "twitter_dm", "twitter_favorite", "facebook", "facebook_post",
            "facebook_message", "instagram_dm", "sunshine_conversations_facebook_messenger",
            "sunshine_conversations_twitter_dm",
        ),
        "social",
    ),
}  # fmt: skip
# Tickets of Zendesk Talk calls: the call is a live contact whose answer and end no ticket
# event tells; count calls from the phone system's connector instead.
VOICE_CALLS = frozenset(
    (
        "voice",
        "phone_call_inbound",
        "phone_call_outbound",
        "api_phone_call_inbound",
        "api_phone_call_outbound",
    )
)
# Ticket event types that change nothing Floorwatch counts, with the reason they are counted.
TICKET_IGNORED = {
    "agent_assignment_changed": "assignee_change",
    "priority_changed": "priority_change",
    "custom_status_changed": "custom_status",
    "merged": "merged",
    "soft_deleted": "ticket_deleted",
    "permanently_deleted": "ticket_deleted",
    "marked_as_spam": "ticket_deleted",
    "undeleted": "ticket_deleted",
    **dict.fromkeys(
        (
            "attachment_linked_to_comment", "attachment_redacted_from_comment",
            "brand_changed", "comment_made_private", "comment_redacted",
            "custom_field_changed", "description_changed", "external_id_changed",
            "email_ccs_changed", "followers_changed", "form_changed", "organization_changed",
            "problem_link_changed", "requester_changed", "subject_changed",
            "submitter_changed", "tags_changed", "task_due_at_changed", "type_changed",
            "sla_policy_changed", "ola_policy_changed", "schedule_changed",
            "next_sla_breach_changed",
        ),
        "ticket_field_change",
    ),
}  # fmt: skip
METRIC_SLA = frozenset(("apply_sla", "apply_group_sla", "breach", "update_status"))

_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?\s*(Z|z|[+-]\d\d:?\d\d)"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def verify_signature(secret: str, body: bytes, signature: str, timestamp: str) -> bool:
    """Whether `signature` (X-Zendesk-Webhook-Signature) is base64(HMAC-SHA256(secret,
    timestamp + body)), X-Zendesk-Webhook-Signature-Timestamp being `timestamp`; compared in
    constant time. An empty secret verifies nothing. The timestamp's age is not judged here."""
    if not secret:
        return False
    digest = hmac.new(
        secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256
    ).digest()
    expected = base64.b64encode(digest)
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


def epoch_ms(value: Any) -> int | None:
    """Epoch milliseconds of a Zendesk time (`2025-01-08T14:25:30.123456789Z`, any number
    of fraction digits, Z or an offset), or None when it is not one."""
    if not isinstance(value, str):
        return None
    match = _TIME.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError:
        return None
    if zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    return (moment - _EPOCH) // timedelta(seconds=1) * 1000 + millis


def _identifier(value: Any) -> str | None:
    """A Zendesk numeric id as text (ids come as JSON numbers or as strings of digits), or
    None when absent or empty; raises TypeError for any other type."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    raise TypeError


def _lower(value: Any) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


class ZendeskConnector(Connector):
    """Zendesk records to contract events: a webhook event (`zen:event-type:ticket.*`), a
    ticket metric event or an API page of them, a satisfaction rating or a page of them.
    The contact is the ticket (`zd-<ticket id>`), its queue the group (named through
    `groups`), event ids come from Zendesk's own ids, so a retried delivery is a duplicate."""

    name = "zendesk"

    def __init__(self, groups: dict[str, str] | None = None) -> None:
        super().__init__()
        self.groups = {str(k): v for k, v in (groups or {}).items()}
        # Metric-event replay only: tickets whose requester_wait_time was fulfilled (solved),
        # so that its next activate is a reopen rather than the end of a pause.
        self.solved: set[str] = set()

    def snapshot(self) -> dict[str, Any]:
        value = super().snapshot()
        value["solved"] = sorted(self.solved)
        return value

    def restore(self, value: dict[str, Any]) -> None:
        super().restore(value)
        self.solved = set(value.get("solved", []))

    def feed(self, record: bytes) -> Mapped:
        if len(record) > MAX_RECORD_BYTES:
            return [
                Rejection(
                    "too_large", f"Zendesk record of {len(record)} bytes exceeds {MAX_RECORD_BYTES}"
                )
            ]
        try:
            data = orjson.loads(record)
        except orjson.JSONDecodeError:
            return [Rejection("invalid_json", "a Zendesk record that is not UTF-8 JSON")]
        if type(data) is not dict:
            return [
                Rejection(
                    "not_an_object",
                    f"a Zendesk record that is a JSON {type(data).__name__}, not an object",
                )
            ]
        kind = data.get("type")
        if isinstance(kind, str) and kind.startswith(EVENT_PREFIX):
            return self._webhook(data, kind)
        if "ticket_metric_events" in data:
            return self._page(data["ticket_metric_events"], "ticket_metric_events", self._metric)
        if "satisfaction_ratings" in data:
            return self._page(data["satisfaction_ratings"], "satisfaction_ratings", self._rating)
        if type(data.get("ticket_metric_event")) is dict:
            return self._metric(data["ticket_metric_event"])
        if type(data.get("satisfaction_rating")) is dict:
            return self._rating(data["satisfaction_rating"])
        if "metric" in data:
            return self._metric(data)
        if "score" in data:
            return self._rating(data)
        if "type" in data:
            return [
                Rejection(
                    "unknown_type",
                    f"type {str(kind)[:60]!r} is not a Zendesk webhook event type "
                    "(zen:event-type:...)",
                )
            ]
        return [
            Rejection(
                "unknown_type",
                "a JSON object that is neither a Zendesk webhook event (type zen:event-type:...), "
                "a ticket metric event nor a satisfaction rating",
            )
        ]

    # ---------------------------------------------------------------- webhook events

    def _webhook(self, data: dict[str, Any], kind: str) -> Mapped:
        if not kind.startswith(TICKET_PREFIX):
            return self.ignore("not_ticket")
        event_id = data.get("id")
        if not isinstance(event_id, str) or not event_id.strip():
            absent = event_id is None or event_id == ""
            what = "no" if absent else f"a {type(event_id).__name__}"
            reason = "missing_field" if absent else "wrong_type"
            return [Rejection(reason, f"webhook event {kind} with {what} id (a string is needed)")]
        ms = epoch_ms(data.get("time"))
        if ms is None:
            return [
                Rejection(
                    "invalid_timestamp",
                    f"webhook event {kind}: time {str(data.get('time'))[:40]!r} is not RFC 3339",
                )
            ]
        detail = data.get("detail")
        if type(detail) is not dict:
            return [
                Rejection(
                    "missing_field" if detail is None else "wrong_type",
                    f"webhook event {kind} without a detail object (the ticket)",
                )
            ]
        try:
            ticket = _identifier(detail.get("id"))
        except TypeError:
            return [Rejection("wrong_type", f"webhook event {kind}: detail.id is not a ticket id")]
        if ticket is None:
            subject = data.get("subject")
            if isinstance(subject, str) and subject.startswith("zen:ticket:"):
                ticket = subject[len("zen:ticket:") :].strip() or None
        if ticket is None:
            return [
                Rejection(
                    "missing_field",
                    f"webhook event {kind} without a ticket id (detail.id, subject zen:ticket:ID)",
                )
            ]
        event = data.get("event")
        if event is None:
            event = {}
        if type(event) is not dict:
            return [Rejection("wrong_type", f"webhook event {kind}: event is not an object")]
        via = detail.get("via")
        source = _lower(via.get("channel")) if type(via) is dict else ""
        if source in VOICE_CALLS:
            return self.ignore("voice_call")
        base = bounded(f"zd-{event_id.strip()}", 126)
        contact = bounded(f"zd-{ticket}")
        name = kind[len(TICKET_PREFIX) :]
        if name == "created":
            out = [self._queued(base, ms, contact, detail, detail.get("group_id"), source)]
            if isinstance(out[0], dict) and _lower(detail.get("status")) in SOLVED:
                out.append(_event(f"{base}-r", "contact.resolved", ms, contact))
            return out
        if name == "group_assignment_changed":
            return self._moved(base, ms, contact, detail, event, source)
        if name == "comment_added":
            return self._comment(base, ms, contact, detail, event)
        if name == "status_changed":
            return self._status(base, ms, contact, event)
        return self.ignore(TICKET_IGNORED.get(name, "ticket_other"))

    def _queue(self, group: str | None) -> str:
        if group is None or group == "0":
            return NO_GROUP
        return queue_label(self.groups.get(group, group))

    def _queued(
        self,
        event_id: str,
        ms: int,
        contact: str,
        detail: dict[str, Any],
        group_value: Any,
        source: str,
    ) -> dict[str, Any] | Rejection:
        try:
            group = _identifier(group_value)
        except TypeError:
            return Rejection("wrong_type", "a group id that is neither a number nor a string")
        priority = _lower(detail.get("priority"))
        return _event(
            event_id,
            "contact.queued",
            ms,
            contact,
            queue=self._queue(group),
            channel=CHANNELS.get(source, "email"),
            priority=priority if priority in PRIORITIES else "normal",
        )

    def _moved(
        self,
        base: str,
        ms: int,
        contact: str,
        detail: dict[str, Any],
        event: dict[str, Any],
        source: str,
    ) -> Mapped:
        current = event.get("current", detail.get("group_id"))
        try:
            group, previous = _identifier(current), _identifier(event.get("previous"))
        except TypeError:
            return [
                Rejection(
                    "wrong_type",
                    "group_assignment_changed: event.current/previous is not a group id",
                )
            ]
        if group is None or group == "0":
            return self.ignore("group_removed")
        if group == previous:
            return self.ignore("group_unchanged")
        return [self._queued(base, ms, contact, detail, group, source)]

    def _comment(
        self, base: str, ms: int, contact: str, detail: dict[str, Any], event: dict[str, Any]
    ) -> Mapped:
        comment = event.get("comment")
        if type(comment) is not dict:
            return [
                Rejection(
                    "missing_field" if comment is None else "wrong_type",
                    "comment_added without an event.comment object",
                )
            ]
        public = comment.get("is_public")
        author = comment.get("author")
        if type(public) is not bool:
            reason = "missing_field" if public is None else "wrong_type"
            return [Rejection(reason, "comment_added: event.comment.is_public is not a boolean")]
        if type(author) is not dict or type(author.get("is_staff")) is not bool:
            return [
                Rejection(
                    "missing_field",
                    "comment_added: event.comment.author.is_staff (true or false) is missing",
                )
            ]
        if not public:
            return self.ignore("private_comment")
        if not author["is_staff"]:
            return self.ignore("end_user_comment")
        created = detail.get("created_at")
        if isinstance(created, str) and created and created == detail.get("updated_at"):
            return self.ignore("opening_comment")  # the description of a ticket an agent opened
        try:
            agent = _identifier(author.get("id"))
        except TypeError:
            agent = None
        fields = {"agent_id": bounded(agent)} if agent else {}
        return [_event(base, "contact.responded", ms, contact, **fields)]

    def _status(self, base: str, ms: int, contact: str, event: dict[str, Any]) -> Mapped:
        current, previous = event.get("current"), event.get("previous")
        if not isinstance(current, str) or not current:
            return [
                Rejection(
                    "missing_field" if current is None or current == "" else "wrong_type",
                    "status_changed without a status in event.current",
                )
            ]
        now, before = _lower(current), _lower(previous)
        if now in SOLVED and before not in SOLVED:
            return [_event(base, "contact.resolved", ms, contact)]
        if now in OPEN and before == "solved":
            return [_event(base, "contact.reopened", ms, contact)]
        if now == "closed":
            return self.ignore("closed")
        if now in GONE:
            return self.ignore("ticket_deleted")
        return self.ignore("status_change")

    # ---------------------------------------------------------------- API records

    def _page(self, items: Any, key: str, each: Any) -> Mapped:
        if type(items) is not list:
            return [Rejection("wrong_type", f"{key} is not a list")]
        out: Mapped = []
        for item in items:
            if type(item) is dict:
                out += each(item)
            else:
                out.append(Rejection("not_an_object", f"an item of {key} that is not an object"))
        return out

    def _metric(self, item: dict[str, Any]) -> Mapped:
        head = _api_head(item, "ticket metric event")
        if isinstance(head, Rejection):
            return [head]
        event_id, ticket, ms = head
        metric, kind = item.get("metric"), item.get("type")
        if not isinstance(metric, str) or not isinstance(kind, str):
            return [Rejection("missing_field", "ticket metric event without metric and type")]
        base = bounded(f"zd-tme-{event_id}")
        contact = bounded(f"zd-{ticket}")
        if kind in METRIC_SLA:
            return self.ignore("metric_sla")
        if kind == "pause":
            return self.ignore("metric_pause")
        if metric == "reply_time":
            if kind == "fulfill":
                return [_event(base, "contact.responded", ms, contact)]
            if kind == "activate" and item.get("instance_id") == 1:
                fields = {"queue": METRIC_QUEUE, "channel": METRIC_CHANNEL, "priority": "normal"}
                return [_event(base, "contact.queued", ms, contact, **fields)]
            return self.ignore("metric_activate" if kind == "activate" else "metric_other")
        if metric == "requester_wait_time":
            if kind == "fulfill":
                self.solved.add(ticket)
                return [_event(base, "contact.resolved", ms, contact)]
            if kind == "activate" and ticket in self.solved:
                self.solved.discard(ticket)
                return [_event(base, "contact.reopened", ms, contact)]
            return self.ignore("metric_activate" if kind == "activate" else "metric_other")
        return self.ignore("metric_other")

    def _rating(self, item: dict[str, Any]) -> Mapped:
        score = item.get("score")
        if not isinstance(score, str):
            reason = "missing_field" if score is None else "wrong_type"
            return [Rejection(reason, "satisfaction rating without a score string (good, bad)")]
        score = score.strip().lower()
        if score in RATING_NOT_GIVEN:
            return self.ignore("rating_not_given")
        if score not in CSAT:
            return [
                Rejection(
                    "invalid_value",
                    f"satisfaction rating score {score[:30]!r}: good or bad is mapped "
                    "(offered and unoffered are ignored)",
                )
            ]
        try:
            ticket = _identifier(item.get("ticket_id"))
            rating = _identifier(item.get("id"))
            group = _identifier(item.get("group_id"))
        except TypeError:
            detail = "satisfaction rating: id, ticket_id or group_id is not a number or string"
            return [Rejection("wrong_type", detail)]
        if ticket is None:
            return [Rejection("missing_field", "satisfaction rating without a ticket_id")]
        stamp = item.get("created_at", item.get("updated_at"))
        ms = epoch_ms(stamp)
        if ms is None:
            return [
                Rejection(
                    "invalid_timestamp",
                    f"satisfaction rating: created_at {str(stamp)[:40]!r} is not RFC 3339",
                )
            ]
        event_id = f"zd-sat-{rating}" if rating else f"zd-sat-t{ticket}-{ms}"
        fields: dict[str, Any] = {"csat": CSAT[score]}
        if group is not None and group != "0":
            fields["queue"] = self._queue(group)
        contact = bounded(f"zd-{ticket}")
        return [_event(bounded(event_id), "survey.responded", ms, contact, **fields)]


def _api_head(item: dict[str, Any], what: str) -> tuple[str, str, int] | Rejection:
    """The id, ticket id and time (epoch ms) of an API record, or why it has none."""
    try:
        event_id, ticket = _identifier(item.get("id")), _identifier(item.get("ticket_id"))
    except TypeError:
        return Rejection("wrong_type", f"{what}: id or ticket_id is neither a number nor a string")
    if event_id is None:
        return Rejection("missing_field", f"{what} without an id")
    if ticket is None:
        return Rejection("missing_field", f"{what} without a ticket_id")
    ms = epoch_ms(item.get("time"))
    if ms is None:
        return Rejection(
            "invalid_timestamp", f"{what}: time {str(item.get('time'))[:40]!r} is not RFC 3339"
        )
    return event_id, ticket, ms


def _event(event_id: str, type_: str, ms: int, contact: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": type_,
        "occurred_at": ms,
        "contact_id": contact,
        **fields,
    }
