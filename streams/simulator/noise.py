"""Serialised messages and transport noise: duplicates, late deliveries, malformed lines.

Turns the simulation's clean events into `Emission`s (the bytes of one message, its Kafka
key, when to send it and what kind of message it is), optionally with a share of noise.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["MESSAGE_KINDS", "Emission", "add_noise", "malformed", "plain"]

MESSAGE_KINDS = ("event", "duplicate", "out_of_order", "malformed")

_MAX_BUFFER = 200_000
_DUPLICATE_SPREAD = 20  # a duplicate follows its original within this many messages


@dataclass(frozen=True, slots=True)
class Emission:
    """One message to send: its bytes, its Kafka key, when to send it and what kind of
    message it is. `Simulation.messages` yields them; `paced` holds each back until its `at`."""

    # Epoch seconds at which to send it: the event time of its place in the stream, never
    # decreasing from one emission to the next (feed it to `Pacer.delay`).
    at: float
    payload: bytes  # one JSON object for valid events; no trailing newline
    key: str | None  # `contact_id`, or `agent_id` for agent events
    kind: str = "event"  # "event", "duplicate", "out_of_order" or "malformed"
    event: dict[str, Any] | None = None  # None for malformed messages
    reason: str | None = None  # malformed messages: the `Rejection.reason` `decode` gives

    @property
    def line(self) -> bytes:
        """The payload as one JSON Lines line."""
        return self.payload + b"\n"


def _key(event: dict[str, Any]) -> str | None:
    key = event.get("contact_id") or event.get("agent_id")
    return key if isinstance(key, str) else None


def plain(stream: Iterable[tuple[float, dict[str, Any]]]) -> Iterator[Emission]:
    """Clean emissions: each event once, in order."""
    dumps = orjson.dumps
    for at, event in stream:
        yield Emission(at, dumps(event), _key(event), "event", event)


# Malformed variants: (name, weight, reason). Each is a corrupted copy with its own event
# id that `streams.core.intake.decode` rejects with `reason`: truncated JSON, not an
# object, a missing or mistyped field, a bad enum value, an unparseable timestamp, an
# unknown type, an over-long id, invalid UTF-8 or an oversized message.
_VARIANTS: tuple[tuple[str, int, str], ...] = (
    ("truncated", 5, "invalid_json"),
    ("array", 2, "not_an_object"),
    ("no_occurred_at", 3, "missing_field"),
    ("float_time", 2, "wrong_type"),
    ("bad_channel", 2, "invalid_value"),
    ("bad_time", 2, "invalid_timestamp"),
    ("unknown_type", 2, "unknown_type"),
    ("long_id", 1, "out_of_range"),
    ("not_utf8", 1, "invalid_json"),
    ("too_large", 1, "too_large"),
)
_VARIANT_WEIGHTS = [w for _, w, _ in _VARIANTS]


def malformed(event: dict[str, Any], rng: random.Random) -> tuple[bytes, str]:
    """A corrupted copy of `event` and the rejection reason `decode` gives for it."""
    name, _, reason = rng.choices(_VARIANTS, _VARIANT_WEIGHTS)[0]
    bad = dict(event)
    bad["event_id"] = f"{event['event_id']}-bad"
    if name == "truncated":
        whole = orjson.dumps(bad)
        return whole[: rng.randint(1, len(whole) - 1)], reason  # never the closing brace
    if name == "array":
        return b"[" + orjson.dumps(bad) + b"]", reason
    if name == "no_occurred_at":
        del bad["occurred_at"]
    elif name == "float_time":
        bad["occurred_at"] = float(rng.randint(1_700_000_000_000, 1_900_000_000_000))
    elif name == "bad_channel":
        bad["channel"] = "fax"
    elif name == "bad_time":
        bad["occurred_at"] = "22/11/2026 09:15:02"
    elif name == "unknown_type":
        bad["type"] = "contact.teleported"
    elif name == "long_id":
        bad["event_id"] = "x" * 129
    elif name == "not_utf8":
        return b'{"event_id":"\xff\xfe' + orjson.dumps(bad)[1:], reason
    elif name == "too_large":
        bad["padding"] = "x" * 70_000
    return orjson.dumps(bad), reason


class _Item:
    __slots__ = ("at", "event", "key", "kind", "payload", "time")

    def __init__(self, at: float, kind: str, event: dict[str, Any], payload: bytes) -> None:
        self.at = at  # when to send it
        self.time = at  # its event time
        self.kind = kind
        self.event = event
        self.payload = payload
        self.key = _key(event)


# With a noise share p, independently for each clean event:
#
# * with probability p it is delivered late ("out_of_order"): held back and sent right
#   after the next event of the same contact (or agent), keeping its own `occurred_at`:
#   exactly one event overtakes it, nothing else of that contact comes between. Only an
#   event whose next one follows within `reorder_window` seconds of event time (and at
#   least 1 ms later) can be moved; when the drawn one cannot, the next event that can is
#   moved instead (`late_owed`), so the share stays close to p. An overtaken
#   `contact.queued` arrives right after the event that overtook it, well within the
#   engine's `orphan_hold`.
# * with probability p it is duplicated ("duplicate"): the identical bytes (same
#   `event_id`) are sent again a few messages later.
# * with probability p a malformed message ("malformed") is sent after it (`malformed`).
#   Malformed messages are extra: no clean event is lost.
#
# Emission times (`at`) never decrease, so a pacer can follow them.
def add_noise(
    stream: Iterable[tuple[float, dict[str, Any]]],
    share: float,
    rng: random.Random,
    *,
    reorder_window: float = 300.0,
) -> Iterator[Emission]:
    """Emissions of `stream` ((time, event) pairs in time order) with noise of `share`."""
    if not 0.0 <= share <= 1.0:
        raise ValueError("noise share must be in [0, 1]")
    buffer: deque[_Item] = deque()
    dumps = orjson.dumps

    late_owed = 0  # late deliveries drawn but not placed yet (no later event to follow)

    def release(item: _Item) -> Iterator[Emission]:
        nonlocal late_owed
        if item.kind == "event":
            if rng.random() < share:
                late_owed = min(late_owed + 1, 3)
            if late_owed and item.key is not None:
                for index, later in enumerate(buffer):
                    if later.key != item.key or later.kind == "duplicate":
                        continue
                    if later.time - item.time >= 0.001:  # visibly later (milliseconds)
                        late_owed -= 1
                        item.kind = "out_of_order"
                        item.at = later.at
                        buffer.insert(index + 1, item)  # overtaken by exactly one event
                        return
                    break
        yield Emission(item.at, item.payload, item.key, item.kind, item.event)
        if item.kind == "duplicate":
            return
        if rng.random() < share:
            position = min(len(buffer), rng.randint(0, _DUPLICATE_SPREAD))
            at = buffer[position - 1].at if position > 0 else item.at
            copy = _Item(at, "duplicate", item.event, item.payload)
            buffer.insert(position, copy)
        if rng.random() < share:
            payload, reason = malformed(item.event, rng)
            yield Emission(item.at, payload, item.key, "malformed", None, reason)

    for at, event in stream:
        buffer.append(_Item(at, "event", event, dumps(event)))
        horizon = at - reorder_window
        while buffer and (buffer[0].at < horizon or len(buffer) > _MAX_BUFFER):
            yield from release(buffer.popleft())
    while buffer:
        yield from release(buffer.popleft())
