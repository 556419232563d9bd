"""The `floorwatch` command line: help, replay outputs, exit codes and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.support.helpers import Metrics

pytestmark = pytest.mark.slow

QUEUED = {
    "event_id": "e1",
    "type": "contact.queued",
    "occurred_at": "2026-11-20T09:00:00Z",
    "contact_id": "c1",
    "queue": "billing",
    "channel": "voice",
}
ANSWERED = {
    "event_id": "e2",
    "type": "contact.answered",
    "occurred_at": "2026-11-20T09:00:12Z",
    "contact_id": "c1",
}


def floorwatch(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=60,
        cwd=cwd,
        env=env,
    )


def jsonl(*events: dict | bytes) -> bytes:
    return b"".join((e if isinstance(e, bytes) else orjson.dumps(e)) + b"\n" for e in events)


@pytest.mark.parametrize(
    "command", [[], ["replay"], ["run"], ["simulate"], ["staffing"], ["worker"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    done = floorwatch(*command, "--help")
    assert done.returncode == 0
    assert b"usage: floorwatch" in done.stdout


def test_worker_without_a_broker_says_what_to_do() -> None:
    env = {**os.environ, "FLOORWATCH_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:9"}
    done = floorwatch("worker", env=env)
    assert done.returncode == 1
    assert b"cannot reach Kafka at 127.0.0.1:9" in done.stderr
    assert b"FLOORWATCH_KAFKA__BOOTSTRAP_SERVERS" in done.stderr


def test_replay_from_stdin_writes_the_exposition_to_stdout() -> None:
    done = floorwatch("replay", "-", stdin=jsonl(QUEUED, b"", ANSWERED))
    assert done.returncode == 0, done.stderr
    metrics = Metrics(done.stdout.decode())
    assert (
        metrics.get("contactcenter_contacts_answered_total", queue="billing", channel="voice") == 1
    )
    assert metrics.get("contactcenter_wait_seconds_sum", queue="billing", channel="voice") == 12


def test_rejects_are_summarised_on_stderr_and_written_with_line_numbers(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.jsonl"
    bad_type = {**QUEUED, "event_id": "e9", "type": "contact.exploded"}
    stdin = jsonl(QUEUED, b"{oops", bad_type, ANSWERED, b"[]")
    done = floorwatch("replay", "-", "--rejects-out", str(rejects), stdin=stdin)
    assert done.returncode == 0
    assert b"rejected 3 event(s): invalid_json 1, not_an_object 1, unknown_type 1" in done.stderr
    lines = [orjson.loads(line) for line in rejects.read_bytes().splitlines()]
    assert [(r["line"], r["reason"]) for r in lines] == [
        (2, "invalid_json"),
        (3, "unknown_type"),
        (5, "not_an_object"),
    ]
    assert lines[0]["raw"] == "{oops"
    metrics = Metrics(done.stdout.decode())
    # The neighbours of the bad lines all count.
    assert (
        metrics.get("contactcenter_contacts_answered_total", queue="billing", channel="voice") == 1
    )


def test_metrics_out_file(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_bytes(jsonl(QUEUED, ANSWERED))
    out = tmp_path / "metrics.prom"
    done = floorwatch("replay", str(source), "--metrics-out", str(out))
    assert done.returncode == 0 and done.stdout == b""
    assert "contactcenter_contacts_offered_total" in out.read_text()


def test_progress_is_shown_when_asked() -> None:
    done = floorwatch("replay", "-", "--progress", "always", stdin=jsonl(QUEUED, ANSWERED))
    assert b"replay: 2 lines in" in done.stderr


def test_missing_input_file_exits_1_with_a_message(tmp_path: Path) -> None:
    done = floorwatch("replay", str(tmp_path / "nope.jsonl"))
    assert done.returncode == 1
    assert done.stderr.decode().strip() == (
        f"floorwatch replay: input file {tmp_path / 'nope.jsonl'}: not found"
    )


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "floorwatch.toml"
    config.write_text("[defaults]\nservice_level_target = 1.5\n")
    done = floorwatch("replay", "-", "--config", str(config), stdin=jsonl(QUEUED))
    assert done.returncode == 2
    assert b"defaults.service_level_target: 1.5 is out of range" in done.stderr


def test_config_file_in_the_working_directory_is_used(tmp_path: Path) -> None:
    (tmp_path / "floorwatch.toml").write_text("[defaults]\nanswer_within_seconds = 10\n")
    done = floorwatch("replay", "-", stdin=jsonl(QUEUED, ANSWERED), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    metrics = Metrics(done.stdout.decode())
    # wait 12 s > 10 s target: not within target.
    assert (
        metrics.get(
            "contactcenter_contacts_answered_within_target_total", queue="billing", channel="voice"
        )
        == 0
    )


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    (tmp_path / "floorwatch.toml").write_text("[defaults]\nanswer_within_seconds = 10\n")
    env = {**os.environ, "FLOORWATCH_DEFAULTS__ANSWER_WITHIN_SECONDS": "15"}
    done = floorwatch("replay", "-", stdin=jsonl(QUEUED, ANSWERED), cwd=tmp_path, env=env)
    metrics = Metrics(done.stdout.decode())
    assert (
        metrics.get("contactcenter_answer_target_seconds", queue="billing", channel="voice") == 15
    )


def test_unknown_command_is_a_usage_error() -> None:
    done = floorwatch("explode")
    assert done.returncode == 2
    assert b"invalid choice" in done.stderr


@pytest.mark.parametrize(
    ("args", "code", "teardown"),
    [
        (["replay", "-"], 0, False),  # the engine's heap is left to the operating system
        (["replay", "-", "--decode-process", "off"], 1, False),  # nothing accepted: exit 1
        (["convert", "-"], 0, True),  # other commands end as any Python program does
    ],
)
def test_replay_exits_without_freeing_its_heap_once_its_output_is_written(
    args: list[str], code: int, teardown: bool
) -> None:
    """The executable's entry point: after a replay, interpreter teardown (atexit
    handlers, then every object freed one by one) is skipped; the exposition written to
    standard output is still complete and the exit code kept."""
    program = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('teardown', file=sys.stderr))\n"
        "from streams.cli.main import entry\n"
        f"sys.argv = ['floorwatch', *{args!r}]\n"
        "entry()\n"
    )
    stdin = jsonl(QUEUED, ANSWERED) if code == 0 else b"not json\n"
    done = subprocess.run(
        [sys.executable, "-c", program], input=stdin, capture_output=True, timeout=60
    )
    assert done.returncode == code, done.stderr
    assert (b"teardown" in done.stderr) == teardown
    if args[0] == "replay" and code == 0:
        assert done.stdout.endswith(b"\n")
        assert (
            Metrics(done.stdout.decode()).get(
                "contactcenter_contacts_answered_total", queue="billing", channel="voice"
            )
            == 1
        )
    if code == 1:
        assert b"no event accepted" in done.stderr


def test_decode_process_gives_the_same_result_as_one_process(tmp_path: Path) -> None:
    """The two-process replay applies the same events in the same order: every metric and
    every rejects line agree; only the processing-lag histogram (wall clock) may differ."""
    events = tmp_path / "noisy.jsonl"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "streams",
            "simulate",
            "--seed",
            "9",
            "--duration",
            "6h",
            "--noise",
            "0.05",
            "--start",
            "2026-11-20T06:00:00Z",
            "--out",
            str(events),
        ],
        check=True,
        timeout=120,
    )
    outputs = {}
    for mode in ("on", "off"):
        metrics, rejects = tmp_path / f"{mode}.prom", tmp_path / f"{mode}.rejects"
        done = floorwatch(
            "replay",
            str(events),
            "--decode-process",
            mode,
            "--metrics-out",
            str(metrics),
            "--rejects-out",
            str(rejects),
        )
        assert done.returncode == 0, done.stderr
        lines = [
            line
            for line in metrics.read_text().splitlines()
            if "event_processing_lag_seconds" not in line
        ]
        outputs[mode] = (lines, rejects.read_bytes(), done.stderr)
    assert outputs["on"] == outputs["off"]
    assert b"rejected" in outputs["on"][2] and outputs["on"][1].count(b"\n") > 10


def test_simulate_is_deterministic_and_counts_events(tmp_path: Path) -> None:
    args = ("simulate", "--seed", "4", "--start", "2026-11-20T08:00:00Z", "--events", "500")
    first, second = floorwatch(*args), floorwatch(*args)
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    lines = first.stdout.splitlines()
    assert len(lines) == 500
    assert orjson.loads(lines[0])["occurred_at"].startswith("2026-11-20T08:")
    other = floorwatch(
        "simulate", "--seed", "5", "--start", "2026-11-20T08:00:00Z", "--events", "500"
    )
    assert other.stdout != first.stdout


def test_simulated_traffic_replays_without_rejections(tmp_path: Path) -> None:
    events = tmp_path / "day.jsonl"
    assert floorwatch("simulate", "--duration", "3h", "--out", str(events)).returncode == 0
    done = floorwatch("replay", str(events))
    assert done.returncode == 0
    assert b"rejected" not in done.stderr  # the default start makes the traffic end now


def test_run_refuses_an_infinite_speed() -> None:
    done = floorwatch("run", "--speed", "max", "--port", "0")
    assert done.returncode == 2
    assert b"floorwatch run needs a number" in done.stderr


def test_unknown_scenario_names_the_choices() -> None:
    done = floorwatch("simulate", "--scenario", "call-centre", "--events", "1")
    assert done.returncode == 2
    assert b"contact-centre" in done.stderr and b"support-desk" in done.stderr
