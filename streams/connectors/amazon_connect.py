"""Amazon Connect to contract events (pure, stateless per record): EventBridge contact
events, agent event stream records (Kinesis) and contact records (CTR, for replay), as
their JSON documents, one by one, in JSON arrays or in Firehose/Kinesis envelopes.
Ids come from Connect's own ids, so redeliveries de-duplicate; tables in
docs/connectors-amazon-connect.md."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any

import orjson

from streams.connectors.base import Connector, Mapped, bounded, queue_label
from streams.core.contract import MAX_MESSAGE_BYTES
from streams.core.intake import Rejection, parse_timestamp

DETAIL_TYPE = "Amazon Connect Contact Event"
# Connect channel -> contract channel; TASK is ignored (back-office work items, no customer).
CHANNELS = {"VOICE": "voice", "CHAT": "chat", "EMAIL": "email"}
IGNORED_CHANNELS = {"TASK": "task_channel", "TASKS": "task_channel"}
# Contact event types read and deliberately not mapped, with their counted reason.
CONTACT_EVENTS_IGNORED = {
    "INITIATED": "initiated",
    "CONNECTED_TO_SYSTEM": "connected_to_system",
    "CONTACT_DATA_UPDATED": "contact_data_updated",
    "AMD_DISABLED": "answering_machine_detection",
}
# Agent snapshot contact states.
TALKING = frozenset(("CONNECTED", "CONNECTED_ONHOLD", "PAUSED"))
RINGING = frozenset(("INCOMING", "PENDING", "CONNECTING"))
NOT_TAKEN = {"MISSED": "missed", "REJECTED": "rejected", "ERROR": "error"}
# A queue of the AGENT type (a transfer straight to one agent) counts in this one queue.
AGENT_QUEUE = "_agent"
MAX_BATCH_BYTES = 64 * 1024 * 1024


def verify_secret(expected: str, presented: str) -> bool:
    """Whether the secret header EventBridge's API destination sent (`presented`) is the
    configured one, compared in constant time; an empty configured secret matches nothing."""
    if not expected:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


def _get(obj: Any, *names: str) -> Any:
    """The first present, non-null field of `names`, also as spelled with a capital first
    letter (the documentation shows both camelCase and PascalCase contact events)."""
    if type(obj) is not dict:
        return None
    for name in names:
        for key in (name, name[:1].upper() + name[1:]):
            value = obj.get(key)
            if value is not None:
                return value
    return None


def _ms(value: Any, what: str) -> int:
    """Epoch milliseconds of an ISO 8601 time of Connect ("...T20:58:44.031Z"; the agent
    event stream's documented "...T20:58:44:031Z" is read too, by datetime.fromisoformat)."""
    if type(value) is not str:
        raise Rejection("wrong_type", f"{what}: expected an ISO 8601 time string")
    try:
        return round(parse_timestamp(value) * 1000)
    except Rejection:
        raise Rejection(
            "invalid_timestamp", f"{what} {value[:40]!r}: not an ISO 8601 time with offset"
        ) from None


def _last_segment(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _arn(value: Any, what: str) -> str:
    if type(value) is not str or not value or not _last_segment(value):
        raise Rejection("missing_field", f"{what}: required (an ARN)")
    return value


def _loads(record: bytes) -> list[Any]:
    """The JSON documents of a record: one, or several written one after the other (how
    Firehose writes records to S3, with no separator)."""
    try:
        return [orjson.loads(record)]
    except orjson.JSONDecodeError:
        pass
    text = record.decode("utf-8", "replace").strip()
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    at = 0
    try:
        while at < len(text):
            document, at = decoder.raw_decode(text, at)
            documents.append(document)
            while at < len(text) and text[at] in " \t\r\n,":
                at += 1
    except ValueError:
        return []
    return documents if len(documents) > 1 else []


class AmazonConnectConnector(Connector):
    """Amazon Connect's JSON documents to contract events, each mapped on its own (no state
    between records, so several receivers may share a stream): EventBridge contact events,
    agent event stream records (state from the current snapshot), contact records (CTR).
    `queues` names queues by ARN or queue id; otherwise a queue is its id."""

    name = "connect"

    def __init__(self, queues: dict[str, str] | None = None) -> None:
        super().__init__()
        self.queues = dict(queues or {})

    def feed(self, record: bytes) -> Mapped:
        if len(record) > MAX_BATCH_BYTES:
            return [Rejection("too_large", f"record of {len(record)} bytes exceeds 64 MiB")]
        if record[:3] == b"\xef\xbb\xbf":
            record = record[3:]
        documents = _loads(record)
        if not documents:
            return [Rejection("invalid_json", "not a JSON document (nor several in a row)")]
        batch = len(documents) > 1 or type(documents[0]) is list or _envelope(documents[0])
        if not batch and len(record) > MAX_MESSAGE_BYTES:
            return [Rejection("too_large", f"document of {len(record)} bytes exceeds 65536")]
        out: Mapped = []
        for document in documents:
            out += self._batch(document) if type(document) is list else self._any(document)
        return out

    def _batch(self, items: list[Any]) -> Mapped:
        out: Mapped = []
        for item in items:
            out += self._any(item, sized=True)
        return out

    def _any(self, document: Any, sized: bool = False) -> Mapped:
        """One document: an envelope of records, or one record of the three kinds."""
        if type(document) is not dict:
            return [Rejection("not_an_object", "a JSON document that is not an object")]
        if _envelope(document):
            return self._envelope(document)
        if sized and len(orjson.dumps(document)) > MAX_MESSAGE_BYTES:
            return [Rejection("too_large", "a document in the batch exceeds 65536 bytes")]
        try:
            if "detail-type" in document:
                return self._contact_event(document)
            if "CurrentAgentSnapshot" in document or "AgentARN" in document:
                return self._agent_event(document)
            if "ContactId" in document and (
                "AWSContactTraceRecordFormatVersion" in document or "InitiationMethod" in document
            ):
                return self._contact_record(document)
        except Rejection as rejection:
            return [rejection]
        return [
            Rejection(
                "unknown_type",
                "a JSON object that is not an EventBridge event, an agent event stream record "
                "nor a contact record",
            )
        ]

    def _envelope(self, document: dict[str, Any]) -> Mapped:
        """Firehose HTTP endpoint delivery ({"records": [{"data": base64}]}) or a Lambda's
        Kinesis event ({"Records": [{"kinesis": {"data": base64}}]}): each record's data."""
        out: Mapped = []
        for item in document.get("records") or document.get("Records") or []:
            holder = item.get("kinesis", item) if type(item) is dict else None
            data = holder.get("data") if type(holder) is dict else None
            if type(data) is not str:
                out.append(Rejection("missing_field", "an envelope record without `data`"))
                continue
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                out.append(Rejection("invalid_value", "an envelope record's data is not base64"))
                continue
            if len(raw) > MAX_MESSAGE_BYTES:
                out.append(Rejection("too_large", f"record of {len(raw)} bytes exceeds 65536"))
                continue
            try:
                inner = orjson.loads(raw)
            except orjson.JSONDecodeError:
                out.append(Rejection("invalid_json", "an envelope record's data is not JSON"))
                continue
            out += self._any(inner)
        return out

    # Shared naming -----------------------------------------------------------------------

    def _queue(self, arn: str, queue_type: Any = None) -> str:
        """Queue label: the `queues` map's name for the ARN or the queue id, else the id;
        queues of the AGENT type (a transfer to one agent) are all AGENT_QUEUE."""
        queue_id = _last_segment(arn)
        name = self.queues.get(arn) or self.queues.get(queue_id)
        if name:
            return queue_label(name)
        if queue_type == "AGENT" or "/queue/agent/" in arn:
            return AGENT_QUEUE
        return queue_label(queue_id)

    def _channel(self, value: Any, what: str) -> str | None:
        """The contract channel, or None for a channel that is ignored (TASK)."""
        if type(value) is not str or not value:
            raise Rejection("missing_field", f"{what}: required")
        key = value.upper()
        if key in IGNORED_CHANNELS:
            return None
        channel = CHANNELS.get(key)
        if channel is None:
            raise Rejection("invalid_value", f"{what} {value[:40]!r}: not VOICE, CHAT, EMAIL, TASK")
        return channel

    # EventBridge contact events ----------------------------------------------------------

    def _contact_event(self, envelope: dict[str, Any]) -> Mapped:
        if envelope.get("detail-type") != DETAIL_TYPE:
            return self.ignore("other_detail_type")
        detail = envelope.get("detail")
        if type(detail) is not dict:
            raise Rejection("missing_field", "an Amazon Connect Contact Event without `detail`")
        kind = _get(detail, "eventType")
        if type(kind) is not str or not kind:
            raise Rejection("missing_field", "detail.eventType: required")
        if kind in CONTACT_EVENTS_IGNORED:
            return self.ignore(CONTACT_EVENTS_IGNORED[kind])
        if kind not in ("QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED"):
            return self.ignore("other_event_type")  # Connect adds types; they must not stop us
        contact = _get(detail, "contactId")
        if type(contact) is not str or not contact:
            raise Rejection("missing_field", "detail.contactId: required")
        channel = self._channel(_get(detail, "channel"), "detail.channel")
        if channel is None:
            return self.ignore("task_channel")
        contact = bounded(contact)
        queue_info = _get(detail, "queueInfo")
        agent_info = _get(detail, "agentInfo")
        agent_arn = _get(agent_info, "agentArn", "agentARN")

        def at(value: Any, what: str) -> int:
            if value is None:  # no own time: the envelope's (whole seconds)
                return _ms(envelope.get("time"), "time")
            return _ms(value, what)

        if kind == "QUEUED":
            arn = _arn(_get(queue_info, "queueArn", "arn"), "detail.queueInfo.queueArn")
            ms = at(_get(queue_info, "enqueueTimestamp"), "detail.queueInfo.enqueueTimestamp")
            queue = self._queue(arn, _get(queue_info, "queueType"))
            return [_event(contact, f"queued-{ms // 1000}", "contact.queued", ms,
                           queue=queue, channel=channel)]  # fmt: skip
        if kind == "CONNECTED_TO_AGENT":
            agent = _last_segment(_arn(agent_arn, "detail.agentInfo.agentArn"))
            ms = at(
                _get(agent_info, "connectedToAgentTimestamp"),
                "detail.agentInfo.connectedToAgentTimestamp",
            )
            return [_event(contact, f"answered-{ms // 1000}", "contact.answered", ms,
                           agent_id=bounded(agent))]  # fmt: skip
        ended = at(_get(detail, "disconnectTimestamp"), "detail.disconnectTimestamp")
        if kind == "DISCONNECTED":
            if agent_info is not None:
                hold = _hold(_get(agent_info, "customerHoldDuration"))
                return [_event(contact, "ended", "contact.ended", ended, **hold)]
            if _get(queue_info, "enqueueTimestamp") is None:
                return self.ignore("never_queued")  # the flow ended it, or an unanswered dial
            return [_abandoned(contact, ended, _get(detail, "disconnectReason"))]
        # COMPLETED: the end of after-contact work (right after DISCONNECTED when none)
        if agent_info is None:
            return self.ignore("completed_unanswered")
        if _get(agent_info, "afterContactWorkStartTimestamp") is not None:
            end = _get(agent_info, "afterContactWorkEndTimestamp")
            if end is None:
                return self.ignore("completed_without_acw_end")
            wrapped = _ms(end, "detail.agentInfo.afterContactWorkEndTimestamp")
        else:
            wrapped = ended
        out: Mapped = [_event(contact, "wrapped", "contact.wrapped", wrapped)]
        if channel == "email":  # an email contact is finished: a reply is a new contact
            out.append(_event(contact, "resolved", "contact.resolved", wrapped))
        return out

    # Agent event stream ------------------------------------------------------------------

    def _agent_event(self, record: dict[str, Any]) -> Mapped:
        kind = record.get("EventType")
        if kind == "HEART_BEAT":
            return self.ignore("heart_beat")
        if kind not in ("STATE_CHANGE", "LOGIN", "LOGOUT"):
            if type(kind) is not str or not kind:
                raise Rejection("missing_field", "agent event: EventType required")
            return self.ignore("other_agent_event")
        agent = bounded(_last_segment(_arn(record.get("AgentARN"), "AgentARN")))
        event_id = record.get("EventId")
        if type(event_id) is not str or not event_id:
            raise Rejection("missing_field", "agent event: EventId required")
        ms = _ms(record.get("EventTimestamp"), "EventTimestamp")
        base = bounded(f"connect-{event_id}")
        if kind == "LOGOUT":
            return [_agent(base, ms, agent, "offline", [], None)]
        current = record.get("CurrentAgentSnapshot")
        if type(current) is not dict:
            if kind == "LOGIN":
                return self.ignore("login_without_snapshot")
            raise Rejection("missing_field", "STATE_CHANGE without CurrentAgentSnapshot")
        previous = record.get("PreviousAgentSnapshot")
        out: Mapped = []
        now = self._derive(current)
        if kind == "LOGIN" or type(previous) is not dict or self._derive(previous) != now:
            out.append(_agent(base, ms, agent, *now))
        out += self._missed(current, previous, agent)
        if not out:
            return self.ignore("no_state_change")  # hold, a ring, a setting: same state
        return out

    def _derive(self, snapshot: dict[str, Any]) -> tuple[str, list[str], str | None]:
        """(state, queues, reason) of a snapshot: a contact being handled, then one in
        after-contact work (ENDED, until it leaves the snapshot), then one not taken
        (MISSED, REJECTED, ERROR: away until cleared), then the agent's status."""
        states = {_get(c, "state") for c in (snapshot.get("Contacts") or []) if type(c) is dict}
        status = snapshot.get("AgentStatus")
        name = _get(status, "name")
        status_type = _get(status, "type")
        queues = self._served(snapshot)
        if states & TALKING:
            return "on_contact", queues, None
        if "ENDED" in states:
            return "after_contact_work", queues, None
        for state, reason in NOT_TAKEN.items():
            if state in states:
                return "away", queues, reason
        label = name if type(name) is str else ""
        if status_type == "OFFLINE" or (status_type is None and label.lower() == "offline"):
            return "offline", [], None
        if status_type == "ROUTABLE" or (status_type is None and label.lower() == "available"):
            return "available", queues, None
        return "away", queues, (label[:64] or None)

    def _served(self, snapshot: dict[str, Any]) -> list[str]:
        """The standard inbound queues of the agent's routing profile (agent queues left out)."""
        profile = _get(snapshot.get("Configuration"), "routingProfile")
        labels: list[str] = []
        for queue in _get(profile, "inboundQueues") or []:
            arn = _get(queue, "arn", "ARN")
            if type(arn) is not str or not arn or "/queue/agent/" in arn:
                continue
            label = self._queue(arn)
            if label not in labels:
                labels.append(label)
        return sorted(labels)

    def _missed(self, current: dict[str, Any], previous: Any, agent: str) -> Mapped:
        """contact.missed for each contact that became MISSED or REJECTED in this record."""
        before = {}
        if type(previous) is dict:
            for c in previous.get("Contacts") or []:
                if type(c) is dict and type(_get(c, "contactId")) is str:
                    before[_get(c, "contactId")] = c
        out: Mapped = []
        for c in current.get("Contacts") or []:
            contact = _get(c, "contactId")
            if _get(c, "state") not in ("MISSED", "REJECTED") or type(contact) is not str:
                continue
            old = before.get(contact)
            if old is not None and _get(old, "state") in ("MISSED", "REJECTED"):
                continue
            ms = _ms(_get(c, "stateStartTimestamp"), "Contacts[].StateStartTimestamp")
            fields: dict[str, Any] = {"agent_id": agent}
            rang = _get(old, "stateStartTimestamp")
            if old is not None and _get(old, "state") in RINGING and rang is not None:
                fields["ring_seconds"] = max(0, ms - _ms(rang, "StateStartTimestamp")) / 1000
            out.append(
                _event(bounded(contact), f"missed-{agent}-{ms // 1000}", "contact.missed", ms,
                       **fields)
            )  # fmt: skip
        return out

    # Contact records (CTR) -----------------------------------------------------------------

    def _contact_record(self, ctr: dict[str, Any]) -> Mapped:
        contact = ctr.get("ContactId")
        if type(contact) is not str or not contact:
            raise Rejection("missing_field", "contact record: ContactId required")
        channel = self._channel(ctr.get("Channel"), "Channel")
        if channel is None:
            return self.ignore("task_channel")
        contact = bounded(contact)
        queue = ctr.get("Queue")
        enqueued = _get(queue, "enqueueTimestamp")
        if enqueued is None:
            return self.ignore("never_queued")  # a flow-only contact or an outbound call
        arn = _arn(_get(queue, "arn", "ARN"), "Queue.ARN")
        ms = _ms(enqueued, "Queue.EnqueueTimestamp")
        out: Mapped = [_event(contact, f"queued-{ms // 1000}", "contact.queued", ms,
                              queue=self._queue(arn), channel=channel)]  # fmt: skip
        agent_info = ctr.get("Agent")
        connected = _get(agent_info, "connectedToAgentTimestamp")
        disconnect = ctr.get("DisconnectTimestamp")
        ended = _ms(disconnect, "DisconnectTimestamp") if disconnect is not None else None
        if type(agent_info) is not dict or connected is None:
            transfer = ctr.get("TransferCompletedTimestamp")
            if transfer is not None:  # sent on elsewhere from the queue: a flow-out
                moved = _ms(transfer, "TransferCompletedTimestamp")
                out.append(_event(contact, "ended", "contact.ended", moved, reason="transfer"))
            elif ended is not None:
                out.append(_abandoned(contact, ended, ctr.get("DisconnectReason")))
            return out
        agent = bounded(_last_segment(_arn(agent_info.get("ARN"), "Agent.ARN")))
        answered = _ms(connected, "Agent.ConnectedToAgentTimestamp")
        out.append(_event(contact, f"answered-{answered // 1000}", "contact.answered", answered,
                          agent_id=agent))  # fmt: skip
        if ended is None:
            return out
        hold = _hold(agent_info.get("CustomerHoldDuration"))
        out.append(_event(contact, "ended", "contact.ended", ended, **hold))
        if agent_info.get("AfterContactWorkStartTimestamp") is not None:
            end = agent_info.get("AfterContactWorkEndTimestamp")
            if end is None:
                return out  # still in after-contact work: a later copy of the record has it
            wrapped = _ms(end, "Agent.AfterContactWorkEndTimestamp")
        else:
            wrapped = ended
        out.append(_event(contact, "wrapped", "contact.wrapped", wrapped))
        if channel == "email":
            out.append(_event(contact, "resolved", "contact.resolved", wrapped))
        return out


def _envelope(document: Any) -> bool:
    return type(document) is dict and (
        ("requestId" in document and type(document.get("records")) is list)
        or type(document.get("Records")) is list
    )


def _event(contact: str, what: str, type_: str, ms: int, **fields: Any) -> dict[str, Any]:
    """A contact event; its id is the contact's and the step's, whichever way it came."""
    return {
        "event_id": bounded(f"connect-{contact}-{what}"),
        "type": type_,
        "occurred_at": ms,
        "contact_id": contact,
        **fields,
    }


def _abandoned(contact: str, ms: int, reason: Any) -> dict[str, Any]:
    fields = {}
    if type(reason) is str and reason and reason != "CUSTOMER_DISCONNECT":
        fields["reason"] = reason.lower()[:64]
    return _event(contact, "abandoned", "contact.abandoned", ms, **fields)


def _hold(value: Any) -> dict[str, Any]:
    if type(value) in (int, float) and value >= 0:
        return {"hold_seconds": value}
    return {}


def _agent(
    base: str, ms: int, agent: str, state: str, queues: list[str], reason: str | None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": base,
        "type": "agent.state",
        "occurred_at": ms,
        "agent_id": agent,
        "state": state,
        "queues": queues,
    }
    if reason:
        event["reason"] = reason
    return event
