"""Twilio TaskRouter events to contract events (pure, stateless per record): the form posts
of a Workspace's Event Callback URL and the CloudEvents of an Event Streams webhook sink;
`verify_signature` checks X-Twilio-Signature. Tables in docs/connectors-twilio.md."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import orjson

from streams.connectors.base import (
    Connector,
    Mapped,
    bounded,
    decode_text,
    queue_label,
    short_hash,
)
from streams.core.contract import AGENT_STATES, LIVE_CHANNELS
from streams.core.intake import Rejection

MAX_BODY = 4 * 1024 * 1024  # one webhook body (an Event Streams batch may hold many events)
MAX_EPOCH_MS = 253402300799999  # 9999-12-31T23:59:59.999Z, as the contract accepts
CLOUDEVENT_PREFIX = "com.twilio.taskrouter."
ID_PREFIX = "twilio:"
# TaskChannelUniqueName (or, for another channel, the task attribute channelType) -> channel.
CHANNELS = {
    "voice": "voice",
    "chat": "chat",
    "web": "chat",
    "sms": "messaging",
    "mms": "messaging",
    "whatsapp": "messaging",
    "messaging": "messaging",
    "email": "email",
    "messenger": "social",
    "facebook": "social",
    "instagram": "social",
}
OTHER_CHANNEL = "messaging"  # `default` and unknown task channels without a hint
# Worker activity name -> "state" or "state:reason". Twilio's built-in activities (a new
# Workspace: Offline, Available, Unavailable; Flex adds Break) and common extra ones.
DEFAULT_ACTIVITIES = {
    "Available": "available",
    "Offline": "offline",
    "Unavailable": "away:unavailable",
    "Break": "away:break",
    "Busy": "on_contact",
    "Wrap Up": "after_contact_work",
    "WrapUp": "after_contact_work",
}
# TaskRouter event types understood and deliberately not mapped (each its own ignore reason).
IGNORED = frozenset(
    (
        *("activity.created", "activity.updated", "activity.deleted"),
        *("reservation.created", "reservation.canceled", "reservation.rescinded"),
        *("reservation.completed", "reservation.wrapup", "reservation.failed"),
        *("task.updated", "task.deleted", "task.system-deleted"),
        *("task.transfer-initiated", "task.transfer-attempt-failed", "task.transfer-failed"),
        *("task.transfer-canceled", "task.transfer-completed"),
        *("task-queue.created", "task-queue.deleted", "task-queue.moved"),
        *("task-queue.timeout", "task-queue.expression.updated"),
        *("worker.created", "worker.deleted", "worker.attributes.update"),
        *("worker.capacity.update", "worker.channel.availability.update"),
        *("workflow.entered", "workflow.timeout", "workflow.skipped"),
        *("workflow.target-matched", "workflow.created", "workflow.updated"),
        *("workflow.deleted", "workspace.created", "workspace.updated", "workspace.deleted"),
        *("task-channel.created", "task-channel.updated", "task-channel.deleted"),
    )
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _snake(name: str) -> str:
    """A webhook parameter name as Event Streams spells it: TaskQueueName -> task_queue_name."""
    return _CAMEL.sub("_", name).lower()


def parse_activity(name: str, value: str) -> tuple[str, str | None]:
    """An activity map value, "state" or "state:reason", checked against the contract."""
    state, _, reason = value.partition(":")
    state, reason = state.strip(), reason.strip()
    if state not in AGENT_STATES:
        raise ValueError(
            f"activity {name!r}: {state!r} is not an agent state ({', '.join(AGENT_STATES)})"
        )
    if len(reason) > 64:
        raise ValueError(f"activity {name!r}: reason {reason[:20]!r}... is over 64 characters")
    return state, reason or None


class TwilioConnector(Connector):
    """TaskRouter events to contract events, each record on its own (no state kept between
    records, so any number of receivers may share the work). The Task (TaskSid) is the
    contact, the Worker (WorkerSid) the agent; event ids come from Twilio's event sid (EV…)
    or the CloudEvent id, so a retried delivery maps to the same ids."""

    name = "twilio"

    def __init__(self, activities: dict[str, str] | None = None) -> None:
        super().__init__()
        merged = {**DEFAULT_ACTIVITIES, **(activities or {})}
        self.activities = {name: parse_activity(name, v) for name, v in merged.items()}
        self.folded = {name.casefold(): v for name, v in self.activities.items()}

    def feed(self, record: bytes) -> Mapped:
        if len(record) > MAX_BODY:
            return [Rejection("too_large", f"body of {len(record)} bytes exceeds {MAX_BODY}")]
        body = record.strip()
        if body[:1] in (b"{", b"["):
            return self._json(body)
        try:
            pairs = parse_qsl(decode_text(body), keep_blank_values=True, strict_parsing=bool(body))
        except ValueError:
            return [
                Rejection(
                    "invalid_value",
                    "neither JSON nor a form-encoded body (name=value pairs joined by &)",
                )
            ]
        fields = {_snake(name): value for name, value in pairs}
        return self._map(str(fields.get("event_type", "")), fields, _event_sid(fields), body)

    # ------------------------------------------------------------------ JSON

    def _json(self, body: bytes) -> Mapped:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return [Rejection("invalid_json", f"a body starting with {body[:1]!r}: {exc}"[:200])]
        if type(data) is dict:
            return self._object(data, "the body")
        out: Mapped = []
        for i, item in enumerate(data):
            if type(item) is dict:
                out += self._object(item, f"element {i}")
            else:
                out.append(Rejection("not_an_object", f"element {i} of the array: not an object"))
        return out

    def _object(self, obj: dict[str, Any], where: str) -> Mapped:
        if "EventType" in obj:  # the webhook's parameters kept as a JSON object
            fields = {_snake(str(k)): v for k, v in obj.items()}
            event_type = fields.get("event_type")
            if type(event_type) is not str:
                return [Rejection("wrong_type", f"{where}: EventType is not a string")]
            return self._map(event_type, fields, _event_sid(fields), orjson.dumps(obj))
        if "type" not in obj or "data" not in obj:
            return [
                Rejection(
                    "missing_field",
                    f"{where}: neither a CloudEvent (type, data) nor TaskRouter "
                    "parameters (EventType)",
                )
            ]
        ce_type, data = obj["type"], obj["data"]
        if type(ce_type) is not str:
            return [Rejection("wrong_type", f"{where}: CloudEvent type is not a string")]
        if not ce_type.startswith(CLOUDEVENT_PREFIX):
            return self.ignore("not_taskrouter")
        if type(data) is not dict:
            return [Rejection("wrong_type", f"{where}: CloudEvent data is not an object")]
        payload = data.get("payload")
        source = payload if type(payload) is dict else data
        fields = {_snake(str(k)): v for k, v in source.items()}
        for fallback in (data.get("timestamp"), obj.get("time")):
            if "timestamp" not in fields and fallback is not None:
                fields["timestamp"] = fallback
        sid = _event_sid(fields) or _event_sid(data)
        if sid is None and type(obj.get("id")) is str and obj["id"]:
            sid = obj["id"]
        event_type = ce_type[len(CLOUDEVENT_PREFIX) :]
        return self._map(event_type, fields, sid, orjson.dumps(obj))

    # ------------------------------------------------------------------ mapping

    def _map(self, event_type: str, f: dict[str, Any], sid: str | None, raw: bytes) -> Mapped:
        if not event_type:
            return [Rejection("missing_field", "EventType: no event type")]
        handler = HANDLERS.get(event_type)
        if handler is None:
            return self.ignore(event_type if event_type in IGNORED else "unknown_event_type")
        at = occurred_ms(f)
        if isinstance(at, Rejection):
            return [at]
        base = ID_PREFIX + (sid if sid else "h" + short_hash(raw, 24))
        return handler(self, event_type, f, at, base)

    def _task(self, event_type: str, f: dict[str, Any]) -> str | Rejection:
        task = f.get("task_sid")
        if type(task) is not str or not task:
            return Rejection("missing_field", f"{event_type} without TaskSid")
        return bounded(task)

    def _worker(self, event_type: str, f: dict[str, Any]) -> str | Rejection:
        worker = f.get("worker_sid")
        if type(worker) is not str or not worker:
            return Rejection("missing_field", f"{event_type} without WorkerSid")
        return bounded(worker)

    def _queued(self, event_type: str, f: dict[str, Any], at: int, base: str) -> Mapped:
        task = self._task(event_type, f)
        if isinstance(task, Rejection):
            return [task]
        name = f.get("task_queue_name") or f.get("task_queue_sid")
        if type(name) is not str or not name:
            if event_type == "task.created":  # the Workflow has not picked a queue yet
                return self.ignore("task.created")
            return [Rejection("missing_field", f"{event_type} without TaskQueueName")]
        suffix = ":created" if event_type == "task.created" else ""
        return [
            {
                "event_id": bounded(base + suffix),
                "type": "contact.queued",
                "occurred_at": at,
                "contact_id": task,
                "queue": queue_label(name),
                "channel": channel_of(f),
            }
        ]

    def _answered(self, event_type: str, f: dict[str, Any], at: int, base: str) -> Mapped:
        return self._with_agent(event_type, f, at, base, "contact.answered")

    def _missed(self, event_type: str, f: dict[str, Any], at: int, base: str) -> Mapped:
        return self._with_agent(event_type, f, at, base, "contact.missed")

    def _with_agent(
        self, event_type: str, f: dict[str, Any], at: int, base: str, kind: str
    ) -> Mapped:
        task = self._task(event_type, f)
        if isinstance(task, Rejection):
            return [task]
        worker = self._worker(event_type, f)
        if isinstance(worker, Rejection):
            return [worker]
        return [
            {
                "event_id": bounded(base),
                "type": kind,
                "occurred_at": at,
                "contact_id": task,
                "agent_id": worker,
            }
        ]

    def _abandoned(self, event_type: str, f: dict[str, Any], at: int, base: str) -> Mapped:
        task = self._task(event_type, f)
        if isinstance(task, Rejection):
            return [task]
        event: dict[str, Any] = {
            "event_id": bounded(base),
            "type": "contact.abandoned",
            "occurred_at": at,
            "contact_id": task,
        }
        reason = f.get("task_canceled_reason") or f.get("reason")
        if type(reason) is str and reason.strip():
            event["reason"] = reason.strip()[:64]
        return [event]

    def _ended(self, event_type: str, f: dict[str, Any], at: int, base: str) -> Mapped:
        task = self._task(event_type, f)
        if isinstance(task, Rejection):
            return [task]
        # The task's end has one id, from task.wrapup or (no wrap-up) task.completed.
        ended_id = bounded(f"{ID_PREFIX}{task}:ended")
        return [
            {"event_id": ended_id, "type": "contact.ended", "occurred_at": at, "contact_id": task}
        ]

    def _completed(self, event_type: str, f: dict[str, Any], at: int, base: str) -> Mapped:
        out = self._ended(event_type, f, at, base)
        if isinstance(out[0], Rejection):
            return out
        task = out[0]["contact_id"]
        out.append(
            {
                "event_id": bounded(base),
                "type": "contact.wrapped",
                "occurred_at": at,
                "contact_id": task,
            }
        )
        if channel_of(f) not in LIVE_CHANNELS:
            out.append(
                {
                    "event_id": bounded(base + ":resolved"),
                    "type": "contact.resolved",
                    "occurred_at": at,
                    "contact_id": task,
                }
            )
        return out

    def _activity(self, event_type: str, f: dict[str, Any], at: int, base: str) -> Mapped:
        worker = self._worker(event_type, f)
        if isinstance(worker, Rejection):
            return [worker]
        name = f.get("worker_activity_name")
        if type(name) is not str or not name.strip():
            return [Rejection("missing_field", f"{event_type} without WorkerActivityName")]
        name = name.strip()
        found = self.activities.get(name) or self.folded.get(name.casefold())
        if found is None:  # an activity the map does not name: away, saying which
            found = ("away", name[:64])
        state, reason = found
        event: dict[str, Any] = {
            "event_id": bounded(base),
            "type": "agent.state",
            "occurred_at": at,
            "agent_id": worker,
            "state": state,
        }
        if reason is not None:
            event["reason"] = reason
        return [event]


HANDLERS = {
    "task.created": TwilioConnector._queued,
    "task-queue.entered": TwilioConnector._queued,
    "reservation.accepted": TwilioConnector._answered,
    "reservation.rejected": TwilioConnector._missed,
    "reservation.timeout": TwilioConnector._missed,
    "task.canceled": TwilioConnector._abandoned,
    "task.wrapup": TwilioConnector._ended,
    "task.completed": TwilioConnector._completed,
    "worker.activity.update": TwilioConnector._activity,
}


def _event_sid(fields: dict[str, Any]) -> str | None:
    """Twilio's id of the event: Sid (EV…) of a webhook or payload, EventSid accepted."""
    for key in ("sid", "event_sid"):
        value = fields.get(key)
        if type(value) is str and value.startswith("EV"):
            return value
    return None


