"""`floorwatch run`: the engine in one process, fed by the simulator, a file or stdin.

One asyncio loop runs the feed, a clock tick (SLA breaches appear on time with no
traffic) and the web server, so the engine is never touched by two threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import stat
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import BinaryIO

from aiohttp import web

from streams.control.status import RedisStatus
from streams.core.clock import Clock
from streams.core.engine import Engine
from streams.core.intake import Rejection
from streams.core.settings import ReceiveSettings, Settings
from streams.runtimes.follow import FileFollower, Position
from streams.runtimes.receive import EngineSink, Hook, make_receiver, serve_receiver
from streams.runtimes.records import RecordMapper, apply_mapped
from streams.runtimes.state_dir import StateDir
from streams.simulator import Pacer, Simulation
from streams.web.server import make_app

log = logging.getLogger("floorwatch.run")
TICK_SECONDS = 0.2
BATCH = 500
PIPE_LINE_LIMIT = 1024 * 1024


@dataclass
class FeedState:
    """What /readyz reports in `floorwatch run`: whether the engine runs and has been fed
    (started, events received, the source finished or failed). `not_ready_reason` says
    why it is not ready, or None when it is."""

    started: bool = False
    events: int = 0
    finished: bool = False
    error: str | None = None

    def not_ready_reason(self) -> str | None:
        if self.error is not None:
            return f"source failed: {self.error}"
        if not self.started:
            return "engine not started"
        if self.events == 0 and not self.finished:
            return "no event received yet"
        return None


async def lines_of(stream: BinaryIO, idle_seconds: float | None = None) -> AsyncIterator[bytes]:
    """Lines of a file, pipe or terminal, without blocking the event loop.

    Pipes and terminals are read with asyncio (nothing blocks at shutdown); regular files
    on a helper thread, in batches. With `idle_seconds`, a pipe that stays silent that
    long yields b"" (caught up), again after each such pause.
    """
    mode = os.fstat(stream.fileno()).st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(stream.fileno()):
        async for line in _pipe_lines(stream, idle_seconds):
            yield line
    else:
        async for line in _file_lines(stream):
            yield line


async def _pipe_lines(stream: BinaryIO, idle_seconds: float | None) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=PIPE_LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stream)
    while True:
        try:
            if idle_seconds is None:
                line = await reader.readuntil(b"\n")
            else:
                try:  # a cancelled read keeps what it had buffered
                    line = await asyncio.wait_for(reader.readuntil(b"\n"), idle_seconds)
                except TimeoutError:
                    yield b""
                    continue
        except asyncio.IncompleteReadError as end:
            if end.partial:
                yield end.partial
            return
        except asyncio.LimitOverrunError as overrun:
            # Far larger than any valid event: pass on the first part (rejected as too
            # large) and drop the rest of the line.
            head = await reader.readexactly(overrun.consumed)
            yield head
            await _skip_line(reader)
            continue
        yield line


async def _skip_line(reader: asyncio.StreamReader) -> None:
    while True:
        try:
            await reader.readuntil(b"\n")
            return
        except asyncio.LimitOverrunError as overrun:
            await reader.readexactly(overrun.consumed)
        except asyncio.IncompleteReadError:
            return


async def _file_lines(stream: BinaryIO) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[list[bytes] | None] = asyncio.Queue(maxsize=64)

    def pump() -> None:
        batch: list[bytes] = []
        for line in stream:
            batch.append(line)
            if len(batch) >= BATCH:
                asyncio.run_coroutine_threadsafe(queue.put(batch), loop).result()
                batch = []
        asyncio.run_coroutine_threadsafe(queue.put(batch), loop).result()
        asyncio.run_coroutine_threadsafe(queue.put(None), loop).result()

    threading.Thread(target=pump, name="floorwatch-source", daemon=True).start()
    while (batch := await queue.get()) is not None:
        for line in batch:
            yield line


class FollowedSource:
    """A file source that knows its position: the lines of a `FileFollower` (read on a
    helper thread, in batches), `position` always the one after the line last handed on
    (so after the line being applied), b"" whenever the follower has caught up."""

    def __init__(self, follower: FileFollower) -> None:
        self.follower = follower
        self.position: Position | None = follower.start
        self.stop = threading.Event()

    async def lines(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[list[tuple[bytes, Position] | None] | None] = asyncio.Queue(8)
        failed: list[BaseException] = []

        def put(item: list[tuple[bytes, Position] | None] | None) -> None:
            asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

        def pump() -> None:
            batch: list[tuple[bytes, Position] | None] = []
            try:
                for item in self.follower.lines(self.stop):
                    batch.append(item)
                    if item is None or len(batch) >= BATCH:
                        put(batch)
                        batch = []
                put(batch)
            except BaseException as exc:  # raised on the loop
                failed.append(exc)
            finally:
                with contextlib.suppress(RuntimeError):  # the loop is closing
                    put(None)

        threading.Thread(target=pump, name="floorwatch-follow", daemon=True).start()
        try:
            while (batch := await queue.get()) is not None:
                for item in batch:
                    if item is None:
                        yield b""
                    else:
                        self.position = item[1]
                        yield item[0]
            if failed:
                raise failed[0]
        finally:
            self.stop.set()


SAVE_SHARE = 20  # a save may take at most 1/20 of the time between saves


class StateKeeper:
    """Saves the engine, the connector and the source position to a `StateDir` at most
    every `every_seconds` (and when asked), between two events: never a half-applied one.
    A save that takes long (a large centre) spaces the next ones out, so saving never takes
    more than 1/SAVE_SHARE of the time: a restart then re-reads more, and loses nothing."""

    def __init__(
        self,
        state_dir: StateDir,
        source: FollowedSource,
        every_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state_dir = state_dir
        self.source = source
        self.every_seconds = every_seconds
        self.clock = clock
        self.due = clock() + every_seconds
        self.spaced = False  # said once in the log

    def maybe_save(self, engine: Engine, mapper: RecordMapper | None) -> None:
        if self.clock() >= self.due:
            self.save(engine, mapper)

    def save(self, engine: Engine, mapper: RecordMapper | None) -> None:
        started = self.clock()
        try:
            self.state_dir.save(engine, mapper, self.source.position)
        except OSError as exc:  # a full disk must not stop the floor's board
            log.error("state not saved", extra={"error": str(exc)})
        took = self.clock() - started
        every = max(self.every_seconds, SAVE_SHARE * took)
        if every > self.every_seconds and not self.spaced:
            self.spaced = True
            log.warning(
                "state saves spaced out",
                extra={"save_seconds": round(took, 2), "every_seconds": round(every, 1)},
            )
        self.due = self.clock() + every


async def no_lines() -> AsyncIterator[bytes]:
    """A source that never yields (the webhooks feed the engine): waits until cancelled."""
    await asyncio.Event().wait()
    yield b""


async def simulated_lines(
    simulation: Simulation, pacer: Pacer, noise: float
) -> AsyncIterator[bytes]:
    """The simulator's messages, each when it is due at the pacer's speed."""
    for emission in simulation.messages(noise=noise):
        wait = pacer.delay(emission.at)
        if wait > 0:
            await asyncio.sleep(wait)
        yield emission.payload


class EmbeddedRunner:
    """`floorwatch run`: one engine and its event source on one asyncio loop. `serve` runs
    the web server, the live targets when Redis is configured, the clock tick and the feed
    until `stop` is set. With a `mapper` (a connector) the source's lines are a vendor's
    records; an empty item from the source means it has caught up (timers may fall due)."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        source: AsyncIterator[bytes],
        host: str,
        port: int,
        mapper: RecordMapper | None = None,
        keeper: StateKeeper | None = None,
    ) -> None:
        self.engine = Engine(settings, clock, on_reject=self._log_reject)
        self.line = 0  # the number of the source line in hand
        self.source_kind = "live"  # "file": a finished file, whose data's time the board shows
        self.keeper = keeper
        self.clock = clock
        self.source = source
        self.host = host
        self.port = port
        self.mapper = mapper
        self.state = FeedState()
        self.ignored_logged: dict[str, int] = {}
        self.hooks: list[Hook] = []  # webhooks served as the source (run --source http://)
        self.receive = ReceiveSettings()
        self.hook_urls: list[str] = []  # where they listen, once serving

    async def _feed(self) -> None:
        engine, clock, state, mapper = self.engine, self.clock, self.state, self.mapper
        keeper = self.keeper
        count = 0
        try:
            async for raw in self.source:
                if raw:
                    self.line += 1
                if mapper is not None:
                    now = clock.now()
                    if not raw:  # caught up: what falls due by the wall clock
                        state.events += apply_mapped(engine, mapper.advance(now), b"", now)
                    elif raw.strip():
                        record = raw.rstrip(b"\r\n")
                        state.events += apply_mapped(engine, mapper.feed(record), record, now)
                elif raw.strip() and engine.ingest(raw.rstrip(b"\n"), clock.now()):
                    state.events += 1
                count += 1
                if keeper is not None and (not raw or count % 64 == 0):
                    keeper.maybe_save(engine, mapper)
                if count % BATCH == 0:
                    self._log_ignored()
                    await asyncio.sleep(0)  # let the web server and the tick run
            if mapper is not None:  # the end of the input: nothing more will come
                state.events += apply_mapped(engine, mapper.flush(), b"", clock.now())
            if keeper is not None:
                keeper.save(engine, mapper)
        except Exception as exc:  # a broken source is reported, the server stays up
            state.error = type(exc).__name__
            log.exception("event source failed")
        self._log_ignored()
        state.finished = True
        log.info(
            "event source finished",
            extra={
                "lines": self.line,
                "accepted": state.events,
                "rejected": sum(engine.pipeline.rejected.values()),
            },
        )

    def _received(self, events: int) -> None:
        self.state.events += events

    def _log_reject(self, record: Rejection) -> None:
        """Rejected input goes to the log with its source line, never the payload; the
        log's rate limit keeps a flood of bad lines to one record and a summary a minute."""
        log.warning(
            "event rejected",
            extra={"line": self.line, "reason": record.reason, "detail": record.detail},
        )

    def _log_ignored(self) -> None:
        """Records a connector ignores by design: a log line when a reason's count grows."""
        if self.mapper is None:
            return
        for reason, count in self.mapper.ignored.items():
            if count != self.ignored_logged.get(reason, 0):
                self.ignored_logged[reason] = count
                log.info(
                    "records ignored by design",
                    extra={"source_format": self.mapper.name, "reason": reason, "count": count},
                )

    async def _tick(self) -> None:
        while True:
            self.engine.advance(self.clock.now())
            await asyncio.sleep(TICK_SECONDS)

    async def serve(self, stop: asyncio.Event, on_listening: Callable[[str], None]) -> None:
        settings = self.engine.settings
        plane = None
        if settings.redis.url:  # the Redis client is imported only when configured
            from streams.control.store import RedisPlane

            plane = RedisPlane(settings.redis)
        status = RedisStatus()
        app = make_app(
            self.engine,
            self.state.not_ready_reason,
            *([status] if plane else []),
            source_kind=self.source_kind,
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self.state.started = True
        host, port = runner.addresses[0][:2]
        receiver = None
        if self.hooks:  # the webhooks feed the engine directly
            sink = EngineSink(self.engine, self.clock.now, self._received)
            hooks_app = make_receiver(self.hooks, sink, self.receive)
            receiver, url = await serve_receiver(
                hooks_app, self.receive, self.receive.host, self.receive.port
            )
            self.hook_urls = [url + hook.path for hook in self.hooks]
        on_listening(f"http://{host}:{port}/")
        tasks = []
        if plane is not None:  # live targets (before the first event); the board is ours
            from streams.control.follower import TargetFollower

            follower = TargetFollower(plane, self.engine.targets, settings, status)
            await follower.check()
            tasks.append(asyncio.create_task(follower.run()))
        tasks += [asyncio.create_task(self._tick()), asyncio.create_task(self._feed())]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.keeper is not None:  # between two events: the feed has stopped
                self.keeper.save(self.engine, self.mapper)
            await runner.cleanup()
            if receiver is not None:
                await receiver.cleanup()
            if plane is not None:
                await plane.close()


def run_until_signalled(runner: EmbeddedRunner, on_listening: Callable[[str], None]) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await runner.serve(stop, on_listening)

    asyncio.run(main())
