"""What every connector shares: the `Connector` base class (records in, contract events
out, pure and deterministic), reversible queue names and stable identifiers."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from streams.core.intake import Rejection

# A connector's output, in order: contract events (dicts ready for orjson) and rejections
# of records it could not map (reason from the contract's reject reasons, a specific detail).
Mapped = list[dict[str, Any] | Rejection]

QUEUE_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_PLAIN = re.compile(r"[A-Za-z0-9_.-]*")
_ESCAPE = re.compile(r":([0-9A-F]{2})")
MAX_QUEUE = 64
MAX_ID = 128
HASH_MARK = "::"


def short_hash(text: str | bytes, characters: int = 12) -> str:
    """A stable hexadecimal digest of `text` (the same on every machine and run)."""
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    return hashlib.blake2b(data, digest_size=(characters + 1) // 2).hexdigest()[:characters]


def queue_label(name: str) -> str:
    """A vendor's queue name as the contract's `queue`: unchanged when it is 1-64 characters
    of [A-Za-z0-9_.-]; otherwise every other character (":" too) becomes ":XX" per UTF-8
    byte, which `vendor_queue` reverses. An encoding longer than 64 characters is cut to
    49 and ends with "::" and 13 hex digits of a hash (then it is not reversible)."""
    if name and len(name) <= MAX_QUEUE and _PLAIN.fullmatch(name):
        return name
    out = []
    for char in name:
        if char.isascii() and (char.isalnum() or char in "_.-"):
            out.append(char)
        else:
            out.extend(f":{byte:02X}" for byte in char.encode("utf-8", "surrogateescape"))
    label = "".join(out)
    if len(label) > MAX_QUEUE:
        label = f"{label[:49]}{HASH_MARK}{short_hash(name, 13)}"
    return label


def vendor_queue(label: str) -> str | None:
    """The vendor's queue name of a `queue_label`, or None for a hashed (cut) label."""
    if HASH_MARK in label:
        return None
    return _unescape(label) if ":" in label else label


def _unescape(label: str) -> str:
    raw = bytearray()
    i = 0
    while i < len(label):
        if label[i] == ":" and _ESCAPE.match(label, i):
            raw.append(int(label[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(label[i].encode())
            i += 1
    return raw.decode("utf-8", "surrogateescape")


def bounded(text: str, limit: int = MAX_ID) -> str:
    """An identifier of at most `limit` characters: `text` itself when it fits, else its
    head, ":" and 12 hex digits of a hash of the whole (stable, distinct in practice)."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 13]}:{short_hash(text)}"


def decode_text(raw: bytes) -> str:
    """A record's bytes as text: UTF-8, else Latin-1 (every byte is a character), so that a
    name written in a legacy encoding maps to the same identifier every time."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class Connector:
    """A vendor's records in, contract events out: pure (no I/O, no clock read) and
    deterministic, so the same records give the same events, with the same `event_id`s,
    on every read. `feed` maps one record; `advance` releases what falls due by `now`
    (live sources); `flush` releases everything pending at the end of the input; the state
    between records survives `snapshot` and `restore` (JSON-ready values)."""

    name = ""

    def __init__(self) -> None:
        self.ignored: dict[str, int] = {}  # records deliberately not mapped, per reason

    def feed(self, record: bytes) -> Mapped:
        raise NotImplementedError

    def advance(self, now: float) -> Mapped:
        """Events that fall due by the source's clock `now` (epoch seconds)."""
        return []

    def flush(self) -> Mapped:
        """Everything still pending, at the end of the input."""
        return []

    def snapshot(self) -> dict[str, Any]:
        return {"ignored": dict(self.ignored)}

    def restore(self, value: dict[str, Any]) -> None:
        self.ignored = dict(value.get("ignored", {}))

    def ignore(self, reason: str) -> Mapped:
        """Count a record that is deliberately not mapped; nothing comes out of it."""
        self.ignored[reason] = self.ignored.get(reason, 0) + 1
        return []
