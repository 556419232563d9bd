"""Shared fixtures. External tools are required in CI (CI=true) and skipped elsewhere."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str, package: str) -> str:
    """Path of a command-line tool; fails the test in CI, skips it elsewhere, when missing."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found: install the Debian package '{package}' (./dev test does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return require_tool("promtool", "prometheus")
