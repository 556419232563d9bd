"""Facts on the wire: the contact stage records `FactSink` calls as facts messages, the
queue stage replays them into a board. Each fact is [offset, seq, name, queue, *args].
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from streams.core.facts import FactSink
from streams.core.queues import QueueBoard


# (offset, seq) — the source offset of the event that caused a fact and the fact's rank
# among that event's facts — orders the facts of one source partition. The queue stage
# keeps the last pair applied per queue and source partition in the queue's Table value,
# so a fact delivered twice (redelivery, or events redone after a crash) is applied once.
# Facts for queue Q always go to partition `queue_partition(Q)`.
class FactsMessage:
    """One message of the facts topic: a source partition's facts for one destination
    partition, and (on the last message of a batch) the source's progress time. `encode`
    and `decode` are the only places that know its layout."""

    __slots__ = ("facts", "mark", "source")

    def __init__(self, source: int, mark: float | None, facts: list[list[Any]]) -> None:
        self.source = source
        self.mark = mark
        self.facts = facts

    def encode(self) -> bytes:
        return orjson.dumps({"p": self.source, "w": self.mark, "f": self.facts})

    @staticmethod
    def decode(raw: bytes) -> FactsMessage:
        message = orjson.loads(raw)
        mark = message["w"]
        return FactsMessage(int(message["p"]), None if mark is None else float(mark), message["f"])


def fact_position(fact: list[Any]) -> tuple[int, int]:
    """(source offset, seq): orders the facts of one source partition."""
    return (fact[0], fact[1])


def fact_queue(fact: list[Any]) -> str:
    """The queue a fact is for (its facts partition follows from it)."""
    queue: str = fact[3]
    return queue


def queue_partition(queue: str, partitions: int) -> int:
    """The facts partition of a queue (stable across processes and restarts)."""
    return zlib.crc32(queue.encode()) % partitions


class FactRecorder(FactSink):
    """The contact stage's `FactSink` in distributed mode: facts stamped (offset, seq) and
    grouped by the facts partition of their queue, taken after each batch."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.out: dict[int, list[list[Any]]] = {}
        self.offset = -1
        self.seq = 0
        self._partition_of: dict[str, int] = {}  # queue -> facts partition, computed once

    def start_event(self, offset: int) -> None:
        self.offset = offset
        self.seq = 0

    def take(self) -> dict[int, list[list[Any]]]:
        out, self.out = self.out, {}
        return out

    def _add(self, name: str, queue: str, *args: Any) -> None:
        fact = [self.offset, self.seq, name, queue, *args]
        self.seq += 1
        partition = self._partition_of.get(queue)
        if partition is None:
            partition = self._partition_of[queue] = queue_partition(queue, self.partitions)
        facts = self.out.get(partition)
        if facts is None:
            self.out[partition] = [fact]
        else:
            facts.append(fact)

    def entered(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        first_entry: float,
        priority: str,
        team: str | None,
        met_mask: int,
        breached_mask: int,
    ) -> None:
        self._add(
            "entered",
            queue,
            channel,
            contact_id,
            ts,
            first_entry,
            priority,
            team,
            met_mask,
            breached_mask,
        )

    def left(self, queue: str, channel: str, contact_id: str, ts: float) -> None:
        self._add("left", queue, channel, contact_id, ts)

    def answered(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        priority: str,
        wait: float,
        first_response: float | None,
    ) -> None:
        self._add("answered", queue, channel, contact_id, ts, priority, wait, first_response)

    def abandoned(
        self, queue: str, channel: str, contact_id: str, ts: float, priority: str, wait: float
    ) -> None:
        self._add("abandoned", queue, channel, contact_id, ts, priority, wait)

    def responded(
        self, queue: str, channel: str, contact_id: str, ts: float, first_response: float | None
    ) -> None:
        self._add("responded", queue, channel, contact_id, ts, first_response)

    def closed(self, queue: str, channel: str, contact_id: str, ts: float) -> None:
        self._add("closed", queue, channel, contact_id, ts)

    def handled(
        self,
        queue: str,
        channel: str,
        ts: float,
        handle: float,
        hold: float | None,
        after_contact_work: float | None,
    ) -> None:
        self._add("handled", queue, channel, ts, handle, hold, after_contact_work)

    def resolved(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        resolution: float,
        first_contact: bool,
    ) -> None:
        self._add("resolved", queue, channel, contact_id, ts, resolution, first_contact)

    def reopened(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        first_entry: float,
        priority: str,
    ) -> None:
        self._add("reopened", queue, channel, contact_id, ts, first_entry, priority)

    def surveyed(
        self,
        queue: str,
        channel: str,
        ts: float,
        csat: int | None,
        ces: int | None,
        nps: int | None,
    ) -> None:
        self._add("surveyed", queue, channel, ts, csat, ces, nps)

    def agent_state(self, queue: str, agent_id: str, state: str | None, ts: float) -> None:
        self._add("agent_state", queue, agent_id, state, ts)

    def missed(self, queue: str, channel: str, ts: float) -> None:
        self._add("missed", queue, channel, ts)


def apply_fact(board: QueueBoard, fact: list[Any]) -> None:
    """Call the board method a recorded fact stands for (after the offset and seq).
    Spelled out per name, most frequent first: a direct call per fact, no look-up."""
    name = fact[2]
    if name == "entered":
        board.entered(
            fact[3], fact[4], fact[5], fact[6], fact[7], fact[8], fact[9], fact[10], fact[11]
        )
    elif name == "answered":
        board.answered(fact[3], fact[4], fact[5], fact[6], fact[7], fact[8], fact[9])
    elif name == "closed":
        board.closed(fact[3], fact[4], fact[5], fact[6])
    elif name == "handled":
        board.handled(fact[3], fact[4], fact[5], fact[6], fact[7], fact[8])
    elif name == "responded":
        board.responded(fact[3], fact[4], fact[5], fact[6], fact[7])
    elif name == "agent_state":
        board.agent_state(fact[3], fact[4], fact[5], fact[6])
    elif name == "left":
        board.left(fact[3], fact[4], fact[5], fact[6])
    elif name == "abandoned":
        board.abandoned(fact[3], fact[4], fact[5], fact[6], fact[7], fact[8])
    elif name == "resolved":
        board.resolved(fact[3], fact[4], fact[5], fact[6], fact[7], fact[8])
    elif name == "surveyed":
        board.surveyed(fact[3], fact[4], fact[5], fact[6], fact[7], fact[8])
    elif name == "missed":
        board.missed(fact[3], fact[4], fact[5])
    elif name == "reopened":
        board.reopened(fact[3], fact[4], fact[5], fact[6], fact[7], fact[8])
    else:
        raise ValueError(f"unknown fact {name!r}")
