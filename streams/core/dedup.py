"""Bounded memory of recently seen event ids (duplicates by `event_id`)."""

from __future__ import annotations

from collections import deque


class RecentIds:
    """Remembers the last `capacity` ids; the oldest are forgotten first.

    A set for membership and a deque for age order: O(1) per id. (A dict used as a FIFO
    is O(n) per eviction in CPython: iteration skips the deleted entries at its front.)
    """

    __slots__ = ("_ids", "_order", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: set[str] = set()
        self._order: deque[str] = deque()

    def seen(self, event_id: str) -> bool:
        """True if `event_id` was seen before; otherwise remember it and return False."""
        ids = self._ids
        if event_id in ids:
            return True
        ids.add(event_id)
        self._order.append(event_id)
        if len(ids) > self.capacity:
            ids.discard(self._order.popleft())
        return False

    def __len__(self) -> int:
        return len(self._ids)
