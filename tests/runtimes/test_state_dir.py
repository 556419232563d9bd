"""`floorwatch run --state-dir`: the engine's state, the connector's and the source
position saved together; a restart, also after kill -9 mid-file, ends with the numbers of
an uninterrupted run."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from streams.config import settings_from_mapping
from streams.core.clock import EventTimeClock
from streams.core.engine import Engine
from streams.runtimes import state_dir as state_module
from streams.runtimes.follow import Position
from streams.runtimes.state_dir import StateDir, StateDirError
from tests.support.daygen import DayPlan, generate_day
from tests.support.helpers import T0, WALL, assert_same, iso, queue_lines
from tests.support.live import LiveFloorwatch, wait_for

# Read at different instants, these follow the wall clock (compared elsewhere).
CLOCK_DEPENDENT = (
    "contactcenter_longest_wait_seconds",
    "contactcenter_occupancy_ratio",
    "contactcenter_event_processing_lag_seconds",
    "contactcenter_staffing_",  # arrival rates: offers over the seconds elapsed
)


def engine() -> Engine:
    return Engine(settings_from_mapping({}), EventTimeClock())


def day() -> list[bytes]:
    events, _ = generate_day(DayPlan(seed=8, contacts=600, day="2026-11-20"))
    return [orjson.dumps(e) for e in events]


def test_saved_and_loaded_engine_continues_exactly(tmp_path: Path) -> None:
    """Half a day, saved; a fresh engine loads it and applies the rest: the same
    exposition as one engine that saw everything, pipeline counters included; events of
    the first half sent again are duplicates, as they would have been."""
    raws = day()
    cut = len(raws) // 2
    whole = engine()
    for raw in raws + raws[:50]:
        whole.ingest(raw, WALL)
    first = engine()
    saved = StateDir(str(tmp_path / "state"), "/var/log/x", "json")
    saved.prepare()
    saved.attach(first)
    for raw in raws[:cut]:
        first.ingest(raw, WALL)
    saved.save(first, None, Position("/var/log/x", 7, 1234))
    resumed = engine()
    loaded = StateDir(str(tmp_path / "state"), "/var/log/x", "json")
    loaded.attach(resumed)
    assert loaded.load(resumed, None) == Position("/var/log/x", 7, 1234)
    for raw in raws[cut:] + raws[:50]:
        resumed.ingest(raw, WALL)
    assert queue_lines(resumed) == queue_lines(whole)
    assert resumed.pipeline.duplicates == whole.pipeline.duplicates == 50
    assert resumed.pipeline.processed == whole.pipeline.processed


def test_id_files_are_merged_and_still_restore(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(state_module, "MERGE_FILES", 3)
    raws = day()[:400]
    first = engine()
    saved = StateDir(str(tmp_path), "/f", "json")
    saved.attach(first)
    for i in range(0, 400, 40):  # a save every 40 events: more files than 3, merged
        for raw in raws[i : i + 40]:
            first.ingest(raw, WALL)
        saved.save(first, None, None)
        assert len(list(tmp_path.glob("ids-*.json"))) <= 3
    resumed = engine()
    loaded = StateDir(str(tmp_path), "/f", "json")
    loaded.attach(resumed)
    loaded.load(resumed, None)
    for raw in raws:
        resumed.ingest(raw, WALL)
    assert resumed.pipeline.duplicates == 400  # every id remembered


def test_a_state_dir_of_another_source_or_a_damaged_one_is_refused(tmp_path: Path) -> None:
    saved = StateDir(str(tmp_path), "/var/log/asterisk/queue_log", "asterisk")
    first = engine()
    saved.attach(first)
    saved.save(first, None, None)
    other = StateDir(str(tmp_path), "/var/log/other", "asterisk")
    other.attach(engine())
    with pytest.raises(StateDirError, match="holds the state of --source /var/log/asterisk/"):
        other.load(engine(), None)
    (tmp_path / "state.json").write_text("{half a fil")
    with pytest.raises(StateDirError, match=r"state\.json is not valid JSON"):
        StateDir(str(tmp_path), "/var/log/asterisk/queue_log", "asterisk").load(engine(), None)


# ---------------------------------------------------------------- floorwatch run, killed


def metrics_of(live: LiveFloorwatch) -> dict[str, float]:
    status, body = live.get("/metrics")
    assert status == 200
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#") and not line.startswith(CLOCK_DEPENDENT):
            series, _, value = line.rpartition(" ")
            out[series] = float(value)
    return out


def processed(live: LiveFloorwatch) -> int:
    metrics = metrics_of(live)
    return int(sum(v for s, v in metrics.items() if s.startswith("contactcenter_events_processed")))


# Twenty busy minutes that ended two minutes ago. A live run applies old events with the wall
# clock, so a timer that falls due while they are read (an SLA due time, the 30-minute
# handle-time fallback) would fire at a moment that depends on how the reading interleaves
# with the clock tick, and no two runs would agree. Here nothing falls due: every target
# is far off, the fallback is 30 minutes after events at most 22 minutes old, and the one
# window (1h) holds every event whenever it is read.
BUSY = """
name = "busy"
[channels.voice]
patience_seconds = 240
handle_seconds = { mean = 110, sigma = 0.5 }
after_contact_work_seconds = { mean = 10, sigma = 0.3 }
hold_share = 0.2

[[queues]]
name = "billing"
channel = "voice"
arrivals.rate = 9000
transfer_share = 0.05
transfer_to = ["sales"]

[[queues]]
name = "sales"
channel = "voice"
arrivals.rate = 6000
overflow = { after_seconds = 30, to = "billing" }