def channel_of(f: dict[str, Any]) -> str:
    """The contract channel of a task: its TaskChannelUniqueName, else (`default`, a custom
    channel) a hint in its attributes: a call_sid (calls enqueued by TwiML) or channelType."""
    unique = f.get("task_channel_unique_name")
    if type(unique) is str and unique.lower() in CHANNELS:
        return CHANNELS[unique.lower()]
    attributes = f.get("task_attributes")
    if type(attributes) is str and attributes[:1] == "{":
        try:
            attributes = orjson.loads(attributes)
        except orjson.JSONDecodeError:
            attributes = None
    if type(attributes) is dict:
        if attributes.get("call_sid"):
            return "voice"
        hint = attributes.get("channelType")
        if type(hint) is str and hint.lower() in CHANNELS:
            return CHANNELS[hint.lower()]
    return OTHER_CHANNEL


def occurred_ms(f: dict[str, Any]) -> int | Rejection:
    """Epoch ms of the event: TimestampMs, else Timestamp (epoch seconds or milliseconds,
    or an ISO 8601 time as Event Streams writes it; no offset means UTC)."""
    for key in ("timestamp_ms", "timestamp"):
        value = f.get(key)
        if value is None or value == "":
            continue
        ms = _epoch_ms(value)
        if ms is None or not 0 <= ms <= MAX_EPOCH_MS:
            shown = str(value)[:40]
            return Rejection("invalid_timestamp", f"{key}: {shown!r} is not an epoch or ISO time")
        return ms
    return Rejection("missing_field", "Timestamp: the event carries no time")


