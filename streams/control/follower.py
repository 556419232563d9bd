"""Live targets followed: the file's targets plus Redis's overrides, in one TargetBook."""

from __future__ import annotations

import asyncio
import logging

from streams.control.overrides import with_live
from streams.control.status import RedisStatus
from streams.control.store import UNREACHABLE, RedisPlane, Version
from streams.core.settings import Settings
from streams.core.targets import TargetBook

log = logging.getLogger("floorwatch.redis")


class TargetFollower:
    """Keeps a TargetBook on the file's targets plus the live ones: `run` polls the live
    targets' version every `poll_seconds` and, when it changed, applies the overrides.
    While Redis is down or unreadable the last known targets stay."""

    def __init__(
        self, plane: RedisPlane, book: TargetBook, base: Settings, status: RedisStatus
    ) -> None:
        self.plane = plane
        self.book = book
        self.base = base
        self.status = status
        self.seen: Version | None = None

    async def check(self) -> None:
        """Apply the live targets if they changed since the last check. Never raises: while
        Redis is down or holds something unreadable the last known targets stay."""
        try:
            if await self.plane.version() != self.seen:
                version, overrides = await self.plane.live_targets()
                known = {c.name for c in self.base.calendars}
                for selector, values in overrides.items():
                    name = values.get("calendar")
                    if name is not None and name not in known:
                        log.warning(
                            "a live target names a calendar this configuration lacks; "
                            "wall-clock time applies there",
                            extra={"selector": selector.describe(), "calendar": name},
                        )
                self.book.replace(with_live(self.base, overrides))
                self.seen = version
                self.status.targets_version = version[0]
                log.info(
                    "live targets applied",
                    extra={
                        "version": version[0],
                        "overrides": sum(len(v) for v in overrides.values()),
                    },
                )
            self.status.ok()
        except UNREACHABLE as error:
            self.status.failed(error)
        except Exception:  # a bug or unreadable data must not stop the worker or the loop
            log.exception("live targets could not be read; the last known ones stay")

    async def run(self) -> None:
        """`check` every `poll_seconds`, for ever."""
        while True:
            await self.check()
            await asyncio.sleep(self.plane.settings.poll_seconds)
