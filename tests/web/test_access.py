"""`[server] token`: every route of the app needs it (a bearer token, or the cookie a TV
gets once from `/?token=`) except the probes when `open_metrics`; the token never reaches
a log line; a public address without a token is refused unless `--insecure`."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import subprocess
import sys
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from streams.web.access import (
    COOKIE,
    InsecureAddress,
    check_exposure,
    redact,
    session_value,
)
from streams.web.server import make_app
from tests.support.helpers import T0, Feed
from tests.support.live import URL

TOKEN = "s3cret-Token_value"
PROBES = {"/metrics", "/healthz", "/readyz"}


def feed_with(**server: Any) -> Feed:
    feed = Feed()
    settings = feed.settings
    feed.settings = dataclasses.replace(
        settings, server=dataclasses.replace(settings.server, **server)
    )
    feed.engine.settings = feed.settings
    feed.event("contact.queued", T0, contact_id="c1", queue="q1", channel="voice")
    return feed


def paths(app: web.Application) -> set[str]:
    """A GET path for every route the app has (so a route added later is covered)."""
    out = set()
    for resource in app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter", "")
        out.add(path.replace("{name}", "app.js"))
    return out


def run(feed: Feed, scenario) -> Any:
    async def go() -> Any:
        app = make_app(feed.engine, lambda: None)
        async with TestClient(TestServer(app)) as client:
            return await scenario(client, app)

    return asyncio.run(go())


async def status(client: TestClient, path: str, **kwargs: Any) -> int:
    response = await client.get(path, allow_redirects=False, **kwargs)
    code = response.status
    response.close()
    return code


@pytest.mark.parametrize("open_metrics", [True, False])
def test_every_route_needs_the_token(open_metrics: bool) -> None:
    async def scenario(client: TestClient, app: web.Application) -> None:
        routes = paths(app)
        assert {"/", "/api/v1/board", "/api/v1/agents", "/api/v1/contacts"} < routes
        for path in sorted(routes):
            open_ = open_metrics and path in PROBES
            assert await status(client, path) == (200 if open_ else 401), path
            wrong = {"Authorization": "Bearer not-it"}
            assert await status(client, path, headers=wrong) == (200 if open_ else 401), path
            right = {"Authorization": f"Bearer {TOKEN}"}
            assert await status(client, path, headers=right) == 200, path
        response = await client.get("/api/v1/board")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="floorwatch"'
        assert "token is needed" in (await response.json())["error"]

    run(feed_with(token=TOKEN, open_metrics=open_metrics), scenario)


def test_no_token_no_check() -> None:
    async def scenario(client: TestClient, app: web.Application) -> None:
        for path in sorted(paths(app)):
            assert await status(client, path) == 200, path

    run(feed_with(), scenario)


def test_a_tv_gets_a_cookie_once_and_the_token_leaves_the_address() -> None:
    async def scenario(client: TestClient, app: web.Application) -> None:
        assert await status(client, "/?team=t1&token=wrong") == 401
        response = await client.get(f"/?team=t1&token={TOKEN}", allow_redirects=False)
        assert response.status == 302
        assert response.headers["Location"] == "/?team=t1"
        cookie = response.cookies[COOKIE]
        assert cookie.value == session_value(TOKEN) != TOKEN
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        # the cookie now opens the page, the stream and the API
        client.session.cookie_jar.update_cookies({COOKIE: cookie.value})
        for path in ("/?team=t1", "/api/v1/board?team=t1", "/static/style.css"):
            assert await status(client, path) == 200, path
        stream = await client.get("/api/v1/board/stream")
        assert stream.status == 200
        stream.close()
        client.session.cookie_jar.clear()
        client.session.cookie_jar.update_cookies({COOKIE: "forged"})
        assert await status(client, "/api/v1/board") == 401
        # ?token= opens the page only: the API wants the header or the cookie
        client.session.cookie_jar.clear()
        assert await status(client, f"/api/v1/board?token={TOKEN}") == 401

    run(feed_with(token=TOKEN), scenario)


def test_the_token_never_reaches_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    """With the access log on (as a worker has it) and a TV opening /?token=."""
    caplog.set_level(logging.DEBUG)

    async def scenario(client: TestClient, app: web.Application) -> None:
        await status(client, f"/?token={TOKEN}")
        await status(client, "/?token=a-wrong-guess")
        await status(client, "/api/v1/board", headers={"Authorization": f"Bearer {TOKEN}"})

    run(feed_with(token=TOKEN), scenario)
    access = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert len(access) >= 3  # the access log did write the requests
    assert any("token=[redacted]" in r.getMessage() for r in access)
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert all(TOKEN not in str(v) for v in record.__dict__.values())
    assert TOKEN not in caplog.text


def test_redact() -> None:
    assert redact('"GET /?team=a&token=abc HTTP/1.1" 302') == (
        '"GET /?team=a&token=[redacted] HTTP/1.1" 302'
    )
    assert redact("GET /?token=abc&team=a") == "GET /?token=[redacted]&team=a"
    assert redact("mytoken=abc") == "mytoken=abc"  # not a token parameter


@pytest.mark.parametrize(
    ("host", "token", "insecure", "refused"),
    [
        ("127.0.0.1", None, False, False),
        ("127.0.1.5", None, False, False),
        ("::1", None, False, False),
        ("[::1]", None, False, False),
        ("localhost", None, False, False),
        ("0.0.0.0", None, False, True),
        ("::", None, False, True),
        ("10.1.2.3", None, False, True),
        ("board.example", None, False, True),
        ("0.0.0.0", TOKEN, False, False),
        ("0.0.0.0", None, True, False),
    ],
)
def test_a_public_address_needs_a_token(
    host: str, token: str | None, insecure: bool, refused: bool
) -> None:
    if refused:
        with pytest.raises(InsecureAddress, match=r"--host .*token.*--insecure"):
            check_exposure(host, token, insecure)
    else:
        check_exposure(host, token, insecure)


@pytest.mark.slow
def test_floorwatch_run_with_a_token_logs_no_token(tmp_path) -> None:
    """`floorwatch run` from the environment: the API needs the token, nothing it writes
    holds it (debug logging)."""
    import os
    import urllib.error
    import urllib.request

    env = {**os.environ, "FLOORWATCH_SERVER__TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streams",
            "run",
            "--port",
            "0",
            "--source",
            "-",
            "--log-level",
            "debug",
        ],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert process.stderr is not None
        seen = b""
        while not (match := URL.search(seen)):
            line = process.stderr.readline()
            assert line, seen
            seen += line
        base = match.group(1).decode()

        class Stay(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any) -> None:
                return None  # the redirect is the answer looked at

        opener = urllib.request.build_opener(Stay)

        def get(path: str, **headers: str) -> int:
            request = urllib.request.Request(base + path.lstrip("/"), headers=headers)
            try:
                with opener.open(request, timeout=5) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        assert get("/api/v1/board") == 401
        assert get("/api/v1/board", Authorization=f"Bearer {TOKEN}") == 200
        assert get("/metrics") == 200  # open_metrics defaults to true
        assert get(f"/?token={TOKEN}") == 302  # to /, with the cookie
        board = subprocess.run(
            [
                sys.executable,
                "-m",
                "streams",
                "board",
                "--once",
                "--agents",
                "--url",
                base + "api/v1/board",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert board.returncode == 0, board.stderr
        assert board.stdout.startswith("agents 0")
        time.sleep(0.2)  # not a synchronisation: lets the last log lines be written
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert TOKEN.encode() not in seen + out + err
