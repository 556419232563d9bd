"""`floorwatch replay`: a JSON Lines file (or a vendor's records through a connector)
through the engine with the event-time clock."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any, BinaryIO, TextIO

import orjson

from streams.core.clock import EventTimeClock
from streams.core.engine import Engine
from streams.core.intake import EventTuple, Rejection, decode, event_from_tuple, event_to_tuple
from streams.core.settings import Settings
from streams.runtimes.progress import Progress
from streams.runtimes.records import RecordMapper, apply_mapped


class RejectsFile:
    """The rejects file of `floorwatch replay --rejects-out`: each rejection as one JSON
    object with its reason and detail and, when it has the raw line, that line's number
    (`line`, kept current by `replay`) and text."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.line = 0

    def __call__(self, record: Rejection) -> None:
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
    decode_process: bool = False,
    mapper: RecordMapper | None = None,
) -> Engine:
    """Feed every line of `source` to a fresh engine; blank lines are skipped.

    With `decode_process` (for a file, not standard input, which a forked child cannot
    read), a child process reads and validates the lines while this one applies them: two
    cores busy, the same events applied in the same order. With a `mapper` (a connector)
    the lines are a vendor's records, mapped to events (in the child too); what is still
    pending at the end of the file is flushed, and its `ignored` counts are kept current.
    """
    writer = RejectsFile(rejects) if rejects is not None else None
    engine = Engine(settings, EventTimeClock(), on_reject=writer)
    if mapper is None:
        feed = _decode_ahead if decode_process else _in_process
        count = feed(engine, source, writer, progress, wall_clock)
    elif decode_process:
        count = _decode_ahead(engine, source, writer, progress, wall_clock, mapper)
    else:
        count = _mapped_in_process(engine, source, writer, progress, wall_clock, mapper)
    # Timers due exactly at the last event time have fired on the way; nothing else moves.
    engine.advance(engine.clock.now())
    engine.finish()  # parked events whose contact never queued: unknown_contact
    if progress is not None:
        progress.finish(count)
    return engine


BOM = b"\xef\xbb\xbf"


