"""Test helpers: build events, drive an engine with the event-time clock, read its metrics."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from streams.config import settings_from_mapping
from streams.core.clock import EventTimeClock
from streams.core.engine import Engine
from streams.core.intake import Rejection
from streams.core.settings import Settings
from streams.read.exporter import exposition

# A fixed wall clock far after every test event, so no event is "from the future".
WALL = datetime(2030, 1, 1, tzinfo=UTC).timestamp()
T0 = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC).timestamp()


def iso(ts: float) -> str:
    """Epoch seconds -> RFC 3339 UTC with milliseconds."""
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


class Feed:
    """Numbers events, feeds them to a fresh engine, collects rejects."""

    def __init__(self, config: dict | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or settings_from_mapping(config or {})
        self.rejects: list[Rejection] = []
        self.engine = Engine(self.settings, EventTimeClock(), on_reject=self.rejects.append)
        self._ids = 0

    def event(self, type_: str, at: float, **fields: object) -> dict:
        self._ids += 1
        event = {"event_id": f"e{self._ids}", "type": type_, "occurred_at": iso(at), **fields}
        self.send(event)
        return event

    def send(self, event: dict | bytes) -> bool:
        raw = event if isinstance(event, bytes) else orjson.dumps(event)
        return self.engine.ingest(raw, WALL)

    def advance(self, now: float) -> None:
        """Move the event-time clock as if an event at `now` had been seen."""
        self.engine.clock.observe(now)
        self.engine.advance(self.engine.clock.now())

    def metrics(self) -> Metrics:
        return Metrics(exposition(self.engine).decode())


class Metrics:
    """Samples of an exposition by name and labels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: dict[tuple[str, frozenset], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def get(self, name: str, **labels: str) -> float | None:
        """The value of one sample, or None when it is absent."""
        return self.samples.get((name, frozenset(labels.items())))

    def names(self) -> set[str]:
        return {name for name, _ in self.samples}

    def matching(self, name: str, **labels: str) -> dict[frozenset, float]:
        """All samples of `name` whose labels include `labels`."""
        want = set(labels.items())
        return {k: v for (n, k), v in self.samples.items() if n == name and want <= k}


def feed_lines(lines: Iterable[dict]) -> Feed:
    feed = Feed()
    for line in lines:
        feed.send(line)
    return feed


PIPELINE_PREFIXES = (
    "contactcenter_events_processed_total",
    "contactcenter_events_rejected_total",
    "contactcenter_events_duplicate_total",
    "contactcenter_events_late_total",
    "contactcenter_events_ignored_total",
    "contactcenter_last_event_timestamp_seconds",
    "contactcenter_event_processing_lag_seconds",
)


def queue_lines(engine: Engine) -> list[str]:
    text = exposition(engine).decode()
    return [
        line
        for line in text.splitlines()
        if not line.startswith("#") and not line.startswith(PIPELINE_PREFIXES)
    ]


def floorwatch(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes = b"",
    timeout: float = 90,
) -> subprocess.CompletedProcess[str]:
    """`python -m streams ARGS` in a subprocess: its exit code, stdout and stderr as text.
    `env` is added to this process's environment, which loses FLOORWATCH_CONFIG (a test
    names its configuration itself)."""
    base = {k: v for k, v in os.environ.items() if k != "FLOORWATCH_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-m", "streams", *args],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=timeout,
        cwd=cwd,
        env={**base, **(env or {})},
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def assert_same(actual: dict[str, float], expected: dict[str, float]) -> None:
    """Equal series; values equal up to float summation order (sums over partitions, or
    over window blocks rebuilt after a restart): counts below 10^12 still equal exactly."""
    assert sorted(actual) == sorted(expected)
    for series, value in expected.items():
        assert actual[series] == pytest.approx(value, rel=1e-12, abs=1e-9), series
