"""Writing a Faust Table in bulk: the local store, then the changelog, one send each.

`table[key] = value` queues each changelog message in Faust's producer buffer, which
sends them one at a time (about 5,000 a second on a 2-core machine): a checkpoint of
100,000 contacts would take 20 s to leave, and shutdown waits for it. A checkpoint here
writes the store and hands the changelog messages (raw key and value bytes, as Faust
writes them for a bytes Table) straight to the producer. Once the last one is delivered,
the store's persisted offset is moved, as Faust does, so a restart on the same store
reads only the changelog beyond it.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from faust.streams import _current_event  # the partition a store write goes to
from faust.types import TP


class _SourceMark:
    """All that Faust's store reads from the current event: `.message.topic` and
    `.message.partition`, the source partition a write belongs to."""

    __slots__ = ("__weakref__", "message", "partition", "topic")

    def __init__(self, source: TP) -> None:
        self.topic = source.topic
        self.partition = source.partition
        self.message = self


@contextlib.contextmanager
def writing_for(source: TP) -> Iterator[None]:
    """Faust's stores pick the partition of the stream's current event; the worker has
    no Faust events, so name the source partition."""
    mark = _SourceMark(source)
    token = _current_event.set(weakref.ref(mark))  # type: ignore[arg-type]
    try:
        yield
    finally:
        _current_event.reset(token)


class BulkTable:
    """A Faust Table (bytes keys and values), written a checkpoint at a time."""

    def __init__(self, table: Any, app: Any) -> None:
        self.table = table
        self.app = app

    def items(self) -> Iterable[tuple[bytes, bytes]]:
        return self.table.items()

    async def write(self, source: TP, values: Iterable[tuple[bytes, bytes | None]]) -> Any:
        """Store each value (None deletes) and send it to the changelog partition of
        `source`. Returns the delivery future of the last message (None if none)."""
        store = self.table.data
        topic = self.table.changelog_topic.get_topic_name()
        send = self.app.producer.send
        last = None
        with writing_for(source):
            for key, value in values:
                if value is None:
                    with contextlib.suppress(KeyError):
                        del store[key]
                else:
                    store[key] = value
                last = await send(topic, key, value, source.partition, None, None)
        return last

    def delivered(self, source: TP, metadata: Any) -> None:
        """The changelog holds everything up to `metadata.offset`: a restart on this
        store resumes its recovery there."""
        topic = self.table.changelog_topic.get_topic_name()
        self.table.data.set_persisted_offset(TP(topic, source.partition), metadata.offset)
