"""FreeSWITCH's event socket (inbound ESL) as a source: connect, `auth`, `event plain CUSTOM
callcenter::info`, then each event's body; reconnects with back-off. What FreeSWITCH sends
while no one is connected is lost (the socket keeps no history): docs/connectors.md."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

log = logging.getLogger("floorwatch.freeswitch")
PASSWORD_VARIABLE = "FLOORWATCH_FREESWITCH__PASSWORD"
DEFAULT_PASSWORD = "ClueCon"  # FreeSWITCH's own default (event_socket.conf.xml)
SUBSCRIBE = b"event plain CUSTOM callcenter::info\n\n"
MAX_FRAME = 1 << 20


class EslError(Exception):
    """The event socket refused the password or the subscription, or spoke something
    else than the event socket protocol: the message says what, in one line."""


def parse_address(source: str) -> tuple[str, int]:
    """`freeswitch://HOST:PORT` (port 8021 when left out) -> (host, port); ValueError."""
    parts = urlsplit(source)
    if parts.scheme != "freeswitch" or not parts.hostname:
        raise ValueError(f"{source}: give freeswitch://HOST:PORT")
    try:
        port = parts.port or 8021
    except ValueError:
        raise ValueError(f"{source}: the port must be 0-65535") from None
    return parts.hostname, port


async def _frame(reader: asyncio.StreamReader) -> tuple[dict[str, str], bytes]:
    """One frame: its headers, and its body when it has a Content-Length."""
    return await _rest(reader, await reader.readuntil(b"\n\n"))


async def _rest(reader: asyncio.StreamReader, head: bytes) -> tuple[dict[str, str], bytes]:
    """The headers of a frame whose head was read, and its body."""
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(": ")
        if sep:
            headers[name] = value
    length = int(headers.get("Content-Length", "0") or 0)
    if length > MAX_FRAME:
        raise EslError(f"a frame of {length} bytes (more than 1 MiB)")
    body = await reader.readexactly(length) if length else b""
    return headers, body


class EslSource:
    """Events of mod_callcenter from FreeSWITCH's event socket, as the bodies of their
    plain frames; b"" whenever nothing came for `idle_seconds` (timers may fall due). On
    any failure (refused, wrong password, closed) it waits `retry_seconds`, doubled each
    time up to `max_retry_seconds` (reset once connected), and connects again."""

    def __init__(
        self,
        host: str,
        port: int,
        password: str | None = None,
        *,
        idle_seconds: float = 0.5,
        retry_seconds: float = 0.5,
        max_retry_seconds: float = 30.0,
        connect_seconds: float = 5.0,
        note: Callable[[str], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.password = (
            password
            if password is not None
            else os.environ.get(PASSWORD_VARIABLE, DEFAULT_PASSWORD)
        )
        self.idle_seconds = idle_seconds
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.connect_seconds = connect_seconds
        self.note = note or (lambda message: log.warning(message))
        self.connections = 0

    async def lines(self) -> AsyncIterator[bytes]:
        delay = self.retry_seconds
        where = f"{self.host}:{self.port}"
        while True:
            writer = None
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), self.connect_seconds
                )
                await self._handshake(reader, writer)
                self.connections += 1
                self.note(f"FreeSWITCH event socket {where}: connected, subscribed")
                delay = self.retry_seconds
                async for body in self._events(reader):
                    yield body
                self.note(f"FreeSWITCH event socket {where}: closed by FreeSWITCH")
            except (OSError, EOFError, EslError, asyncio.IncompleteReadError, TimeoutError) as exc:
                reason = str(exc) or type(exc).__name__
                self.note(f"FreeSWITCH event socket {where}: {reason}; again in {delay:g} s")
            finally:
                if writer is not None:
                    writer.close()
            waited = 0.0
            while waited < delay:  # still caught up meanwhile: timers may fall due
                step = min(self.idle_seconds, delay - waited)
                await asyncio.sleep(step)
                waited += step
                yield b""
            delay = min(delay * 2, self.max_retry_seconds)

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers, _ = await asyncio.wait_for(_frame(reader), self.connect_seconds)
        if headers.get("Content-Type") != "auth/request":
            raise EslError(f"not an event socket (got {headers.get('Content-Type')!r})")
        writer.write(f"auth {self.password}\n\n".encode())
        await writer.drain()
        headers, _ = await asyncio.wait_for(_frame(reader), self.connect_seconds)
        if not headers.get("Reply-Text", "").startswith("+OK"):
            raise EslError(
                f"password refused ({headers.get('Reply-Text', 'no reply')}); set "
                f"{PASSWORD_VARIABLE}"
            )
        writer.write(SUBSCRIBE)
        await writer.drain()
        headers, _ = await asyncio.wait_for(_frame(reader), self.connect_seconds)
        if not headers.get("Reply-Text", "").startswith("+OK"):
            raise EslError(f"subscription refused ({headers.get('Reply-Text', 'no reply')})")

    async def _events(self, reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
        while True:
            try:  # only the wait for a frame times out: a cancelled read keeps its buffer
                head = await asyncio.wait_for(reader.readuntil(b"\n\n"), self.idle_seconds)
            except TimeoutError:
                yield b""
                continue
            except asyncio.IncompleteReadError:  # the socket was closed
                return
            headers, body = await _rest(reader, head)
            kind = headers.get("Content-Type", "")
            if kind == "text/event-plain":
                yield body
            elif kind == "text/disconnect-notice":
                return
