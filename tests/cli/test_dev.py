"""`./dev run`: installs only when what the install depends on changed, and passes
options that come first to `floorwatch run`. Run in a copy of the script beside a
stand-in .venv whose python logs each pip call and whose floorwatch echoes its arguments."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.support.paths import ROOT


@pytest.fixture(autouse=True)
def _sha256sum() -> None:
    """./dev hashes its inputs with sha256sum: missing, it fails in CI, skips elsewhere."""
    require_tool("sha256sum", "coreutils")


FAKE_PYTHON = """#!/bin/sh
echo "$*" >>"$(dirname "$0")/../../pip.log"
"""
FAKE_FLOORWATCH = """#!/bin/sh
printf '%s\\n' "$@"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "dev", tmp_path / "dev")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'floorwatch'\n")
    (tmp_path / "setup.py").write_text("setup()\n")
    (tmp_path / "streams" / "core").mkdir(parents=True)
    (tmp_path / "streams" / "core" / "engine.py").write_text("x = 1\n")
    (tmp_path / "streams" / "core" / "_timestamp.c").write_text("int x;\n")
    (tmp_path / "pip.log").write_text("")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, text in (("python", FAKE_PYTHON), ("floorwatch", FAKE_FLOORWATCH)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return tmp_path


def dev(checkout: Path, *args: str, pure: str = "1") -> list[str]:
    env = {**os.environ, "PYTHON": sys.executable, "FLOORWATCH_PURE_PYTHON": pure}
    done = subprocess.run(
        [str(checkout / "dev"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def installs(checkout: Path) -> int:
    return (checkout / "pip.log").read_text().count("pip install")


def test_options_first_are_floorwatch_runs(checkout: Path) -> None:
    assert dev(checkout, "run", "--speed", "60") == ["run", "--speed", "60"]
    assert dev(checkout, "run") == ["run"]
    assert dev(checkout, "run", "replay", "day.jsonl") == ["replay", "day.jsonl"]
    assert dev(checkout, "run", "--help") == ["run", "--help"]


def test_the_install_runs_again_only_when_its_inputs_change(checkout: Path) -> None:
    dev(checkout, "run")
    assert installs(checkout) == 1
    dev(checkout, "run", "--port", "0")
    dev(checkout, "run", "replay", "-")
    assert installs(checkout) == 1  # nothing changed
    (checkout / "streams" / "core" / "engine.py").write_text("x = 2\n")
    dev(checkout, "run")
    assert installs(checkout) == 2  # a compiled source changed
    (checkout / "streams" / "core" / "sla.py").write_text("y = 1\n")
    dev(checkout, "run")
    assert installs(checkout) == 3  # a new compiled module
    (checkout / "streams" / "core" / "_timestamp.c").write_text("int y;\n")
    dev(checkout, "run")
    assert installs(checkout) == 4  # the C module changed
    (checkout / "pyproject.toml").write_text("[project]\nname = 'floorwatch'\nversion = '2'\n")
    dev(checkout, "run")
    assert installs(checkout) == 5  # the dependencies may have changed
    dev(checkout, "run", pure="")
    assert installs(checkout) == 6  # compiled this time
    dev(checkout, "run", pure="")
    assert installs(checkout) == 6
