"""`floorwatch board --window` is checked against the windows the board serves."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TILE = {
    "queue": "billing",
    "channel": "voice",
    "targets": {"service_level": 0.8},
    "live": {"waiting": 2, "longest_wait_seconds": 42.4},
    "sla": {"breached": 1, "at_risk": 0},
    "agents": {"available": 3},
    "windows": {"5m": {"service_level_ratio": 0.5}, "1h": {"service_level_ratio": 0.75}},
    "status": {"overall": "red"},
}
BOARD = {"now": "2026-11-22T10:00:00.000Z", "windows": ["5m", "1h"], "queues": [TILE]}


class BoardHandler(BaseHTTPRequestHandler):
    """Serves BOARD as the board API does (any path), and logs nothing: a stand-in for
    a worker or `floorwatch run`."""

    def do_GET(self) -> None:
        body = json.dumps(BOARD).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def board_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BoardHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/board"
    finally:
        server.shutdown()
        server.server_close()


def board(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams", "board", "--once", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def test_a_window_the_board_serves_is_shown(board_url: str, tmp_path: Path) -> None:
    done = board("--url", board_url, "--window", "1h", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "SL window 1h" in lines[0]
    assert lines[3].split()[:5] == ["billing", "voice", "2", "0:42", "75%"]


def test_a_window_the_board_does_not_serve_names_the_ones_it_does(
    board_url: str, tmp_path: Path
) -> None:
    """15m is one of the built-in windows, but this board serves 5m and 1h only."""
    done = board("--url", board_url, "--window", "15m", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "floorwatch board: --window 15m: not a window of this board; choose one of 5m, 1h\n"
    )


def test_a_window_that_is_no_window_at_all_names_the_configured_ones(tmp_path: Path) -> None:
    (tmp_path / "floorwatch.toml").write_text("windows = ['10m', 'today']\n")
    done = board("--window", "foo", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "floorwatch board: --window foo: not a window; the configured ones are 10m, today\n"
    )
