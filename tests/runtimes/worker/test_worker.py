"""`whole`: a fetch or a tick runs to its end when Faust cancels the task that called it.

Faust cancels its fetcher's task whenever it stops the fetcher, and goes on running. A
real worker lost the queue values of a checkpoint that way: the cancellation came while
the Table writes were on their way, after the stage had handed over its changes, and a
restart then found queues without most of their contacts.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from streams.runtimes.worker.worker import whole


async def steps(log: list[str], release: asyncio.Event, fail: bool = False) -> None:
    log.append("applied")
    await release.wait()  # e.g. the changelog batches on their way
    if fail:
        raise RuntimeError("producer stopped")
    log.append("written")


async def cancelled_halfway(log: list[str], fail: bool = False) -> asyncio.Event:
    release = asyncio.Event()
    caller = asyncio.ensure_future(whole(steps(log, release, fail)))
    while not log:
        await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller  # the caller sees its cancellation at once ...
    assert log == ["applied"]
    return release


def test_work_cancelled_halfway_still_ends() -> None:
    async def run() -> list[str]:
        log: list[str] = []
        release = await cancelled_halfway(log)
        release.set()
        for _ in range(5):
            await asyncio.sleep(0)
        return log

    assert asyncio.run(run()) == ["applied", "written"]  # ... and the work still ends


def test_work_failing_after_its_caller_was_cancelled_is_reported_in_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def run() -> None:
        release = await cancelled_halfway([], fail=True)
        release.set()
        for _ in range(5):
            await asyncio.sleep(0)

    with caplog.at_level(logging.WARNING, logger="floorwatch.worker"):
        asyncio.run(run())
    assert [r.getMessage() for r in caplog.records] == [
        "a fetch or tick that Faust cancelled failed while finishing: "
        "RuntimeError('producer stopped')"
    ]


def test_work_not_cancelled_returns_and_raises_as_usual() -> None:
    async def run() -> list[str]:
        log: list[str] = []
        release = asyncio.Event()
        release.set()
        await whole(steps(log, release))
        with pytest.raises(RuntimeError):
            await whole(steps([], release, fail=True))
        return log

    assert asyncio.run(run()) == ["applied", "written"]