def _lines(source: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(line number, line without its newline) for every non-blank line; a UTF-8 byte
    order mark at the start of the first line is dropped."""
    for number, line in enumerate(source, start=1):
        if number == 1 and line.startswith(BOM):
            line = line[len(BOM) :]
        if line.strip():
            yield number, line[:-1] if line.endswith(b"\n") else line


def _position(source: BinaryIO) -> int | None:
    return source.tell() if source.seekable() else None


def _in_process(
    engine: Engine,
    source: BinaryIO,
    writer: RejectsFile | None,
    progress: Progress | None,
    wall_clock: Callable[[], float],
) -> int:
    ingest = engine.ingest
    wall_now = wall_clock()
    count = 0
    for count, (number, line) in enumerate(_lines(source), start=1):
        if writer is not None:
            writer.line = number
        ingest(line, wall_now)
        if not count & 0x3FFF:
            wall_now = wall_clock()
            if progress is not None:
                progress.update(count, _position(source))
    return count


def _mapped_in_process(
    engine: Engine,
    source: BinaryIO,
    writer: RejectsFile | None,
    progress: Progress | None,
    wall_clock: Callable[[], float],
    mapper: RecordMapper,
) -> int:
    wall_now = wall_clock()
    feed = mapper.feed
    count = number = 0
    for count, (number, line) in enumerate(_lines(source), start=1):
        if writer is not None:
            writer.line = number
        apply_mapped(engine, feed(line), line, wall_now)
        if not count & 0x3FFF:
            wall_now = wall_clock()
            if progress is not None:
                progress.update(count, _position(source))
    apply_mapped(engine, mapper.flush(), b"", wall_now)
    return count


# Each message from the decoding child: (items in line order, the file position after
# them). An item is an event tuple, or (line number, reason, detail, raw) for a rejection.
# After the last batch the child sends, with a mapper, ("ignored", counts), then None; on
# failure, a string saying what went wrong.
BATCH_LINES = 2048
Item = EventTuple | tuple[int, str, str, bytes]


def _decode_child(
    source: BinaryIO,
    out: Connection,
    wall_clock: Callable[[], float],
    mapper: RecordMapper | None = None,
) -> None:
    """Runs in the forked child: decode (map) and validate, send batches, then None."""
    try:
        wall_now = wall_clock()
        items: list[Item] = []
        number = 0
        for number, line in _lines(source):
            if mapper is None:
                try:
                    items.append(event_to_tuple(decode(line, wall_now)))
                except Rejection as rejection:
                    items.append((number, rejection.reason, rejection.detail, line))
            else:
                _map_line(mapper.feed(line), number, line, wall_now, items)
            if len(items) >= BATCH_LINES:
                out.send((items, _position(source)))
                items = []
                wall_now = wall_clock()
        if mapper is not None:
            _map_line(mapper.flush(), number, b"", wall_now, items)
        out.send((items, _position(source)))
        if mapper is not None:
            out.send(("ignored", mapper.ignored))
        out.send(None)
    except Exception as exc:  # reported to the parent, which raises it
        out.send(f"{type(exc).__name__}: {exc}")
    finally:
        out.close()


def _map_line(
    mapped: list[dict[str, Any] | Rejection],
    number: int,
    line: bytes,
    wall_now: float,
    items: list[Item],
) -> None:
    """A connector's output for one line as items: events validated as contract JSON (one
    the contract refuses is rejected with its JSON), its rejections with the line."""
    dumps = orjson.dumps
    for item in mapped:
        if isinstance(item, Rejection):
            items.append((number, item.reason, item.detail, line))
            continue
        raw = dumps(item)
        try:
            items.append(event_to_tuple(decode(raw, wall_now)))
        except Rejection as rejection:
            items.append((number, rejection.reason, rejection.detail, raw))


def _decode_ahead(
    engine: Engine,
    source: BinaryIO,
    writer: RejectsFile | None,
    progress: Progress | None,
    wall_clock: Callable[[], float],
    mapper: RecordMapper | None = None,
) -> int:
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_decode_child, args=(source, send, wall_clock, mapper), daemon=True
    )
    child.start()
    send.close()
    apply, reject = engine.apply, engine.intake.reject
    count = 0
    try:
        while (message := receive.recv()) is not None:
            if isinstance(message, str):
                raise RuntimeError(f"decoding process failed: {message}")
            if message[0] == "ignored":
                assert mapper is not None
                mapper.ignored = dict(message[1])
                continue
            items, position = message
            wall_now = wall_clock()
            for item in items:
                if len(item) == 4:  # a rejection: (line number, reason, detail, raw)
                    number, reason, detail, raw = item
                    if writer is not None:
                        writer.line = number
                    reject(Rejection(reason, detail, raw))
                else:
                    apply(event_from_tuple(item), wall_now)
            count += len(items)
            if progress is not None:
                progress.update(count, position)
    finally:
        receive.close()
        child.join(timeout=10)
    return count


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


def accepted_nothing(engine: Engine) -> bool:
    """Whether lines were read and every one was rejected as unreadable: no event applied,
    parked, ignored or dropped as a duplicate (an event of an unknown contact was valid)."""
    pipeline = engine.pipeline
    return (
        any(pipeline.rejected.values())
        and not pipeline.rejected.get("unknown_contact", 0)
        and not any(pipeline.processed.values())
        and not any(pipeline.ignored.values())
        and pipeline.duplicates == 0
        and engine.parked_count == 0
    )


def what_it_seems(engine: Engine, name: str, head: bytes, format_name: str | None) -> str:
    """One line saying what an input of which no line was accepted seems to be, from its
    first bytes (`head`) and the rejection counts."""
    counts = {reason: n for reason, n in engine.pipeline.rejected.items() if n}
    top = max(counts, key=lambda reason: counts[reason]) if counts else ""
    zcat = f"zcat {'FILE' if name == '-' else name} | floorwatch replay -"
    name = "standard input" if name == "-" else name
    if head.startswith(b"\x1f\x8b"):
        return f"{name} is gzip-compressed: decompress it first: {zcat}"
    if b"\x00" in head or not _text(head):
        return f"{name} is not text (binary data): give a JSON Lines file of events"
    if set(counts) == {"future_timestamp"}:
        return (
            f"every event of {name} is more than 5 minutes ahead of this machine's clock: "
            "check the source's clock (or this one's)"
        )
    if format_name is not None:
        return f"no line of {name} is a {format_name} record ({_reasons(counts)})"
    if top == "invalid_json":
        return f"{name} is not JSON Lines: no line is a JSON object ({_reasons(counts)})"
    return f"{name} is JSON but not events of the contract ({_reasons(counts)})"


def _text(head: bytes) -> bool:
    """Whether these first bytes read as UTF-8 (a character cut at the end allowed)."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items(), key=lambda i: -i[1]))
