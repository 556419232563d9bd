"""Bad input through the real command line: one line on stderr that names the problem,
the documented exit code, and never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support.helpers import floorwatch

pytestmark = pytest.mark.slow

EXIT_INPUT, EXIT_USAGE = 1, 2


def files(root: Path) -> None:
    """The bad files the table names, in the working directory of the command."""
    (root / "latin1.toml").write_bytes(b'timezone = "Europe/Z\xfcrich"\n')
    (root / "broken.toml").write_text("[defaults\n")
    (root / "a-directory.toml").mkdir()
    (root / "bad-key.toml").write_text("[[targets]]\nanswer_within_seconds = -5\n")
    (root / "a.jsonl").write_text("")
    (root / "b.jsonl").write_text("")


# (arguments, environment, exit code, a part of the one line on stderr)
BAD_INPUTS = [
    (["run", "--port", "-1"], {}, EXIT_USAGE, "argument --port: -1 is not a TCP port (0-65535)"),
    (["run", "--port", "70000"], {}, EXIT_USAGE, "--port: 70000 is not a TCP port (0-65535)"),
    (["run", "--port", "http"], {}, EXIT_USAGE, "--port: 'http' is not a TCP port (0-65535)"),
    (["worker", "--port", "65536"], {}, EXIT_USAGE, "--port: 65536 is not a TCP port"),
    (
        ["run", "--port", "0", "--host", "999.1.1.1"],
        {},
        EXIT_USAGE,
        "--host 999.1.1.1: not an address this machine can listen on",
    ),
    (
        ["run", "--port", "0", "--host", "192.0.2.1", "--insecure"],  # TEST-NET-1: nobody's
        {},
        EXIT_USAGE,
        "--host 192.0.2.1: not an address this machine can listen on (Cannot assign requested",
    ),
    (["run", "--config", "latin1.toml"], {}, EXIT_USAGE, "config file latin1.toml: not UTF-8"),
    (["replay", "-", "--config", "missing.toml"], {}, EXIT_USAGE, "missing.toml: not found"),
    (["run", "--config", "a-directory.toml"], {}, EXIT_USAGE, "is a directory"),
    (["simulate", "--config", "broken.toml", "--kafka"], {}, EXIT_USAGE, "not valid TOML"),
    (
        ["replay", "-", "--config", "bad-key.toml"],
        {},
        EXIT_USAGE,
        "bad-key.toml: targets[0].answer_within_seconds: -5 is out of range",
    ),
    (["replay", "-"], {"FLOORWATCH_CONFIG": "latin1.toml"}, EXIT_USAGE, "not UTF-8"),
    (["run", "--host", "0.0.0.0"], {}, EXIT_USAGE, "--host 0.0.0.0: serving the wallboard"),
    (["worker", "--host", "0.0.0.0"], {}, EXIT_USAGE, "--host 0.0.0.0: serving the wallboard"),
    (["run", "--warmup", "1x"], {}, EXIT_USAGE, "argument --warmup:"),
    (["run", "--warmup", "-1"], {}, EXIT_USAGE, "argument --warmup:"),
    (["simulate", "--duration", "0"], {}, EXIT_USAGE, "argument --duration:"),
    (["simulate", "--duration", "ten"], {}, EXIT_USAGE, "argument --duration:"),
    (
        ["staffing", "--contacts", "9", "--aht", "60", "--interval", "-5"],
        {},
        EXIT_USAGE,
        "--interval",
    ),
    (["staffing", "--contacts", "9"], {}, EXIT_USAGE, "required: --aht"),
    (
        ["staffing", "--contacts", "9", "--aht", "60", "--target", "80"],
        {},
        EXIT_USAGE,
        "--target 80: a ratio in (0, 1]; did you mean 0.8?",
    ),
    (
        ["staffing", "--contacts", "9", "--aht", "60", "--shrinkage", "30"],
        {},
        EXIT_USAGE,
        "--shrinkage 30: a ratio in [0, 1); did you mean 0.3?",
    ),
    (
        ["staffing", "--contacts", "nan", "--aht", "60"],
        {},
        EXIT_USAGE,
        "--contacts",
    ),
    (["run", "--warmup", "99999999d"], {}, EXIT_USAGE, "--warmup 8.64e+12 s would start"),
    (["simulate", "--duration", "99999999d"], {}, EXIT_USAGE, "--duration 8.64e+12 s ending"),
    (["simulate", "--speed", "0"], {}, EXIT_USAGE, "--speed: 0 must be a number greater than 0"),
    (["simulate", "--speed", "nan"], {}, EXIT_USAGE, "--speed: nan must be a number greater"),
    (["simulate", "--noise", "2"], {}, EXIT_USAGE, "--noise is a share between 0 and 0.5"),
    (["simulate", "--start", "yesterday"], {}, EXIT_USAGE, "--start 'yesterday'"),
    (["run", "--log-level", "loud"], {}, EXIT_USAGE, "argument --log-level: invalid choice"),
    (["run", "--source", "nope.jsonl"], {}, EXIT_INPUT, "input file nope.jsonl: not found"),
    (["replay", "nope.jsonl"], {}, EXIT_INPUT, "input file nope.jsonl: not found"),
    (["replay", "a.jsonl", "b.jsonl"], {}, EXIT_USAGE, "replay takes one FILE"),
    (["replay", "-", "--colour"], {}, EXIT_USAGE, "floorwatch replay: unrecognized arguments"),
    (["explode"], {}, EXIT_USAGE, "invalid choice: 'explode'"),
    (["board", "--window", "foo", "--once"], {}, EXIT_USAGE, "--window foo"),
    (
        ["board", "--interval", "0", "--once"],
        {},
        EXIT_USAGE,
        "--interval 0: must be a positive number",
    ),
    (["board", "--interval", "inf"], {}, EXIT_USAGE, "--interval inf: must be a positive number"),
    (["targets", "get", "--queue", "q", "--channel", "fax"], {}, EXIT_USAGE, "--channel"),
    (["convert", "-", "--format", "xml"], {}, EXIT_USAGE, "argument --format: invalid choice"),
    (["convert", "nope.log", "--format", "asterisk"], {}, EXIT_INPUT, "nope.log: not found"),
    (
        ["replay", "-", "--wrapup", "30"],
        {},
        EXIT_USAGE,
        "--wrapup, --exit, --requeue-within and --member are for --format asterisk or freeswitch",
    ),
    (
        ["replay", "-", "--format", "asterisk", "--exit", "lunch=abandoned"],
        {},
        EXIT_USAGE,
        "--exit lunch=abandoned: unknown kind 'lunch'; one of timeout, empty, key",
    ),
    (
        ["replay", "-", "--format", "asterisk", "--exit", "timeout=maybe"],
        {},
        EXIT_USAGE,
        "--exit timeout=maybe: give abandoned or flowout",
    ),
    (["replay", "-", "--format", "asterisk", "--wrapup", "=5"], {}, EXIT_USAGE, "--wrapup"),
    (
        ["replay", "-", "--format", "asterisk", "--wrapup", "billing=-5"],
        {},
        EXIT_USAGE,
        "argument --wrapup: -5 must be a number of seconds >= 0",
    ),
    (["run", "--format", "asterisk"], {}, EXIT_USAGE, "--format asterisk reads --source FILE|-"),
    (["run", "--follow"], {}, EXIT_USAGE, "--follow needs --source FILE"),
    (
        ["run", "--source", "-", "--state-dir", "st"],
        {},
        EXIT_USAGE,
        "--state-dir needs --source FILE",
    ),
    (
        ["run", "--source", "a.jsonl", "--state-dir", "a.jsonl", "--port", "0"],
        {},
        EXIT_USAGE,
        "--state-dir a.jsonl: cannot be created: File exists",
    ),
    (
        ["run", "--source", "freeswitch://pbx:8021", "--format", "asterisk"],
        {},
        EXIT_USAGE,
        "--source freeswitch://pbx:8021 needs --format freeswitch",
    ),
    (
        ["run", "--source", "freeswitch://pbx:99999", "--format", "freeswitch", "--port", "0"],
        {"FLOORWATCH_FREESWITCH__PASSWORD": "x"},
        EXIT_USAGE,
        "freeswitch://pbx:99999: the port must be 0-65535",
    ),
    (
        ["run", "--source", "freeswitch://pbx", "--format", "freeswitch", "--state-dir", "st"],
        {},
        EXIT_USAGE,
        "--follow and --state-dir are for a --source FILE",
    ),
    (
        ["produce", "ftp://pbx/events"],
        {},
        EXIT_USAGE,
        "ftp://pbx/events: give a FILE, -, an http(s):// URL or freeswitch://HOST:PORT",
    ),
    (
        ["produce", "http://pbx/events", "--follow"],
        {},
        EXIT_USAGE,
        "--follow reads a growing FILE; http://pbx/events is read as it streams anyway",
    ),
    (["produce", "freeswitch://pbx:8021"], {}, EXIT_USAGE, "needs --format freeswitch"),
    (["receive"], {}, EXIT_USAGE, "no webhook is configured: set a connector's secret"),
    (["produce", "-", "--follow"], {}, EXIT_USAGE, "--follow reads a FILE"),
    (["produce", "nope.jsonl"], {}, EXIT_INPUT, "input file nope.jsonl: not found"),
    (
        ["produce", "a.jsonl"],
        {"FLOORWATCH_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1"},
        EXIT_INPUT,
        "cannot reach Kafka at 127.0.0.1:1",
    ),
    (
        ["replay", "-"],
        {"FLOORWATCH_KAFKA__TOPC": "events"},
        EXIT_USAGE,
        "did you mean FLOORWATCH_KAFKA__TOPIC?",
    ),
]


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    BAD_INPUTS,
    ids=[" ".join(args) + "".join(f" {k}" for k in env) for args, env, _, _ in BAD_INPUTS],
)
def test_bad_input_is_one_line_with_its_exit_code(
    args: list[str], env: dict[str, str], code: int, message: str, tmp_path: Path
) -> None:
    files(tmp_path)
    done = floorwatch(*args, cwd=tmp_path, env=env)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    known = args[0] in (
        *("run", "replay", "simulate", "worker", "staffing", "board", "targets"),
        *("convert", "produce", "receive"),
    )
    command = " ".join(args[:2]) if args[0] == "targets" else args[0]
    assert lines[0].startswith(f"floorwatch {command}: " if known else "floorwatch: "), lines[0]
    assert message in lines[0]
    assert done.returncode == code


def test_a_port_in_use_says_to_choose_another_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = floorwatch("run", "--host", "127.0.0.1", "--port", str(port), cwd=tmp_path)
    assert done.returncode == EXIT_INPUT
    assert done.stderr == (
        f"floorwatch run: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "choose another port in --port (0 = any free)\n"
    )
    env = {"FLOORWATCH_RECEIVE__ZENDESK_SECRET": "x"}
    with socket.socket() as taken:  # the webhooks' address of run --source http://
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        source = f"http://127.0.0.1:{port}"
        done = floorwatch("run", "--port", "0", "--source", source, cwd=tmp_path, env=env)
    assert done.returncode == EXIT_INPUT
    assert done.stderr == (
        f"floorwatch run: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "choose another port in --source (0 = any free)\n"
    )


def test_a_live_target_naming_an_unknown_calendar_is_refused(tmp_path: Path) -> None:
    """Checked against the configuration before Redis is asked (none is configured here)."""
    done = floorwatch("targets", "set", "--channel", "email", "calendar=ofice", cwd=tmp_path)
    assert done.returncode == EXIT_USAGE
    assert done.stderr == (
        "floorwatch targets: invalid target: calendar: unknown calendar 'ofice' "
        "(calendars: none in the configuration)\n"
    )
