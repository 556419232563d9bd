"""Redis, the control and serving plane: live targets, their audit trail, the cluster board.

Kafka and the Tables stay the source of truth; nothing here is needed to count right.
Keys (prefix `[redis] key_prefix`, default `floorwatch`):

    <prefix>:targets          hash   selector (JSON [queue, channel, priority]) -> JSON
                                     object of the overridden target keys
    <prefix>:targets:version  int    incremented by every change; workers poll it
    <prefix>:targets:audit    stream one entry per key changed: at, who, selector, key,
                                     old, new (JSON; "" when absent); the newest 10,000
    <prefix>:board:<worker>   string the worker's own queues (board JSON), with a TTL
    <prefix>:board:workers    zset   worker -> when its board entry expires

A change is one optimistic transaction (WATCH the hash, then MULTI: hash, version and
audit together), so concurrent supervisors never lose an update or its audit entry.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import redis.asyncio as aioredis
from prometheus_client.core import GaugeMetricFamily
from redis.exceptions import RedisError, WatchError

from streams.config import RedisSettings, Settings
from streams.engine.targets import TargetBook
from streams.live_targets import Overrides, Selector, with_live

log = logging.getLogger("floorwatch.redis")

AUDIT_MAX_ENTRIES = 10_000
TIMEOUT_SECONDS = 2.0  # connect and each command: a dead Redis must not stall a loop
UNREACHABLE = (RedisError, OSError, asyncio.TimeoutError)


class RedisNotConfigured(RuntimeError):
    """Raised by commands that need Redis when `[redis] url` is not set."""

    def __init__(self) -> None:
        super().__init__(
            "Redis is not configured: set [redis] url in the configuration file or "
            "FLOORWATCH_REDIS__URL (e.g. redis://127.0.0.1:6379/0)"
        )


@dataclass(frozen=True)
class Change:
    """One target key changed by one command (None: not set live)."""

    selector: Selector
    key: str
    old: Any
    new: Any


@dataclass(frozen=True)
class AuditEntry:
    at: str
    who: str
    selector: Selector
    key: str
    old: Any
    new: Any


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _json_or_none(raw: bytes) -> Any:
    return orjson.loads(raw) if raw else None


class RedisPlane:
    """The Redis operations Floorwatch needs, on one asyncio client."""

    def __init__(self, settings: RedisSettings) -> None:
        if settings.url is None:
            raise RedisNotConfigured()
        self.settings = settings
        tls: dict[str, Any] = {}
        if settings.url.startswith("rediss://"):
            tls = {
                "ssl_ca_certs": settings.ssl_cafile,
                "ssl_certfile": settings.ssl_certfile,
                "ssl_keyfile": settings.ssl_keyfile,
            }
        # redis-py's annotations cover sync and async, bytes and str at once: keep it Any.
        self.client: Any = aioredis.Redis.from_url(
            settings.url,
            password=settings.password,
            socket_timeout=TIMEOUT_SECONDS,
            socket_connect_timeout=TIMEOUT_SECONDS,
            **tls,
        )
        prefix = settings.key_prefix
        self.targets_key = f"{prefix}:targets"
        self.version_key = f"{prefix}:targets:version"
        self.audit_key = f"{prefix}:targets:audit"
        self.board_prefix = f"{prefix}:board:"
        self.workers_key = f"{prefix}:board:workers"

    async def close(self) -> None:
        await self.client.aclose()

    async def ping(self) -> None:
        await self.client.ping()

    # ------------------------------------------------------------------ live targets

    async def version(self) -> int:
        return int(await self.client.get(self.version_key) or 0)

    async def live_targets(self) -> tuple[int, dict[Selector, dict[str, Any]]]:
        """(version, every override), read together."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(self.version_key)
            pipe.hgetall(self.targets_key)
            version, fields = await pipe.execute()
        overrides = {Selector.decode(f): orjson.loads(v) for f, v in fields.items()}
        return int(version or 0), overrides

    async def change(
        self,
        selector: Selector,
        set_values: Mapping[str, Any],
        unset_keys: Iterable[str],
        who: str,
    ) -> list[Change]:
        """Set and unset target keys of one selector; returns what actually changed
        (setting a key to its current value, or unsetting an absent one, is no change)."""
        field = selector.encode()
        unset = list(unset_keys)
        async with self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(self.targets_key)
                    raw = await pipe.hget(self.targets_key, field)
                    old: dict[str, Any] = orjson.loads(raw) if raw else {}
                    new = {k: v for k, v in old.items() if k not in unset}
                    new.update(set_values)
                    keys = sorted(set(old) | set(new))
                    changes = [
                        Change(selector, k, old.get(k), new.get(k))
                        for k in keys
                        if old.get(k) != new.get(k)
                    ]
                    if not changes:
                        await pipe.unwatch()
                        return []
                    pipe.multi()
                    if new:
                        pipe.hset(self.targets_key, field, orjson.dumps(new))
                    else:
                        pipe.hdel(self.targets_key, field)
                    pipe.incr(self.version_key)
                    at = datetime.now(UTC).isoformat(timespec="milliseconds")
                    for change in changes:
                        pipe.xadd(
                            self.audit_key,
                            {
                                "at": at,
                                "who": who,
                                "selector": field,
                                "key": change.key,
                                "old": b"" if change.old is None else orjson.dumps(change.old),
                                "new": b"" if change.new is None else orjson.dumps(change.new),
                            },
                            maxlen=AUDIT_MAX_ENTRIES,
                            approximate=True,
                        )
                    await pipe.execute()
                    return changes
                except WatchError:
                    continue  # someone changed targets meanwhile: read again

    async def history(self, limit: int) -> list[AuditEntry]:
        """The newest `limit` changes, newest first."""
        entries = await self.client.xrevrange(self.audit_key, count=limit)
        return [
            AuditEntry(
                at=fields[b"at"].decode(),
                who=fields[b"who"].decode(),
                selector=Selector.decode(fields[b"selector"]),
                key=fields[b"key"].decode(),
                old=_json_or_none(fields[b"old"]),
                new=_json_or_none(fields[b"new"]),
            )
            for _, fields in entries
        ]

    # ------------------------------------------------------------------ board

    async def publish_board(self, worker: str, payload: bytes) -> None:
        """This worker's own queues, expiring after `board_ttl_seconds`."""
        ttl = self.settings.board_ttl_seconds
        now = time.time()
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.board_prefix + worker, payload, px=int(ttl * 1000))
            pipe.zadd(self.workers_key, {worker: now + ttl})
            pipe.zremrangebyscore(self.workers_key, "-inf", now)
            await pipe.execute()

    async def boards(self) -> list[bytes]:
        """The board entries of every worker alive (entries not expired)."""
        workers = await self.client.zrangebyscore(self.workers_key, time.time(), "+inf")
        if not workers:
            return []
        values = await self.client.mget([self.board_prefix + w.decode() for w in workers])
        return [v for v in values if v is not None]


