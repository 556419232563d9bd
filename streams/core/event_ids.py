"""The contact stage's memory of event ids (duplicate detection), kept in the contacts
Table in chunks so that a restart or a rebalance forgets none of them.
"""

from __future__ import annotations

from collections import deque

from streams.core import table_keys
from streams.core.dedup import RecentIds

# Characters per chunk, each id counted with 3 more (quotes, comma). orjson writes at most
# 6 bytes per character (a control character as \u00XX), so a chunk's JSON stays under
# 12 MB, below the Table's 16 MiB limit, whatever the ids are made of.
CHUNK_CHARACTERS = 2_000_000


class StoredIds:
    """`RecentIds` (the last `capacity` ids, oldest out first) whose ids added since the last
    checkpoint are written as chunks keyed `i:<partition>:<seq>`; a chunk is deleted once
    the chunks after it hold `capacity` ids. Adding the stored chunks again in order
    rebuilds the memory exactly: an id leaves after `capacity` newer ids, whatever came
    before."""

    __slots__ = (
        "_loading",
        "chunk_characters",
        "chunks",
        "next_seq",
        "partition",
        "recent",
        "stored",
        "unsaved",
    )

    def __init__(
        self, partition: int, capacity: int, chunk_characters: int = CHUNK_CHARACTERS
    ) -> None:
        self.partition = partition
        self.chunk_characters = chunk_characters
        self.recent = RecentIds(capacity)
        self.unsaved: list[str] = []  # added since the last `changed()`, in order
        self.chunks: deque[tuple[int, int]] = deque()  # stored (seq, ids), oldest first
        self.stored = 0  # ids in the stored chunks
        self.next_seq = 0
        self._loading: list[tuple[int, list[str]]] = []

    def seen(self, event_id: str) -> bool:
        """True if `event_id` was seen before; otherwise remember it and return False."""
        if self.recent.seen(event_id):
            return True
        self.unsaved.append(event_id)
        return False

    def key(self, seq: int) -> str:
        return table_keys.event_ids_key(self.partition, seq)

    def restore(self, key: str, ids: list[str]) -> None:
        """A stored chunk (in any order; `restored` sorts them)."""
        self._loading.append((table_keys.event_ids_position(key)[1], ids))

    def restored(self) -> None:
        recent = self.recent
        for seq, ids in sorted(self._loading):
            for event_id in ids:
                recent.seen(event_id)
            self.chunks.append((seq, len(ids)))
            self.stored += len(ids)
            self.next_seq = seq + 1
        self._loading = []

    def changed(self) -> list[tuple[str, list[str] | None]]:
        """Table writes since the last call: new chunks, and chunks to delete (None)."""
        out: list[tuple[str, list[str] | None]] = []
        unsaved, self.unsaved = self.unsaved, []
        chunk: list[str] = []
        size = 0
        for event_id in unsaved:
            size += len(event_id) + 3
            if size > self.chunk_characters and chunk:
                out.append(self._new_chunk(chunk))
                chunk, size = [], len(event_id) + 3
            chunk.append(event_id)
        if chunk:
            out.append(self._new_chunk(chunk))
        chunks = self.chunks
        while chunks and self.stored - chunks[0][1] >= self.recent.capacity:
            seq, count = chunks.popleft()
            self.stored -= count
            out.append((self.key(seq), None))
        return out

    def _new_chunk(self, ids: list[str]) -> tuple[str, list[str]]:
        self.chunks.append((self.next_seq, len(ids)))
        self.stored += len(ids)
        self.next_seq += 1
        return self.key(self.next_seq - 1), ids
