"""Faust's Kafka consumer, handing whole fetches of the worker's input topics over.

Faust delivers a stream one message at a time, with a task hand-over and several awaits
per message: about 10,000 messages/s on a 2-core machine whatever the agent does
(benchmarks/worker_bench.py). The worker needs none of that per-message machinery. This
consumer gives every fetch of the input topics, as lists of records per partition, to
one coroutine; messages of other topics (Table changelogs during recovery) still go
through Faust's conductor. Faust keeps running group membership, partition assignment,
Table recovery, flow control during rebalances and the producer.

Records handed over are never acknowledged through Faust: the worker commits their
offsets itself (`Worker.commit`) once their effects are durable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from faust.transport.drivers.aiokafka import Consumer
from faust.types import TP

FetchHandler = Callable[[Mapping[TP, list[Any]], int], Awaitable[None]]


class BatchConsumer(Consumer):
    """`on_fetch(records, generation)` receives each fetch of `batch_topics`: aiokafka
    records (offset, key, value, ...) per partition, in offset order, and the consumer
    generation they were fetched in (a rebalance since makes them stale)."""

    def __init__(
        self, *args: Any, on_fetch: FetchHandler, batch_topics: Collection[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.on_fetch = on_fetch
        self.batch_topics = frozenset(batch_topics)

    async def _drain_messages(self, fetcher: Any) -> None:
        """Replaces Faust's per-message loop (run by its Fetcher service)."""
        consumer_stopped = self._stopped.is_set
        fetcher_stopped = fetcher._stopped.is_set
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                records, active = await self._wait_next_records(1.0)
                await asyncio.sleep(0)  # a fetch may return at once, again and again
                if not records or self.should_stop:
                    continue
                generation = self.app.consumer_generation_id
                batches: dict[TP, list[Any]] = {}
                for tp, batch in records.items():
                    if active is not None and tp not in active:
                        continue  # paused since the fetch (a rebalance)
                    if tp.topic in self.batch_topics:
                        batches[TP(tp.topic, tp.partition)] = batch
                    else:
                        await self._deliver_each(TP(tp.topic, tp.partition), batch, generation)
                if batches:
                    await self.on_fetch(batches, generation)
        except self.consumer_stopped_errors:
            if not self.transport.app.should_stop:
                raise
            self.log.info("Broker stopped consumer, shutting down...")
        except asyncio.CancelledError:
            if not self.transport.app.should_stop:
                raise

    async def _deliver_each(self, tp: TP, batch: list[Any], generation: int) -> None:
        """Faust's own path, one message at a time (changelogs being restored)."""
        read_offset = self._read_offset
        for record in batch:
            if not self.flow_active or self.app.consumer_generation_id != generation:
                return
            last = read_offset[tp]
            if last is not None and record.offset < last:
                continue
            await self.wait_first(
                self.callback(self._to_message(tp, record)), self.suspend_flow.wait()
            )
            read_offset[tp] = record.offset
