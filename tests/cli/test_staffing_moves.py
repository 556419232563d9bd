"""`floorwatch staffing moves` prints what a running instance's moves API serves."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.support.helpers import iso
from tests.support.live import LiveFloorwatch

pytestmark = pytest.mark.slow


def test_staffing_moves_reads_the_running_instance() -> None:
    live = LiveFloorwatch("--source", "-")
    try:
        now = time.time()
        live.send(
            {
                "event_id": "a1",
                "type": "agent.state",
                "occurred_at": iso(now - 60),
                "agent_id": "ann",
                "state": "available",
                "queues": ["sales", "billing"],
            }
        )
        status, body = live.get("/api/v1/staffing/moves")
        assert status == 200
        url = live.base + "api/v1/board"
        done = subprocess.run(
            [*(sys.executable, "-m", "streams", "staffing", "moves", "--json"), "--url", url],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        served = json.loads(body)
        printed = json.loads(done.stdout)
        assert printed.keys() == served.keys()
        assert printed["moves"] == served["moves"]
    finally:
        live.stop()
