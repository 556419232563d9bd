"""Names fixed by the public contracts (../shared/spec): event types, enums, label values."""

from __future__ import annotations

CONTACT_TYPES = (
    "contact.queued",
    "contact.answered",
    "contact.abandoned",
    "contact.responded",
    "contact.ended",
    "contact.wrapped",
    "contact.resolved",
    "contact.reopened",
    "contact.missed",  # version 1.1
)
SURVEY_TYPE = "survey.responded"
AGENT_TYPE = "agent.state"
EVENT_TYPES = (*CONTACT_TYPES, SURVEY_TYPE, AGENT_TYPE)

CHANNELS = ("voice", "chat", "email", "messaging", "social")
LIVE_CHANNELS = frozenset(("voice", "chat"))
PRIORITIES = ("urgent", "high", "normal", "low")
AGENT_STATES = ("available", "on_contact", "after_contact_work", "away", "offline")

SLA_KINDS = ("answer", "first_response", "resolution")
BACKLOG_AGES = ("lt_1h", "1h_4h", "4h_24h", "ge_24h")
OVERFLOW_QUEUE = "_overflow"

# Reasons an input message is rejected (label `reason` of contactcenter_events_rejected_total).
REJECT_REASONS = (
    "too_large",  # larger than 64 KiB
    "invalid_json",  # not UTF-8 JSON
    "not_an_object",  # JSON, but not an object
    "missing_field",  # a field required for this type is absent
    "wrong_type",  # a field has the wrong JSON type
    "out_of_range",  # a number or a string length is outside its range
    "invalid_value",  # a value not in its enumeration or pattern
    "invalid_timestamp",  # occurred_at is not RFC 3339 with offset nor epoch milliseconds
    "unknown_type",  # `type` is not one of EVENT_TYPES
    "future_timestamp",  # occurred_at more than 5 minutes ahead of the wall clock
    "unknown_contact",  # a contact event that no contact.queued ever introduced
)

MAX_MESSAGE_BYTES = 64 * 1024
MAX_FUTURE_SECONDS = 300.0