def _epoch_ms(value: Any) -> int | None:
    number: float | None = None
    if type(value) in (int, float):
        number = float(value)
    elif type(value) is str:
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                return None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return round(moment.timestamp() * 1000)
    if number is None or number != number or number in (float("inf"), float("-inf")):
        return None
    return round(number if abs(number) >= 1e11 else number * 1000)  # ms, else seconds


# ---------------------------------------------------------------------- X-Twilio-Signature


def verify_signature(
    auth_token: str, url: str, body: bytes, signature: str, content_type: str
) -> bool:
    """Whether `signature` (X-Twilio-Signature) is Twilio's for this request: base64 of the
    HMAC-SHA1, keyed with the auth token, of the URL Twilio called followed, for a form body,
    by each parameter's name and value sorted by name. A JSON body is not signed itself: the
    URL carries bodySHA256 (hex SHA-256 of the body), checked here, and the URL is signed.
    The URL is tried as given and with its default port added or removed, as Twilio does."""
    if not auth_token or not signature:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(decode_text(body), keep_blank_values=True)
        except ValueError:
            return False
        values: dict[str, set[str]] = {}
        for name, value in pairs:
            values.setdefault(name, set()).add(value)
        signed = "".join(name + v for name in sorted(values) for v in sorted(values[name]))
    else:
        query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        expected_hash = query.get("bodySHA256")
        if expected_hash is None:
            return False
        actual_hash = hashlib.sha256(body).hexdigest()
        if not hmac.compare_digest(expected_hash.lower().encode(), actual_hash.encode()):
            return False
        signed = ""
    given = signature.strip().encode()
    key = auth_token.encode()
    ok = False
    for candidate in _port_variants(url):
        digest = hmac.new(key, (candidate + signed).encode(), hashlib.sha1).digest()
        ok |= hmac.compare_digest(base64.b64encode(digest), given)
    return ok


def _port_variants(url: str) -> list[str]:
    """The URL as given, and with the scheme's default port added or removed."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if default is None or parts.hostname is None:
        return [url]
    try:
        port = parts.port
    except ValueError:
        return [url]
    userinfo, _, _ = parts.netloc.rpartition("@")
    host = parts.netloc.rpartition("@")[2]
    bare = host.rsplit(":", 1)[0] if port is not None else host
    prefix = f"{userinfo}@" if userinfo else ""
    if port is None:
        other = urlunsplit(parts._replace(netloc=f"{prefix}{bare}:{default}"))
    elif port == default:
        other = urlunsplit(parts._replace(netloc=f"{prefix}{bare}"))
    else:
        return [url]
    return [url, other]