[[agents]]
name = "a"
count = 420
skills = ["billing", "sales"]
"""
CONFIG = """
windows = ["1h"]
[defaults]
answer_within_seconds = 86400
first_response_within_seconds = 86400
resolution_within_seconds = 864000
[staffing]
arrival_window = "1h"
handle_window = "1h"
"""


@pytest.fixture
def busy_minutes(tmp_path: Path) -> Iterator[tuple[Path, Path, Path]]:
    """The twenty minutes as contract JSON and as a queue_log, and the configuration."""
    (tmp_path / "busy.toml").write_text(BUSY)
    (tmp_path / "floorwatch.toml").write_text(CONFIG)
    start = (datetime.now(UTC) - timedelta(minutes=22)).strftime("%Y-%m-%dT%H:%M:%SZ")
    run = ("--scenario", str(tmp_path / "busy.toml"), "--start", start, "--duration", "20m")
    for name, extra in (("events.jsonl", ()), ("queue_log", ("--format", "asterisk"))):
        with (tmp_path / name).open("wb") as out:
            subprocess.run(
                [sys.executable, "-m", "streams", "simulate", *run, *extra], stdout=out, check=True
            )
    yield tmp_path / "events.jsonl", tmp_path / "queue_log", tmp_path / "floorwatch.toml"


def wait_log(live: LiveFloorwatch, text: str, timeout: float) -> None:
    """Read the run's log lines (stderr) until one contains `text`."""
    stderr = live.process.stderr
    assert stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stderr], [], [], max(0.0, deadline - time.monotonic()))
        if ready:
            line = stderr.readline()
            if not line:
                raise AssertionError(f"the run exited before logging {text!r}")
            if text.encode() in line:
                return
    raise AssertionError(f"timed out after {timeout} s waiting for the log line {text!r}")


@pytest.mark.slow
@pytest.mark.parametrize("form", ["json", "asterisk"])
def test_kill_minus_nine_mid_file_and_restart_equals_an_uninterrupted_run(
    form: str, busy_minutes: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    events, queue_log, config = busy_minutes
    source = events if form == "json" else queue_log
    options = ["--source", str(source), "--format", form, "--config", str(config)]
    if form == "asterisk":
        options += ["--wrapup", "billing=20", "--wrapup", "10"]
    size = source.stat().st_size

    uninterrupted = LiveFloorwatch(*options)
    try:
        wait_log(uninterrupted, "event source finished", 120)
        expected = metrics_of(uninterrupted)
    finally:
        uninterrupted.stop()
    total = sum(v for s, v in expected.items() if s.startswith("contactcenter_events_processed"))

    state = tmp_path / "state"
    saving = [*options, "--state-dir", str(state), "--state-every", "0.05"]
    killed = LiveFloorwatch(*saving)
    wait_for(lambda: processed(killed) > total // 4, 120, "a quarter of the file applied")
    killed.process.send_signal(signal.SIGKILL)
    killed.stop()
    at = orjson.loads((state / "state.json").read_bytes())["position"]["offset"]
    assert 0 < at < size  # killed mid-file, after at least one save
    restarted = LiveFloorwatch(*saving)
    try:
        wait_log(restarted, "event source finished", 120)
        assert_same(metrics_of(restarted), expected)
    finally:
        assert restarted.stop() == 0
    saved = orjson.loads((state / "state.json").read_bytes())
    assert saved["position"]["offset"] == size  # saved again at the end


def test_state_dir_needs_a_file_source(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "streams", "run", "--state-dir", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "FLOORWATCH_CONFIG"},
    )
    assert done.returncode == 2
    assert done.stderr == (
        "floorwatch run: --state-dir needs --source FILE (the simulator and standard input "
        "have no position to follow or resume)\n"
    )


def test_agent_activity_is_saved_and_an_older_state_without_it_still_loads(
    tmp_path: Path,
) -> None:
    """a1 handles c1 (answered +5, wrapped +80: 75 s) before the save and c2 (answered
    +10, wrapped +35: 25 s) after the restart: 2 handled, 100 s, AHT 50 s. A state saved
    before activity was (no "activity" value) loads with none."""

    def life(contact_id: str, at: float, answer: float, wrap: float) -> list[bytes]:
        return [
            orjson.dumps(
                {
                    "type": type_,
                    "event_id": f"{type_}-{contact_id}",
                    "contact_id": contact_id,
                    "occurred_at": iso(at + offset),
                    **fields,
                }
            )
            for type_, offset, fields in (
                ("contact.queued", 0, {"queue": "support", "channel": "voice"}),
                ("contact.answered", answer, {"agent_id": "a1"}),
                ("contact.ended", wrap - 1, {}),
                ("contact.wrapped", wrap, {}),
            )
        ]

    first = engine()
    saved = StateDir(str(tmp_path), "/f", "json")
    saved.attach(first)
    for raw in life("c1", T0, 5, 80):
        assert first.ingest(raw, WALL)
    saved.save(first, None, None)
    resumed = engine()
    loaded = StateDir(str(tmp_path), "/f", "json")
    loaded.attach(resumed)
    loaded.load(resumed, None)
    for raw in life("c2", T0 + 100, 10, 35):
        assert resumed.ingest(raw, WALL)
    record = resumed.contacts.activity["a1"]
    assert (record.handled, record.handle_sum) == (2, 100.0)
    assert record.handle_sum / record.handled == 50.0

    state = orjson.loads((tmp_path / "state.json").read_bytes())
    del state["engine"]["activity"]
    (tmp_path / "state.json").write_bytes(orjson.dumps(state))
    older = engine()
    loaded = StateDir(str(tmp_path), "/f", "json")
    loaded.attach(older)
    loaded.load(older, None)
    assert older.contacts.activity == {}
