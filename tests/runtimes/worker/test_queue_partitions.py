"""The queues Table's layout: a queue under `q:<name>` beside the `o:<partition>` offsets, so
no queue name can pass for an offset; Tables of the old layout (bare names) still load.

The Table is a stand-in (one dict per store partition, as the RocksDB store keeps them);
the queue stage and the partitions' code are the worker's own.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import orjson
from faust.types import TP

from streams.core.fact_messages import FactsMessage, queue_partition
from streams.core.queue_stage import QueueStage
from streams.core.settings import Settings
from streams.runtimes.worker.offsets import OffsetGate
from streams.runtimes.worker.queue_partitions import QueuePartitions
from tests.support.helpers import T0

PARTITIONS = 4
TOPIC = "facts"
CLASHING = "o:2"  # a queue named like partition 2's offset key, and in partition 2
assert queue_partition(CLASHING, PARTITIONS) == 2
assert queue_partition("sales", PARTITIONS) == 0
BILLING = queue_partition("billing", PARTITIONS)


class Table:
    """Store partition -> key -> value, written a checkpoint at a time."""

    def __init__(self) -> None:
        self.stores: dict[int, dict[bytes, bytes]] = {p: {} for p in range(PARTITIONS)}

    def items(self) -> list[tuple[bytes, bytes]]:
        return [item for store in self.stores.values() for item in store.items()]

    def write(self, partition: int, values: list[tuple[bytes, bytes | None]]) -> None:
        store = self.stores[partition]
        for key, value in values:
            if value is None:
                store.pop(key, None)
            else:
                store[key] = value


def worker_side(table: Table) -> QueuePartitions:
    async def seek(tp: TP, offset: int) -> None:
        raise AssertionError("no gap in these tests")

    stage = QueueStage(Settings(), PARTITIONS, PARTITIONS)
    side = QueuePartitions(TOPIC, stage, table, OffsetGate(10.0), seek, lambda: range(PARTITIONS))  # type: ignore[arg-type]
    side.load(T0)
    return side


def entered(offset: int, queue: str, contact: str) -> list[Any]:
    ts = T0 + offset
    return [offset, 0, "entered", queue, "voice", contact, ts, ts, "normal", None, 0, 0]


def apply(side: QueuePartitions, partition: int, offset: int, facts: list[list[Any]]) -> None:
    record = SimpleNamespace(offset=offset, value=FactsMessage(0, None, facts).encode())
    assert asyncio.run(side.apply(TP(TOPIC, partition), [record], T0, 0.0))


def checkpoint(side: QueuePartitions, table: Table) -> None:
    for partition, values, _ in side.changes(sorted(side.applied)):
        table.write(partition, values)


def waiting(side: QueuePartitions) -> dict[str, int]:
    return {qc.queue: qc.waiting for qc in side.stage.board.tracked}


def test_a_queue_named_like_an_offset_key_keeps_its_contacts_and_the_offset() -> None:
    table = Table()
    side = worker_side(table)
    sales = queue_partition("sales", PARTITIONS)
    apply(side, 2, 0, [entered(0, CLASHING, "c1"), entered(1, CLASHING, "c2")])
    apply(side, sales, 0, [entered(2, "sales", "c3")])
    apply(side, 2, 1, [])  # a later facts message: partition 2 has applied offset 1
    checkpoint(side, table)
    assert table.stores[2][b"o:2"] == b"1"
    assert b"q:" + CLASHING.encode() in table.stores[2]

    again = worker_side(table)
    assert waiting(again) == {CLASHING: 2, "sales": 1}
    assert again.applied == {2: 1, sales: 0}


def billing_with_one_contact() -> tuple[Table, QueuePartitions, dict[bytes, bytes]]:
    """A Table, its queue stage with contact c1 waiting in billing, and billing's store."""
    table = Table()
    side = worker_side(table)
    apply(side, BILLING, 0, [entered(0, "billing", "c1")])
    checkpoint(side, table)
    return table, side, table.stores[BILLING]


def test_a_table_of_the_old_layout_loads_and_loses_its_bare_keys_when_written() -> None:
    table, _, store = billing_with_one_contact()
    store[b"billing"] = store.pop(b"q:billing")  # as a worker before the prefix wrote it

    again = worker_side(table)
    assert waiting(again) == {"billing": 1}
    apply(again, BILLING, 1, [entered(1, "billing", "c2")])
    checkpoint(again, table)
    assert b"billing" not in store
    assert orjson.loads(store[b"q:billing"])["applied"] == [[0, 1, 0]]
    assert waiting(worker_side(table)) == {"billing": 2}


def test_a_queue_under_both_keys_loads_its_prefixed_value() -> None:
    """A checkpoint torn between the new value and the bare key's deletion leaves both: the
    bare one is older."""
    table, side, store = billing_with_one_contact()
    older = store[b"q:billing"]
    apply(side, BILLING, 1, [entered(1, "billing", "c2")])
    checkpoint(side, table)
    store[b"billing"] = older

    assert waiting(worker_side(table)) == {"billing": 2}
