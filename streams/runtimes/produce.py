"""`floorwatch produce`: events (or a vendor's records through a connector) to the Kafka
topic with the contract's keys, in whole batches per partition; a line with no usable key
to the dead-letter topic with its reason. Reads a file (`--follow`: as it grows) or stdin."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.producer.message_accumulator import BatchBuilder

from streams import kafka_client
from streams.core.contract import AGENT_TYPE, MAX_MESSAGE_BYTES
from streams.core.intake import Rejection
from streams.core.settings import KafkaSettings
from streams.runtimes.follow import FileFollower
from streams.runtimes.records import RecordMapper

MAX_BATCH_BYTES = 1 << 18  # per partition and request; the broker takes up to 1 MB
CHUNK_LINES = 2048
IN_FLIGHT = 256  # batches sent and not yet acknowledged before we wait for them
Line = tuple[int, bytes]  # (line number, the line without its newline)


@dataclass
class ProduceStats:
    """What `produce` did: the lines read, the events sent to the topic and the dead
    letters sent to the dead-letter topic, per reason."""

    lines: int = 0
    sent: int = 0
    dead: Counter[str] = field(default_factory=Counter)


def contract_key(line: bytes) -> bytes | Rejection:
    """The Kafka key of one contract event: `agent_id` for agent events, else `contact_id`;
    or the rejection that sends the line to the dead-letter topic."""
    if len(line) > MAX_MESSAGE_BYTES:
        return Rejection("too_large", f"message of {len(line)} bytes exceeds 65536")
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        return Rejection("invalid_json", "not valid UTF-8 JSON")
    if type(data) is not dict:
        return Rejection("not_an_object", "a message must be one JSON object")
    name = "agent_id" if data.get("type") == AGENT_TYPE else "contact_id"
    key = data.get(name)
    if type(key) is str and 0 < len(key) <= 128:
        return key.encode()
    if key is None:
        return Rejection("missing_field", f"{name}: required (it is the Kafka key)")
    if type(key) is not str:
        return Rejection("wrong_type", f"{name}: expected a string (it is the Kafka key)")
    return Rejection("out_of_range", f"{name}: length must be 1-128 (it is the Kafka key)")


def producer(kafka: KafkaSettings) -> AIOKafkaProducer:
    """Idempotent, every in-sync replica acknowledges, batches of up to 256 KiB."""
    return AIOKafkaProducer(
        **kafka_client.client_options(kafka),
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=MAX_BATCH_BYTES,
    )


class Producer:
    """Events out in whole batches per partition, each partition in order (the accumulator
    keeps a partition's batches in order; idempotence keeps retries in order); dead letters
    with their reason in headers. `flush` sends the batches still open."""

    def __init__(self, client: AIOKafkaProducer, kafka: KafkaSettings, source: str) -> None:
        self.client = client
        self.topic = kafka.topic
        self.dlq_topic = kafka.dlq_topic
        self.source = source.encode()
        self.partitions = 0
        self.open: dict[int, BatchBuilder] = {}
        self.pending: list[asyncio.Future[Any]] = []
        self.stats = ProduceStats()

    async def start(self) -> None:
        self.partitions = len(await self.client.partitions_for(self.topic))

    async def event(self, key: bytes, value: bytes) -> None:
        part = kafka_client.key_partition(key.decode(), self.partitions)
        batch = self.open.get(part)
        if batch is None:
            batch = self.open[part] = self.client.create_batch()
        if batch.append(key=key, value=value, timestamp=None) is None:  # full
            await self._send(batch, part)
            batch = self.open[part] = self.client.create_batch()
            batch.append(key=key, value=value, timestamp=None)
        self.stats.sent += 1

    async def dead_letter(self, rejection: Rejection, raw: bytes, line: int) -> None:
        headers = [
            ("reason", rejection.reason.encode()),
            ("detail", rejection.detail.encode()),
            ("source", b"floorwatch produce"),
            ("source_file", self.source),
            ("source_line", str(line).encode()),
        ]
        self.pending.append(
            await self.client.send(self.dlq_topic, value=raw, key=None, headers=headers)
        )
        self.stats.dead[rejection.reason] += 1

    async def _send(self, batch: BatchBuilder, part: int) -> None:
        self.pending.append(await self.client.send_batch(batch, self.topic, partition=part))
        if len(self.pending) >= IN_FLIGHT:
            await self.settle()

    async def settle(self) -> None:
        """Wait until everything sent so far is acknowledged (raises a Kafka error)."""
        pending, self.pending = self.pending, []
        await asyncio.gather(*pending)

    async def flush(self) -> None:
        for part, batch in list(self.open.items()):
            if batch.record_count():
                await self._send(batch, part)
        self.open.clear()
        await self.settle()


async def produce(
    kafka: KafkaSettings,
    chunks: AsyncIterator[list[Line] | None],
    source: str,
    mapper: RecordMapper | None = None,
    on_progress: Callable[[ProduceStats], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> ProduceStats:
    """Send every line of `chunks` (None: the source caught up, send what is open)."""
    await kafka_client.ensure_topic(kafka, kafka.topic, kafka.partitions)
    await kafka_client.ensure_topic(kafka, kafka.dlq_topic, kafka.partitions)
    client = producer(kafka)
    await client.start()
    out = Producer(client, kafka, source)
    try:
        await out.start()
        number = 0
        async for chunk in chunks:
            if chunk is None:
                if mapper is not None:
                    await _mapped(out, mapper.advance(clock()), b"", number)
                await out.flush()
                continue
            for number, line in chunk:
                if mapper is None:
                    key = contract_key(line)
                    if isinstance(key, Rejection):
                        await out.dead_letter(key, line, number)
                    else:
                        await out.event(key, line)
                else:
                    await _mapped(out, mapper.feed(line), line, number)
            out.stats.lines += len(chunk)
            if on_progress is not None:
                on_progress(out.stats)
        if mapper is not None:
            await _mapped(out, mapper.flush(), b"", number)
        await out.flush()
    finally:
        with contextlib.suppress(Exception):  # already failing: report the first error
            await client.stop()
    return out.stats


async def _mapped(
    out: Producer, items: list[dict[str, Any] | Rejection], line: bytes, number: int
) -> None:
    for item in items:
        if isinstance(item, Rejection):
            await out.dead_letter(item, line, number)
            continue
        key = item.get("agent_id") if item["type"] == AGENT_TYPE else item.get("contact_id")
        await out.event(str(key).encode(), orjson.dumps(item))


# ---------------------------------------------------------------- reading, off the loop


class _Chunks:
    """Numbered records gathered into chunks of CHUNK_LINES; blank records are skipped."""

    def __init__(self) -> None:
        self.held: list[Line] = []

    def add(self, number: int, record: bytes) -> list[Line] | None:
        """Hold one record; a full chunk when it is one."""
        record = record.rstrip(b"\r\n")
        if record.strip():
            self.held.append((number, record))
            if len(self.held) >= CHUNK_LINES:
                return self.take()
        return None

    def take(self) -> list[Line] | None:
        """What is held (None when nothing is)."""
        held, self.held = self.held, []
        return held or None


def _stream_chunks(stream: BinaryIO) -> Iterator[list[Line] | None]:
    chunks = _Chunks()
    for number, line in enumerate(stream, start=1):
        if (full := chunks.add(number, line)) is not None:
            yield full
    if (rest := chunks.take()) is not None:
        yield rest


def _follower_chunks(follower: FileFollower, stop: threading.Event) -> Iterator[list[Line] | None]:
    chunks = _Chunks()
    number = 0
    for item in follower.lines(stop):
        if item is None:  # caught up
            if (held := chunks.take()) is not None:
                yield held
            yield None
            continue
        number += 1
        if (full := chunks.add(number, item[0])) is not None:
            yield full
    if (rest := chunks.take()) is not None:
        yield rest


async def record_chunks(
    records: AsyncIterator[bytes], stopping: asyncio.Event
) -> AsyncIterator[list[Line] | None]:
    """Chunks of numbered records from a live source (a URL, the event socket) that yields
    b"" when idle: what it holds then goes out (None: caught up), else every CHUNK_LINES.
    Stops once `stopping` is set."""
    chunks = _Chunks()
    number = 0
    source = aiter(records)
    stopped = asyncio.ensure_future(stopping.wait())
    try:
        while True:
            item = asyncio.ensure_future(anext(source))
            await asyncio.wait({item, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not item.done():
                item.cancel()
                break
            try:
                record = item.result()
            except StopAsyncIteration:
                break
            if not record:
                if (held := chunks.take()) is not None:
                    yield held
                yield None
                continue
            number += 1
            if (full := chunks.add(number, record)) is not None:
                yield full
        if (rest := chunks.take()) is not None:
            yield rest
    finally:
        stopped.cancel()


async def chunks_of(
    stream: BinaryIO | None,
    follower: FileFollower | None,
    stop: threading.Event,
    stopping: asyncio.Event,
) -> AsyncIterator[list[Line] | None]:
    """Chunks of numbered lines read on a helper thread (the loop stays free for Kafka);
    from a stream, or a file through `follower` (None between chunks: caught up). Once
    `stopping` is set, the chunks already read are handed on and no more are waited for."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=8)
    done = object()

    def pump() -> None:
        try:
            if follower is not None:
                items = _follower_chunks(follower, stop)
            else:
                assert stream is not None
                items = _stream_chunks(stream)
            for item in items:
                if stop.is_set():
                    break
                asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()
            asyncio.run_coroutine_threadsafe(queue.put(done), loop).result()
        except BaseException as exc:  # handed to the loop, which raises it
            with contextlib.suppress(RuntimeError):
                asyncio.run_coroutine_threadsafe(queue.put(exc), loop).result()

    threading.Thread(target=pump, name="floorwatch-produce-source", daemon=True).start()
    stopped = asyncio.ensure_future(stopping.wait())
    try:
        while True:
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({getter, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                while not queue.empty():  # what was read already
                    item = queue.get_nowait()
                    if isinstance(item, list):
                        yield item
                return
            item = getter.result()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stopped.cancel()
        stop.set()
