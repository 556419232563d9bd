"""Vendor records through a connector into an engine: the protocol the runtimes expect of a
connector (streams.connectors, passed in by the command line) and the one way its output
is applied: events decoded as contract JSON, rejections to the engine's reject path."""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from streams.core.engine import Engine
from streams.core.intake import Rejection


class RecordMapper(Protocol):
    """What the runtimes use of a connector (streams.connectors.Connector): records in,
    contract event dicts and rejections out; timers released by `advance` and `flush`;
    its state in `snapshot`/`restore`; `ignored` counts records deliberately not mapped."""

    name: str
    ignored: dict[str, int]

    def feed(self, record: bytes) -> list[dict[str, Any] | Rejection]: ...

    def advance(self, now: float) -> list[dict[str, Any] | Rejection]: ...

    def flush(self) -> list[dict[str, Any] | Rejection]: ...

    def snapshot(self) -> dict[str, Any]: ...

    def restore(self, value: dict[str, Any]) -> None: ...


def apply_mapped(
    engine: Engine, items: list[dict[str, Any] | Rejection], record: bytes, wall_now: float
) -> int:
    """Apply a connector's output for one record; returns how many events it held. A
    rejection keeps the record it came from; an event the contract refuses, its JSON."""
    events = 0
    ingest = engine.ingest
    for item in items:
        if isinstance(item, Rejection):
            item.raw = record
            engine.intake.reject(item)
        else:
            ingest(orjson.dumps(item), wall_now)
            events += 1
    return events


def ignored_summary(mapper: RecordMapper, command: str) -> str | None:
    """One line: how many records were read and deliberately not mapped, per reason."""
    counts = {reason: n for reason, n in mapper.ignored.items() if n}
    if not counts:
        return None
    parts = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))
    total = sum(counts.values())
    return f"floorwatch {command}: ignored {total} {mapper.name} record(s) by design: {parts}"
