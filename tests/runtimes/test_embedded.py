"""`floorwatch run --source -` in a subprocess on a free port, fed through its stdin."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.helpers import Metrics, iso
from tests.support.live import LiveFloorwatch, wait_for

pytestmark = pytest.mark.slow

CONFIG = """
[[targets]]
queue = "hotline"
answer_within_seconds = 3
at_risk_fraction = 0.5
"""


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveFloorwatch]:
    config = tmp_path / "floorwatch.toml"
    config.write_text(CONFIG)
    server = LiveFloorwatch("--source", "-", config=config)
    yield server
    server.stop()


def queued(contact: str, at: float, queue: str = "hotline") -> dict:
    return {
        "event_id": f"q-{contact}",
        "type": "contact.queued",
        "occurred_at": iso(at),
        "contact_id": contact,
        "queue": queue,
        "channel": "voice",
    }


def breached(live: LiveFloorwatch) -> float | None:
    metrics = Metrics(live.get("/metrics")[1].decode())
    return metrics.get(
        "contactcenter_sla_breached_contacts",
        queue="hotline",
        channel="voice",
        priority="normal",
        sla="answer",
    )


def test_starts_fast_and_is_ready_once_fed(live: LiveFloorwatch) -> None:
    assert live.startup_seconds < 3
    assert live.get("/healthz") == (200, b"ok\n")
    status, body = live.get("/readyz")
    assert (status, body) == (503, b"not ready: no event received yet\n")
    live.send(queued("c1", time.time()))
    wait_for(lambda: live.get("/readyz")[0] == 200, 5, "readyz to turn 200")


def test_breach_appears_within_a_second_of_its_due_time_without_new_events(
    live: LiveFloorwatch,
) -> None:
    entered = time.time()
    live.send(queued("c1", entered))
    due = entered + 3  # answer target 3 s for the hotline queue
    # At risk from due - 0.5 x 3 s; breached once the clock passes due. No more events.
    wait_for(lambda: breached(live) == 0, 5, "the contact to be tracked")
    seen = wait_for(lambda: time.time() if breached(live) == 1 else None, 8, "the breach")
    assert due < seen <= due + 1.0 + 0.2  # 1 s contract + one polling round trip
    metrics = Metrics(live.get("/metrics")[1].decode())
    assert (
        metrics.get(
            "contactcenter_sla_breaches_total",
            queue="hotline",
            channel="voice",
            priority="normal",
            sla="answer",
        )
        == 1
    )


def test_metrics_pass_promtool_and_the_board_agrees(live: LiveFloorwatch, promtool: str) -> None:
    now = time.time()
    live.send(
        queued("c1", now - 10, "billing"),
        queued("c2", now - 4, "billing"),
        {
            "event_id": "a1",
            "type": "contact.answered",
            "occurred_at": iso(now - 1),
            "contact_id": "c2",
        },
        {
            "event_id": "s1",
            "type": "agent.state",
            "occurred_at": iso(now),
            "agent_id": "x",
            "state": "available",
            "queues": ["billing"],
        },
    )
    wait_for(lambda: live.board()["queues"], 5, "the billing tile")
    text = live.get("/metrics")[1].decode()
    check = subprocess.run(
        [promtool, "check", "metrics"], input=text, text=True, capture_output=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    metrics = Metrics(text)
    tile = live.board()["queues"][0]
    labels = {"queue": "billing", "channel": "voice"}
    assert (tile["queue"], tile["channel"]) == ("billing", "voice")
    assert tile["live"]["waiting"] == metrics.get("contactcenter_contacts_waiting", **labels) == 1
    assert tile["agents"]["available"] == 1
    today = tile["windows"]["today"]
    assert (
        today["answered_contacts"]
        == metrics.get("contactcenter_answered_contacts", window="today", **labels)
        == 1
    )
    assert today["wait_seconds_average"] == pytest.approx(3.0)  # answered 4 s - 1 s ago
    assert (
        today["service_level_ratio"]
        == metrics.get("contactcenter_service_level_ratio", window="today", **labels)
        == 1.0
    )
    assert tile["targets"]["service_level"] == 0.8


def test_sigterm_exits_zero(live: LiveFloorwatch) -> None:
    assert live.stop() == 0


def test_busy_port_is_a_clear_error(live: LiveFloorwatch) -> None:
    port = live.base.rsplit(":", 1)[1].rstrip("/")
    done = subprocess.run(
        [*live.process.args[:3], "run", "--source", "-", "--port", port],  # type: ignore[index]
        input=b"",
        capture_output=True,
        check=False,
        timeout=20,
    )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}".encode() in done.stderr


def test_slow_state_saves_are_spaced_out_to_a_twentieth_of_the_time() -> None:
    """A save of 3 s (a large centre) puts the next one 60 s after it, not 5 s; quick
    saves keep the configured 5 s. The clock is the test's."""
    from types import SimpleNamespace
    from typing import Any

    from streams.runtimes.embedded import StateKeeper

    now = [0.0]
    saves: list[float] = []
    took = [3.0]

    class SlowDir:
        def save(self, engine: Any, mapper: Any, position: Any) -> None:
            saves.append(now[0])
            now[0] += took[0]

    source: Any = SimpleNamespace(position=None)
    keeper = StateKeeper(SlowDir(), source, 5.0, clock=lambda: now[0])  # type: ignore[arg-type]
    for t in (4.9, 5.0, 67.9):
        now[0] = t
        keeper.maybe_save(None, None)  # type: ignore[arg-type]
    assert saves == [5.0]  # the save ended at 8.0: the next is due at 8 + 20 x 3 = 68
    took[0] = 0.1
    now[0] = 68.0
    keeper.maybe_save(None, None)  # type: ignore[arg-type]
    assert saves == [5.0, 68.0]
    now[0] = 73.0  # ended at 68.1; due at 68.1 + max(5, 2) = 73.1
    keeper.maybe_save(None, None)  # type: ignore[arg-type]
    now[0] = 73.1
    keeper.maybe_save(None, None)  # type: ignore[arg-type]
    assert saves == [5.0, 68.0, 73.1]
