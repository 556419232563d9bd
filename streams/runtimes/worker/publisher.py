"""The board in Redis: this worker's queues published, every worker's read back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import orjson

from streams.control.status import RedisStatus
from streams.control.store import UNREACHABLE, RedisPlane
from streams.read import agents, contacts
from streams.read.board import board_snapshot, merge_boards
from streams.read.view import ReadView
from streams.web.server import BoardUnavailable

log = logging.getLogger("floorwatch.worker")


def floor_part(view: ReadView) -> dict[str, Any]:
    """What this worker knows of the floor, for the lists of the whole cluster: its
    agents part and its contacts at risk and breached (the first `PART_ROWS` of each)."""
    return {"agents": agents.agents_part(view), "contacts": contacts.contacts_part(view)}


class BoardPublisher:
    """Publishes this worker's queues (and its `floor_part`) to Redis every
    `board_seconds`, expiring after `board_ttl_seconds` (the plane's setting), under
    `worker_id`. Skipped while the worker is not ready (its partitions move): the entries
    then expire, as a dead worker's do."""

    def __init__(
        self,
        plane: RedisPlane,
        view: ReadView,
        worker_id: str,
        redis_status: RedisStatus,
        ready: Callable[[], bool],
        clock: Callable[[], float],
    ) -> None:
        self.plane = plane
        self.view = view
        self.worker_id = worker_id
        self.redis_status = redis_status
        self.ready = ready
        self.clock = clock  # wall clock, for `published_at`

    async def publish(self) -> None:
        """This worker's part once (when ready); Redis errors are counted, not raised."""
        if not self.ready():
            return
        board = board_snapshot(self.view)
        board["worker"] = self.worker_id
        board["published_at"] = self.clock()
        floor = floor_part(self.view)
        floor["worker"] = self.worker_id
        floor["published_at"] = board["published_at"]
        try:
            await self.plane.publish_board(self.worker_id, orjson.dumps(board), orjson.dumps(floor))
            self.redis_status.ok()
        except UNREACHABLE as error:
            self.redis_status.failed(error)
        except Exception:  # never stop publishing for good
            log.exception("board not published")

    async def publish_forever(self, stopping: Callable[[], bool], every_seconds: float) -> None:
        while not stopping():
            await self.publish()
            await asyncio.sleep(every_seconds)


class ClusterBoard:
    """The board of the whole cluster for /api/v1/board: every worker's queues, as
    published to Redis, merged; `BoardUnavailable` while Redis does not answer."""

    def __init__(self, plane: RedisPlane, redis_status: RedisStatus, windows: list[str]) -> None:
        self.plane = plane
        self.redis_status = redis_status
        self.windows = windows

    async def __call__(self) -> dict[str, Any]:
        try:
            parts = await self.plane.boards()
        except UNREACHABLE as error:
            self.redis_status.failed(error)
            raise BoardUnavailable(
                f"Redis is unreachable ({type(error).__name__}), so the board of the whole "
                "cluster is unavailable; it comes back by itself when Redis answers. This "
                "worker's own queues are still on /metrics."
            ) from None
        self.redis_status.ok()
        return merge_boards(parts, self.windows)


class ClusterFloor:
    """The agents and contacts of the whole cluster for /api/v1/agents, /api/v1/contacts
    and the moves: every worker's floor part, as published to Redis, merged (`agents`:
    one agents part; `contacts`: the contacts parts, each queue x channel from the newest
    part); `BoardUnavailable` while Redis does not answer."""

    def __init__(self, plane: RedisPlane, redis_status: RedisStatus) -> None:
        self.plane = plane
        self.redis_status = redis_status

    async def __call__(self) -> dict[str, Any]:
        try:
            raw = await self.plane.floors()
        except UNREACHABLE as error:
            self.redis_status.failed(error)
            raise BoardUnavailable(
                f"Redis is unreachable ({type(error).__name__}), so the agents and contacts "
                "of the whole cluster are unavailable; they come back by themselves when Redis "
                "answers. This worker's own queues are still on /metrics."
            ) from None
        self.redis_status.ok()
        parts = []
        for value in raw:
            try:
                part = orjson.loads(value)
                parts.append((float(part["published_at"]), part["agents"], part["contacts"]))
            except (ValueError, TypeError, KeyError):  # not a floor part: left out
                log.warning("floor part skipped: not a floor part")
        return {
            "agents": agents.merge_parts([a for _, a, _ in parts]),
            "contacts": contacts.newest_parts([(at, c) for at, _, c in parts]),
        }
