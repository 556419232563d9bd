"""Bounded memory of recently seen event ids (duplicates by `event_id`)."""

from __future__ import annotations


class RecentIds:
    """Remembers the last `capacity` ids; the oldest are forgotten first."""

    __slots__ = ("_ids", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: dict[str, None] = {}

    def seen(self, event_id: str) -> bool:
        """True if `event_id` was seen before; otherwise remember it and return False."""
        ids = self._ids
        if event_id in ids:
            return True
        ids[event_id] = None
        if len(ids) > self.capacity:
            del ids[next(iter(ids))]
        return False

    def __len__(self) -> int:
        return len(self._ids)
