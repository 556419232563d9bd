"""Lines of an HTTP(S) response as they arrive (`floorwatch produce URL`): a streamed
export, a `curl -N`-style feed or a plain file served over HTTP. b"" whenever nothing new
came for `idle_seconds`, so the reader can send what it holds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp

MAX_LINE_BYTES = 1 << 20


class UrlError(Exception):
    """The URL could not be read: the connection refused or broken off, or an answer
    other than 200; the message names the URL and what happened."""


async def http_lines(url: str, idle_seconds: float = 0.5) -> AsyncIterator[bytes]:
    """Each line of the response body (without its end of line), until its end."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=None)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout, read_bufsize=1 << 16) as session,
            session.get(url, max_line_size=MAX_LINE_BYTES) as response,
        ):
            if response.status != 200:
                raise UrlError(f"{url}: HTTP {response.status} {response.reason or ''}".strip())
            content = response.content
            pending: asyncio.Future[bytes] | None = None
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(content.readline())
                done, _ = await asyncio.wait({pending}, timeout=idle_seconds)
                if not done:  # no new line yet: the same read goes on waiting
                    yield b""
                    continue
                line, pending = pending.result(), None
                if not line:
                    return
                yield line.rstrip(b"\r\n")
    except aiohttp.ClientError as exc:
        raise UrlError(f"{url}: {exc}") from None
