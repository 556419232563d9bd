"""The checkpointer's order of effects, with stand-ins for the Tables and the producer:
sends delivered, then Table writes, then (once the changelogs are delivered) the commit."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping

from faust.types import TP

from streams.runtimes.worker.checkpoint import Changes, Checkpointer


class Table:
    """Records writes and deliveries; each write's changelog lands when the test says."""

    def __init__(self, name: str, log: list[tuple]) -> None:  # type: ignore[type-arg]
        self.name = name
        self.log = log
        self.landing: list[asyncio.Future[int]] = []

    async def write(self, source: TP, values: list) -> asyncio.Future[int]:  # type: ignore[type-arg]
        self.log.append(("write", self.name, source.partition, values))
        self.landing.append(asyncio.get_running_loop().create_future())
        return self.landing[-1]

    def delivered(self, source: TP, offset: int) -> None:
        self.log.append(("delivered", self.name, source.partition, offset))


class Stage:
    def __init__(self, topic: str, table: Table, applied: dict[int, int]) -> None:
        self.topic = topic
        self.table = table
        self.applied = applied  # partition -> last offset applied

    def changes(self, partitions: Collection[int]) -> list[Changes]:
        return [
            (p, [(b"k%d" % p, b"v"), (b"o:%d" % p, str(self.applied[p]).encode())], self.applied[p])
            for p in sorted(partitions)
        ]


def make(log: list[tuple], assigned: set[TP]) -> tuple[Checkpointer, Table, Table]:  # type: ignore[type-arg]
    contacts, queues = Table("contacts", log), Table("queues", log)
    stages = [Stage("events", contacts, {0: 41, 1: 9}), Stage("facts", queues, {2: 99})]

    async def commit(offsets: Mapping[TP, int]) -> bool:
        log.append(("commit", dict(offsets)))
        return True

    checkpointer = Checkpointer(stages, commit, lambda: assigned, interval_seconds=1.0)  # type: ignore[arg-type]
    return checkpointer, contacts, queues


async def settle() -> None:
    for _ in range(10):  # let every ready task run to its next wait
        await asyncio.sleep(0)


def test_sends_then_tables_then_the_commit_of_the_next_offsets() -> None:
    async def run() -> list[tuple]:  # type: ignore[type-arg]
        log: list[tuple] = []  # type: ignore[type-arg]
        assigned = {TP("events", 0), TP("events", 1), TP("facts", 2)}
        checkpointer, contacts, queues = make(log, assigned)
        loop = asyncio.get_running_loop()
        fact, dead_letter = loop.create_future(), loop.create_future()
        checkpointer.sent([fact, dead_letter])
        for tp in assigned:
            checkpointer.applied(tp)
        committer = loop.create_task(checkpointer.commit_forever(lambda: False))
        checkpoint = loop.create_task(checkpointer.checkpoint(now=100.0))
        await settle()
        assert log == []  # the facts and dead letters are not delivered yet
        fact.set_result(None)
        await settle()
        assert log == []
        dead_letter.set_result(None)
        await checkpoint
        await settle()
        assert [entry[:3] for entry in log] == [
            ("write", "contacts", 0),
            ("write", "contacts", 1),
            ("write", "queues", 2),
        ]  # and nothing committed: the changelogs have not landed
        for future, offset in zip(contacts.landing + queues.landing, (500, 501, 900), strict=True):
            future.set_result(offset)
        await settle()
        committer.cancel()
        assert checkpointer.next_checkpoint == 101.0
        return log[3:]

    assert asyncio.run(run()) == [
        ("delivered", "contacts", 0, 500),
        ("delivered", "contacts", 1, 501),
        ("delivered", "queues", 2, 900),
        ("commit", {TP("events", 0): 42, TP("events", 1): 10, TP("facts", 2): 100}),
    ]


def test_the_applied_offset_is_written_after_what_it_covers() -> None:
    async def run() -> list[tuple]:  # type: ignore[type-arg]
        log: list[tuple] = []  # type: ignore[type-arg]
        checkpointer, _, _ = make(log, set())
        checkpointer.applied(TP("events", 1))
        await checkpointer.checkpoint(now=0.0)
        return log

    assert asyncio.run(run()) == [("write", "contacts", 1, [(b"k1", b"v"), (b"o:1", b"9")])]


def test_a_revoked_partition_is_neither_written_nor_marked_delivered() -> None:
    async def run() -> list[tuple]:  # type: ignore[type-arg]
        log: list[tuple] = []  # type: ignore[type-arg]
        assigned = {TP("events", 0), TP("events", 1)}
        checkpointer, contacts, _ = make(log, assigned)
        for tp in (TP("events", 0), TP("events", 1), TP("facts", 2)):
            checkpointer.applied(tp)
        checkpointer.forget(TP("facts", 2))  # revoked before the checkpoint
        await checkpointer.checkpoint(now=0.0)
        assigned.discard(TP("events", 1))  # revoked after it: its store is closed
        committer = asyncio.get_running_loop().create_task(
            checkpointer.commit_forever(lambda: False)
        )
        for future, offset in zip(contacts.landing, (7, 8), strict=True):
            future.set_result(offset)
        await settle()
        committer.cancel()
        return [entry[:3] for entry in log]

    assert asyncio.run(run()) == [
        ("write", "contacts", 0),
        ("write", "contacts", 1),
        ("delivered", "contacts", 0),
        ("commit", {TP("events", 0): 42, TP("events", 1): 10}),  # Faust drops the revoked one
    ]
