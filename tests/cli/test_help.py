"""The help of every command: a description, a help line for every option, and the
default of every option that has one; and what a command says before it waits."""

from __future__ import annotations

import argparse
import os
import pty
import signal
import subprocess
import sys
import urllib.request

import pytest

from streams.cli.main import _parser


def every_parser(
    parser: argparse.ArgumentParser, name: str = "floorwatch"
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(name, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                found += every_parser(child, f"{name} {sub}")
    return found


COMMANDS = every_parser(_parser())[1:]


def test_the_commands_are_all_there() -> None:
    names = {name for name, _ in COMMANDS}
    assert names == {
        "floorwatch replay",
        "floorwatch run",
        "floorwatch worker",
        "floorwatch dlq",
        "floorwatch dlq stats",
        "floorwatch simulate",
        "floorwatch convert",
        "floorwatch produce",
        "floorwatch receive",
        "floorwatch staffing",
        "floorwatch board",
        "floorwatch targets",
        "floorwatch targets set",
        "floorwatch targets unset",
        "floorwatch targets get",
        "floorwatch targets list",
        "floorwatch targets history",
    }


@pytest.mark.parametrize(("name", "parser"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_is_described(name: str, parser: argparse.ArgumentParser) -> None:
    assert parser.description, f"{name} has no description"


@pytest.mark.parametrize(("name", "parser"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_option_has_help_that_states_its_default(
    name: str, parser: argparse.ArgumentParser
) -> None:
    """Flags (store_true) and required options have no default to state."""
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        option = "/".join(action.option_strings) or action.dest
        assert action.help, f"{name} {option} has no help"
        flag = isinstance(action, argparse._StoreTrueAction)
        if action.option_strings and not flag and not action.required:
            assert "default" in action.help, f"{name} {option}: the default is not stated"


def test_replay_says_it_reads_a_terminal_until_ctrl_d() -> None:
    """Standard input a terminal: the command says what it waits for instead of waiting
    silently. Ctrl-D is typed before it starts, so it ends at once with no events."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"\x04")  # Ctrl-D: end of input, read by the command
        done = subprocess.run(
            [sys.executable, "-m", "streams", "replay", "-"],
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == (
        "floorwatch replay: reading events from standard input (end with Ctrl-D)"
    )


def test_replay_of_a_pipe_says_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "streams", "replay", "-"],
        input=b"",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, b"")


@pytest.mark.slow
def test_run_starts_empty_with_warmup_0() -> None:
    """--warmup 0 ("0 to start empty") is accepted: the server comes up and stops cleanly."""
    with subprocess.Popen(
        [sys.executable, "-m", "streams", "run", "--warmup", "0", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        line = process.stderr.readline()  # the URL line, or the error and end of output
        try:
            assert line.startswith("floorwatch run: wallboard http://"), line
            base = line.split()[3]
            with urllib.request.urlopen(base + "healthz", timeout=10) as response:
                assert response.status == 200
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
