"""Every use of Faust's (and mode's and aiokafka's) private API by the worker, in one place.

Checked against faust-streaming 0.15.3, mode-streaming 0.7.1 and aiokafka 0.14.0 (the
pinned versions); each use says why the public API does not suffice. Re-read all of
them when a pin moves. Nothing else in the worker names an underscored Faust attribute.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from aiokafka import AIOKafkaClient
from faust.transport.drivers.aiokafka import Consumer
from faust.types import TP
from faust.worker import Worker as FaustWorker

from streams.logs import flush_suppressed

log = logging.getLogger("floorwatch.worker")
EXIT_STOP_TIMEOUT = 1

FetchHandler = Callable[[Mapping[TP, list[Any]], int], Awaitable[None]]


async def commit_offsets(app: Any, offsets: Mapping[TP, int]) -> bool:
    """Commit exactly `offsets` (the next offset to read per partition).

    The public `Consumer.commit()` commits what was acknowledged message by message
    (`_acked`), and the worker acknowledges nothing: it takes whole fetches and knows
    which offsets its checkpoint made durable. `_commit_offsets` is the step below: it
    skips partitions no longer assigned, flushes the producer, then commits."""
    return bool(await app.consumer._commit_offsets(offsets))


def aiokafka_producer(app: Any) -> Any:
    """aiokafka's producer under Faust's: it takes whole record batches
    (`create_batch`/`send_batch`), which Faust's producer, one message per call,
    does not offer. `_ensure_producer` starts nothing: Faust started it already."""
    return app.producer._ensure_producer()


def rocksdb_partition(store: Any, partition: int) -> Any:
    """The RocksDB database behind one partition of a Faust RocksDB store, for a write
    batch (Faust's store writes one key per call, with no batch API)."""
    return store._db_for_partition(partition)


def pace_failed_metadata_updates() -> None:
    """After a failed metadata update, wait the client's `retry_backoff_ms` before the
    next one (as the Java client does), for every aiokafka client in the process; call
    once, before the first client starts.

    aiokafka 0.14.0 returns a failed update at once, and its clients ask for the next
    one as soon as it returns (aio-libs/aiokafka#1155 is one such loop): with the broker
    down a worker made some 5,000 failed updates a second, two error lines each (the
    134,000 lines of a 35 s outage in issue 18). No setting paces it; every update (the
    background task's and `fetch_all_metadata`'s) goes through `_metadata_update`."""
    update = AIOKafkaClient._metadata_update

    async def paced(client: Any, cluster_metadata: Any, topics: Any) -> bool:
        updated = bool(await update(client, cluster_metadata, topics))
        if not updated:
            await asyncio.sleep(client._retry_backoff)
        return updated

    AIOKafkaClient._metadata_update = paced


class BatchConsumer(Consumer):
    """Faust's aiokafka consumer, handing whole fetches over. `on_fetch(records,
    generation)` receives each fetch of `batch_topics`: aiokafka records per
    partition in offset order, and the consumer generation they were fetched in (a
    rebalance since makes them stale). Other topics (Table changelogs during recovery)
    still go through Faust, one message at a time."""

    # Faust delivers a stream one message at a time, with a task hand-over and several
    # awaits per message: about 10,000 messages/s on a 2-core machine whatever the agent
    # does (benchmarks/worker_bench.py). Faust has no public hook for a batch of records,
    # so this replaces `_drain_messages`, the loop its Fetcher service runs, and uses the
    # pieces that loop uses (`_wait_next_records`, `_read_offset`, `_to_message`).
    # Records handed over are never acknowledged through Faust: the worker commits
    # their offsets itself (`commit_offsets`) once their effects are durable.

    def __init__(
        self, *args: Any, on_fetch: FetchHandler, batch_topics: Collection[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.on_fetch = on_fetch
        self.batch_topics = frozenset(batch_topics)

    async def _drain_messages(self, fetcher: Any) -> None:
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


class StoppingWorker(FaustWorker):
    """Faust's Worker, with a deadline on stopping. A stop that waits for an unreachable
    broker (leaving the group, the last commit) takes a minute or more; past
    `stop_timeout_seconds` the process exits at once. Nothing is lost: only what was
    checkpointed counts as done, and the next start resumes from there."""

    # mode's Worker turns SIGINT/SIGTERM into a stop in `_schedule_shutdown` and offers
    # no hook at that moment (its `on_worker_shutdown` runs only once the stop is done,
    # which is what may never come); `_signal_stop_time` tells the first signal apart.

    def __init__(self, *args: Any, stop_timeout_seconds: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stop_timeout_seconds = stop_timeout_seconds

    def _schedule_shutdown(self, received: signal.Signals) -> None:
        if not self._signal_stop_time:
            deadline = threading.Timer(self.stop_timeout_seconds, self._stop_overdue)
            deadline.daemon = True  # a stop in time exits without waiting for it
            deadline.start()
        super()._schedule_shutdown(received)

    def _stop_overdue(self) -> None:
        log.error(
            "worker not stopped %g s after the signal (is the broker reachable?): exiting "
            "now; the next start resumes from the last checkpoint",
            self.stop_timeout_seconds,
        )
        flush_suppressed()  # and the counts of rate-limited records: os._exit skips
        logging.shutdown()  # both, and flushing the log handlers
        os._exit(EXIT_STOP_TIMEOUT)
