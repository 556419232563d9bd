"""Start `floorwatch run` in a subprocess and talk to it over HTTP (for the live tests)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
URL = re.compile(rb"wallboard (http://[0-9.]+:\d+/)")


def wait_for(
    condition: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05
) -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class LiveFloorwatch:
    def __init__(self, *args: str, config: Path | None = None) -> None:
        command = [sys.executable, "-m", "streams", "run", "--port", "0", *args]
        if config is not None:
            command += ["--config", str(config)]
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stderr is not None
        seen = b""
        while not (match := URL.search(seen)):
            line = self.process.stderr.readline()
            if not line:
                raise AssertionError(f"floorwatch run exited before listening: {seen!r}")
            seen += line
        self.startup_seconds = time.monotonic() - self.started
        self.base = match.group(1).decode()

    def send(self, *events: dict) -> None:
        assert self.process.stdin is not None
        for event in events:
            self.process.stdin.write(json.dumps(event).encode() + b"\n")
        self.process.stdin.flush()

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.base + path.lstrip("/"), timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def board(self) -> dict[str, Any]:
        status, body = self.get("/api/v1/board")
        assert status == 200
        return json.loads(body)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        finally:
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
