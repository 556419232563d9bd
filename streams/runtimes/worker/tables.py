"""Writing a Faust Table in bulk: the local store, then the changelog, a batch at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from faust.stores.rocksdb import Store as RocksStore
from faust.types import TP
from rocksdict import WriteBatch

from streams.runtimes.worker.faust_internals import aiokafka_producer, rocksdb_partition

Pair = tuple[bytes, bytes | None]  # key, value (None deletes)


class BulkTable:
    """A Faust Table (bytes keys and values), written a checkpoint at a time: one RocksDB
    write batch and whole Kafka record batches per source partition."""

    # `table[key] = value` writes one key to RocksDB and queues one changelog message
    # through Faust's producer (a future, metadata checks and a buffer hand-over per
    # message). A checkpoint writes thousands of contacts for one source partition, all
    # to the same store partition and the same changelog partition, so it writes them as
    # one write batch and as record batches (raw key and value bytes, as Faust writes
    # them for a bytes Table). Once the last record batch is delivered, the store's
    # persisted offset is moved, as Faust does, so a restart on the same store reads only
    # the changelog beyond it.

    def __init__(self, table: Any, app: Any) -> None:
        self.table = table
        self.app = app

    def items(self) -> Iterable[tuple[bytes, bytes]]:
        return self.table.items()

    async def write(self, source: TP, values: Iterable[Pair]) -> asyncio.Future[int]:
        """Store each value in the store partition of `source` and send it to the
        changelog partition of `source`. Returns a future of the changelog offset of the
        last value, set once everything is delivered. There is always a last value: the
        partition's applied offset."""
        pairs = list(values)
        self._store(source.partition, pairs)
        return await self._send(source.partition, pairs)

    def _store(self, partition: int, pairs: list[Pair]) -> None:
        store = self.table.data
        if isinstance(store, RocksStore):
            batch = WriteBatch(raw_mode=True)  # Faust opens its databases in raw mode
            for key, value in pairs:
                if value is None:
                    batch.delete(key)
                else:
                    batch.put(key, value)
            rocksdb_partition(store, partition).write(batch)
        else:  # Faust's memory store ("memory", for experiments) is a dict
            for key, value in pairs:
                if value is None:
                    store.data.pop(key, None)
                else:
                    store.data[key] = value

    async def _send(self, partition: int, pairs: list[Pair]) -> asyncio.Future[int]:
        """Record batches of at most the producer's batch size; a value larger than that
        travels alone (the changelog topics accept up to their max.message.bytes)."""
        producer = aiokafka_producer(self.app)
        topic = self.table.changelog_topic.get_topic_name()
        delivered = []
        batch = producer.create_batch()
        count = 0
        for key, value in pairs:
            if batch.append(key=key, value=value, timestamp=None) is None:  # full
                delivered.append(await producer.send_batch(batch, topic, partition=partition))
                batch = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)  # a batch's first fits
                count = 0
            count += 1
        delivered.append(await producer.send_batch(batch, topic, partition=partition))
        return asyncio.ensure_future(_last_offset(delivered, count))

    def delivered(self, source: TP, offset: int) -> None:
        """The changelog holds everything up to `offset`: a restart on this store resumes
        its recovery there."""
        topic = self.table.changelog_topic.get_topic_name()
        self.table.data.set_persisted_offset(TP(topic, source.partition), offset)


async def _last_offset(delivered: list[asyncio.Future[Any]], last_count: int) -> int:
    """The offset of the last record, once every batch is delivered (each future gives
    its batch's base offset)."""
    metadata = (await asyncio.gather(*delivered))[-1]
    return int(metadata.offset) + last_count - 1
