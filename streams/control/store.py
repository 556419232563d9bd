"""Redis, the control and serving plane: live targets, their audit trail, the cluster board.

Kafka and the Tables stay the source of truth; nothing here is needed to count right.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError, WatchError

from streams.config import redacted_url, target_value
from streams.control.overrides import Selector
from streams.core.settings import ConfigError, RedisSettings

log = logging.getLogger("floorwatch.redis")

AUDIT_MAX_ENTRIES = 10_000
TIMEOUT_SECONDS = 2.0  # connect and each command: a dead Redis must not stall a loop
UNREACHABLE = (RedisError, OSError, asyncio.TimeoutError)
Version = tuple[int, str]  # (version number, epoch) of the live targets


class RedisNotConfigured(RuntimeError):
    """Raised by commands that need Redis when `[redis] url` is not set; the message says
    where to set it."""

    def __init__(self) -> None:
        super().__init__(
            "Redis is not configured: set [redis] url in the configuration file or "
            "FLOORWATCH_REDIS__URL (e.g. redis://127.0.0.1:6379/0)"
        )


@dataclass(frozen=True)
class Change:
    """One target key changed by one command: the selector, the key, and its old and new
    live values (None: not set live). `RedisPlane.change` returns them."""

    selector: Selector
    key: str
    old: Any
    new: Any


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the live targets' audit trail, as `RedisPlane.history` reads it: when
    (ISO 8601, UTC), who, the selector, the key, and its old and new live values (None:
    not set live)."""

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


# Keys (prefix `[redis] key_prefix`, default `floorwatch`):
#
#     <prefix>:targets          hash   selector (JSON [queue, channel, priority]) -> JSON
#                                      object of the overridden target keys
#     <prefix>:targets:version  int    incremented by every change; workers poll it
#     <prefix>:targets:epoch    string random, set by the first change: a Redis that
#                                      restarted empty is told apart by it
#     <prefix>:targets:audit    stream one entry per key changed: at, who, selector, key,
#                                      old, new (JSON; "" when absent); the newest 10,000
#     <prefix>:board:<worker>   string the worker's own queues (board JSON), with a TTL
#     <prefix>:board:workers    set    workers that published; those whose entry expired
#                                      are removed by readers (expiry is Redis's own clock)
#     <prefix>:floor:<worker>   string the worker's floor part (agents, contacts at risk and
#                                      breached; JSON), written with its board, same TTL
class RedisPlane:
    """The Redis operations Floorwatch needs, on one asyncio client: live targets read,
    changed and audited, and each worker's board published and gathered into the cluster
    board. Connecting and each command time out after `TIMEOUT_SECONDS`; the errors in
    `UNREACHABLE` mean Redis is down."""

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
        try:
            # redis-py's annotations cover sync and async, bytes and str: keep it Any.
            self.client: Any = aioredis.Redis.from_url(
                settings.url,
                password=settings.password,
                socket_timeout=TIMEOUT_SECONDS,
                socket_connect_timeout=TIMEOUT_SECONDS,
                **tls,
            )
        except ValueError:  # what only redis-py checks (its query options); the settings
            # checked the shape. Its message may hold the password: name the URL without it.
            raise ConfigError(
                f"redis.url: {redacted_url(settings.url)} is not a valid Redis URL"
            ) from None
        prefix = settings.key_prefix
        self.targets_key = f"{prefix}:targets"
        self.version_key = f"{prefix}:targets:version"
        self.epoch_key = f"{prefix}:targets:epoch"
        self.audit_key = f"{prefix}:targets:audit"
        self.board_prefix = f"{prefix}:board:"
        self.workers_key = f"{prefix}:board:workers"
        self.floor_prefix = f"{prefix}:floor:"

    async def close(self) -> None:
        await self.client.aclose()

    # ------------------------------------------------------------------ live targets

    async def version(self) -> Version:
        """What changes whenever the live targets do (their version and epoch)."""
        version, epoch = await self.client.mget(self.version_key, self.epoch_key)
        return _version(version, epoch)

    async def live_targets(self) -> tuple[Version, dict[Selector, dict[str, Any]]]:
        """(version, every valid override), read together. An entry that does not decode
        or validate (written by hand, or by another release) is skipped and logged:
        it must not stop the others, nor the worker."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.mget(self.version_key, self.epoch_key)
            pipe.hgetall(self.targets_key)
            (version, epoch), fields = await pipe.execute()
        overrides: dict[Selector, dict[str, Any]] = {}
        for field, raw in fields.items():
            try:
                values = orjson.loads(raw)
                if not isinstance(values, dict):
                    raise ConfigError("expected a JSON object of target keys")
                overrides[Selector.decode(field)] = {
                    k: target_value(k, v) for k, v in values.items()
                }
            except (ConfigError, ValueError, TypeError) as error:
                log.warning(
                    "invalid live target skipped",
                    extra={"field": field.decode(errors="replace"), "reason": str(error)},
                )
        return _version(version, epoch), overrides

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
        # One optimistic transaction: WATCH the hash, then MULTI with the hash, the version
        # and the audit entries together, so concurrent supervisors never lose an update or
        # its audit entry; on a WatchError, read again and retry.
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
                    pipe.set(self.epoch_key, uuid.uuid4().hex, nx=True)
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

    async def publish_board(self, worker: str, payload: bytes, floor: bytes | None = None) -> None:
        """This worker's own queues (and its floor part: agents and contacts), expiring
        after `board_ttl_seconds` (Redis's clock, so hosts whose clocks disagree do not
        expire each other)."""
        ttl_ms = int(self.settings.board_ttl_seconds * 1000)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.board_prefix + worker, payload, px=ttl_ms)
            if floor is not None:
                pipe.set(self.floor_prefix + worker, floor, px=ttl_ms)
            pipe.sadd(self.workers_key, worker)
            await pipe.execute()

    async def boards(self) -> list[bytes]:
        """The board entries of every worker alive; workers whose entry expired are
        forgotten (a worker that comes back adds itself again)."""
        workers = sorted(await self.client.smembers(self.workers_key))
        if not workers:
            return []
        values = await self.client.mget([self.board_prefix + w.decode() for w in workers])
        expired = [w for w, v in zip(workers, values, strict=True) if v is None]
        if expired:
            await self.client.srem(self.workers_key, *expired)
        return [v for v in values if v is not None]

    async def floors(self) -> list[bytes]:
        """The floor parts of every worker alive (those of the workers `boards` lists)."""
        workers = sorted(await self.client.smembers(self.workers_key))
        if not workers:
            return []
        values = await self.client.mget([self.floor_prefix + w.decode() for w in workers])
        return [v for v in values if v is not None]


def _version(version: bytes | None, epoch: bytes | None) -> Version:
    try:
        number = int(version or 0)
    except ValueError:
        number = -1  # unreadable: differs from anything seen, so the targets are read
    return number, (epoch or b"").decode(errors="replace")
