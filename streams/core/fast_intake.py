"""The typed shapes of valid events: one msgspec Struct per `type`, decoded in one C pass.

`DECODER` decodes and checks types, enums, lengths and ranges; `intake.decode` finishes
the few checks left (timestamp, queue names, required fields) and falls back to its
reference checks for any message this refuses. Not compiled: mypyc cannot build Structs.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
_Short = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_EpochMs = Annotated[int, msgspec.Meta(ge=0, le=253402300799999)]
_Channel = Literal["voice", "chat", "email", "messaging", "social"]
_Priority = Literal["urgent", "high", "normal", "low"]
_State = Literal["available", "on_contact", "after_contact_work", "away", "offline"]


class Message(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    """The fields every event type may carry (all checked when present). Every Struct
    lists them first, in this order (`COMMON`), its own optional fields after them;
    `intake` checks the fields a type requires. A message with an unknown field goes to
    the reference path: msgspec skips such a value without checking its UTF-8 or range."""

    event_id: _Id
    occurred_at: _EpochMs | str
    contact_id: _Id | None = None
    queue: str | None = None
    channel: _Channel | None = None
    priority: _Priority | None = None
    team: _Short | None = None
    agent_id: _Id | None = None


class Queued(Message, tag="contact.queued"):
    """contact.queued: the common fields; queue and channel are required (checked by
    `intake`)."""


class Answered(Message, tag="contact.answered"):
    """contact.answered: the common fields only (a field of another type makes it an
    unknown field here)."""


class Abandoned(Message, tag="contact.abandoned"):
    """contact.abandoned: the common fields only (a field of another type makes it an
    unknown field here)."""


class Responded(Message, tag="contact.responded"):
    """contact.responded: the common fields only (a field of another type makes it an
    unknown field here)."""


class Ended(Message, tag="contact.ended"):
    """contact.ended: the common fields and an optional hold time, a number >= 0 (an
    integer becomes a float, as on the reference path)."""

    hold_seconds: Annotated[float, msgspec.Meta(ge=0)] | None = None


class Wrapped(Message, tag="contact.wrapped"):
    """contact.wrapped: the common fields only (a field of another type makes it an
    unknown field here)."""


class Resolved(Message, tag="contact.resolved"):
    """contact.resolved: the common fields and an optional first_contact flag (true or
    false, never a number)."""

    first_contact: bool | None = None


class Reopened(Message, tag="contact.reopened"):
    """contact.reopened: the common fields only (a field of another type makes it an
    unknown field here)."""


class Missed(Message, tag="contact.missed"):
    """contact.missed (version 1.1): agent_id is required (checked by `intake`), the
    ring time optional, a number >= 0."""

    ring_seconds: Annotated[float, msgspec.Meta(ge=0)] | None = None


class Survey(Message, tag="survey.responded"):
    """survey.responded: up to three integer scores in their ranges (at least one,
    which `intake` checks)."""

    csat: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None
    ces: Annotated[int, msgspec.Meta(ge=1, le=7)] | None = None
    nps: Annotated[int, msgspec.Meta(ge=0, le=10)] | None = None


class AgentState(Message, tag="agent.state"):
    """agent.state: agent_id and state required, queues and a reason optional (`intake`
    checks the required ones and the queue names)."""

    state: _State | None = None
    queues: list[str] | None = None
    reason: _Short | None = None


COMMON = (
    *("event_id", "occurred_at", "contact_id", "queue"),
    *("channel", "priority", "team", "agent_id"),
)
DECODER = msgspec.json.Decoder(
    Queued
    | Answered
    | Abandoned
    | Responded
    | Ended
    | Wrapped
    | Resolved
    | Reopened
    | Missed
    | Survey
    | AgentState
)
# Both the decode errors and the validation errors (a subclass).
DecodeError = msgspec.DecodeError
# The values of a Struct's fields in order: the common ones at 0-7, then its own.
astuple = msgspec.structs.astuple
