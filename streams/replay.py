"""`floorwatch replay`: a JSON Lines file through the engine with the event-time clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import BinaryIO, TextIO

import orjson

from streams.config import Settings
from streams.engine.clock import EventTimeClock
from streams.engine.engine import Engine, RejectRecord
from streams.progress import Progress


class RejectsFile:
    """Writes each rejected line as one JSON object: line number, reason, detail, raw text."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.line = 0

    def __call__(self, record: RejectRecord) -> None:
        entry: dict[str, object] = {"reason": record.reason, "detail": record.detail}
        if record.raw is not None:
            entry["line"] = self.line
            entry["raw"] = record.raw.decode("utf-8", "replace")
        self.out.write(orjson.dumps(entry) + b"\n")


def replay(
    source: BinaryIO,
    settings: Settings,
    *,
    rejects: BinaryIO | None = None,
    progress: Progress | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> Engine:
    """Feed every line of `source` to a fresh engine; blank lines are skipped."""
    writer = RejectsFile(rejects) if rejects is not None else None
    engine = Engine(settings, EventTimeClock(), on_reject=writer)
    ingest = engine.ingest
    wall_now = wall_clock()
    number = 0
    for number, line in enumerate(source, start=1):
        if writer is not None:
            writer.line = number
        if not line.strip():
            continue
        if line.endswith(b"\n"):
            line = line[:-1]
        ingest(line, wall_now)
        if not number & 0x3FFF:
            wall_now = wall_clock()
            if progress is not None:
                progress.update(number, source.tell() if source.seekable() else None)
    # Timers due exactly at the last event time have fired in `ingest`; nothing else moves.
    engine.advance(engine.clock.now())
    if progress is not None:
        progress.finish(number)
    return engine


def rejects_summary(engine: Engine, out: TextIO) -> None:
    """One line per rejection reason on stderr, e.g. `rejected 3 lines: invalid_json 2, ...`."""
    counts = {reason: n for reason, n in engine.pipeline.rejected.items() if n}
    total = sum(counts.values())
    duplicates = engine.pipeline.duplicates
    if total:
        parts = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))
        out.write(f"floorwatch replay: rejected {total} event(s): {parts}\n")
    if duplicates:
        out.write(f"floorwatch replay: dropped {duplicates} duplicate event(s)\n")
