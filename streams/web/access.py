"""Access to the wallboard and the API: `[server] token` as a bearer token, or a cookie a
TV gets once from `/?token=`; /metrics and the probes open or not (`open_metrics`); the
token kept out of every log line; the check that refuses a public address without one.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # aiohttp is imported when a server builds the middleware, not by the CLI
    from aiohttp import web

COOKIE = "floorwatch_session"
PROBES = frozenset(("/metrics", "/healthz", "/readyz"))
_BEARER = "Bearer "
_TOKEN_IN_TEXT = re.compile(r"((?:^|[?&\s])token=)[^&\s\"']*")

Handler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]


class InsecureAddress(ValueError):
    """Serving on an address other machines can reach without `[server] token`: the
    message says how to set one, or that `--insecure` accepts the risk."""


def is_loopback(host: str) -> bool:
    """Whether `host` only ever listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any address


def check_exposure(host: str, token: str | None, insecure: bool) -> None:
    """Refuse to serve the board and the API on a non-loopback address without a token,
    unless `insecure` (the `--insecure` flag of `floorwatch run` and `worker`)."""
    if token or insecure or is_loopback(host):
        return
    raise InsecureAddress(
        f"--host {host}: serving the wallboard and the API beyond this machine needs a "
        "token: set [server] token or token_file (or FLOORWATCH_SERVER__TOKEN), or pass "
        "--insecure to serve them to anyone who can reach the port"
    )


def session_value(token: str) -> str:
    """The cookie's value: derived from the token, never the token itself."""
    return hmac.new(token.encode(), b"floorwatch wallboard session", hashlib.sha256).hexdigest()


def redact(text: str) -> str:
    """`token=...` in a URL or a log line, with the value taken out."""
    return _TOKEN_IN_TEXT.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Takes `token=...` out of log records (the access log writes request lines with
    their query): their message, arguments and string extras."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "token=" in record.msg:
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        for key, value in list(record.__dict__.items()):
            if isinstance(value, str) and "token=" in value and key not in ("msg",):
                record.__dict__[key] = redact(value)
        return True


_REDACTING = RedactTokens()


def redact_logs() -> None:
    """Install the filter on the loggers that write request lines (once)."""
    for name in ("aiohttp.access", "aiohttp.server", "aiohttp.web"):
        logger = logging.getLogger(name)
        if _REDACTING not in logger.filters:
            logger.addFilter(_REDACTING)


def access_middleware(
    token: str, open_probes: bool
) -> Callable[..., Awaitable[web.StreamResponse]]:
    """The middleware of an app with a token: every route needs it (bearer token or the
    session cookie) except /metrics, /healthz and /readyz when `open_probes`. A GET of
    the wallboard with `?token=` sets the cookie and redirects to the same page without
    it, so the token leaves the address bar and the history."""
    from aiohttp import web

    session = session_value(token)
    expected = token.encode()

    def authorised(request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith(_BEARER):
            return hmac.compare_digest(header[len(_BEARER) :].strip().encode(), expected)
        cookie = request.cookies.get(COOKIE)
        return cookie is not None and hmac.compare_digest(cookie.encode(), session.encode())

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if open_probes and request.path in PROBES:
            return await handler(request)
        given = request.query.get("token")
        if given is not None and request.method == "GET" and request.path == "/":
            if not hmac.compare_digest(given.encode(), expected):
                return _refused(request)
            query = [(k, v) for k, v in request.query.items() if k != "token"]
            response = web.HTTPFound(str(request.rel_url.with_query(query)))
            response.set_cookie(
                COOKIE,
                session,
                httponly=True,
                samesite="Strict",
                secure=request.secure,
                path="/",
                max_age=400 * 86400,
            )
            raise response
        if not authorised(request):
            return _refused(request)
        return await handler(request)

    return middleware


def _refused(request: web.Request) -> web.Response:
    from aiohttp import web

    headers = {"WWW-Authenticate": 'Bearer realm="floorwatch"'}
    if request.path.startswith("/api/"):
        return web.json_response(
            {"error": "a token is needed: Authorization: Bearer <[server] token>"},
            status=401,
            headers=headers,
        )
    text = (
        "Floorwatch needs its token. A wallboard: open /?token=<token> once on this screen "
        "(it is then kept in a cookie). A script: send Authorization: Bearer <token>.\n"
    )
    return web.Response(status=401, text=text, headers=headers)