class RedisStatus:
    """Whether Redis answered the last time; logs each change once (not every retry) and
    exports it as `contactcenter_redis_up` (a Prometheus collector)."""

    def __init__(self) -> None:
        self.up: bool | None = None  # None: not tried yet

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "contactcenter_redis_up",
            "1 if Redis (live targets, cluster board) answered the last request, else 0.",
            value=1.0 if self.up else 0.0,
        )

    def ok(self) -> None:
        if self.up is False:
            log.info("redis reachable again")
        self.up = True

    def failed(self, error: BaseException) -> None:
        if self.up is not False:
            log.warning(
                "redis unreachable: going on with the last known targets",
                extra={"error": type(error).__name__, "detail": str(error)},
            )
        self.up = False


async def follow_targets(
    plane: RedisPlane, book: TargetBook, base: Settings, status: RedisStatus
) -> None:
    """Keep `book` on the file's targets plus the live ones, checking every
    `poll_seconds`; while Redis is down the last known targets stay in force."""
    seen = -1
    while True:
        try:
            if await plane.version() != seen:
                seen, overrides = await plane.live_targets()
                apply_live(book, base, overrides, seen)
            status.ok()
        except UNREACHABLE as error:
            status.failed(error)
        await asyncio.sleep(plane.settings.poll_seconds)


def apply_live(book: TargetBook, base: Settings, overrides: Overrides, version: int) -> None:
    book.replace(with_live(base, overrides))
    log.info(
        "live targets applied",
        extra={"version": version, "overrides": sum(len(v) for v in overrides.values())},
    )
