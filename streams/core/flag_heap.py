"""A min-heap of flags (due, seq, contact, kind) kept in parallel arrays: about 25 bytes a
flag, where a tuple per flag with its boxed due and seq took about 130. A large centre
holds hundreds of thousands of contacts at risk or breached, each with a flag.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Generic, TypeVar

C = TypeVar("C")


class FlagHeap(Generic[C]):
    """Flags ordered by (due, seq): `dues[0]` is the earliest, and the children of entry
    i are entries 2i+1 and 2i+2, as in `heapq`. `seq` must be unique, so that no two
    flags tie and contacts are never compared. `entry(i)` reads one flag back."""

    __slots__ = ("contacts", "dues", "kinds", "seqs")

    def __init__(self) -> None:
        self.dues = array("d")
        self.seqs = array("q")
        self.kinds = bytearray()
        self.contacts: list[C] = []

    def __len__(self) -> int:
        return len(self.contacts)

    def entry(self, i: int) -> tuple[float, int, C, int]:
        return (self.dues[i], self.seqs[i], self.contacts[i], self.kinds[i])

    def push(self, due: float, seq: int, contact: C, kind: int) -> None:
        dues, seqs, kinds, contacts = self.dues, self.seqs, self.kinds, self.contacts
        dues.append(due)
        seqs.append(seq)
        kinds.append(kind)
        contacts.append(contact)
        i = len(contacts) - 1
        while i > 0:
            parent = (i - 1) >> 1
            parent_due = dues[parent]
            if parent_due < due or (parent_due == due and seqs[parent] < seq):
                break
            self._put(i, parent)
            i = parent
        dues[i], seqs[i], kinds[i], contacts[i] = due, seq, kind, contact

    def keep(self, wanted: Callable[[C, int], bool]) -> None:
        """Drop the flags whose (contact, kind) is not `wanted`, in place."""
        dues, seqs, kinds, contacts = self.dues, self.seqs, self.kinds, self.contacts
        size = 0
        for i in range(len(contacts)):
            if wanted(contacts[i], kinds[i]):
                if size != i:
                    self._put(size, i)
                size += 1
        del dues[size:], seqs[size:], kinds[size:], contacts[size:]
        for i in range(size // 2 - 1, -1, -1):
            self._sift_down(i)

    def _put(self, to: int, source: int) -> None:
        self.dues[to] = self.dues[source]
        self.seqs[to] = self.seqs[source]
        self.kinds[to] = self.kinds[source]
        self.contacts[to] = self.contacts[source]

    def _sift_down(self, i: int) -> None:
        dues, seqs, kinds, contacts = self.dues, self.seqs, self.kinds, self.contacts
        size = len(contacts)
        due, seq, kind, contact = dues[i], seqs[i], kinds[i], contacts[i]
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            right = child + 1
            if right < size:
                right_due, child_due = dues[right], dues[child]
                if right_due < child_due or (right_due == child_due and seqs[right] < seqs[child]):
                    child = right
            child_due = dues[child]
            if due < child_due or (due == child_due and seq < seqs[child]):
                break
            self._put(i, child)
            i = child
        dues[i], seqs[i], kinds[i], contacts[i] = due, seq, kind, contact
