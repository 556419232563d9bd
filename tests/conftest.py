"""Shared fixtures. External tools are required in CI (CI=true) and skipped elsewhere."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kafka_broker import IN_CI, Broker, running_broker
from tests.support.redis_server import RedisServer, running_redis
from tests.support.worker_cluster import Cluster


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


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One Kafka 3.9 broker for the run: Docker if it answers, else devtools/kafka/broker.sh.
    Skipped with the reason when neither works; failed in CI (CI=true)."""
    with running_broker(tmp_path_factory.mktemp("kafka")) as broker:
        yield broker


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[tuple[Broker, Cluster]]:
    """A native broker of the test's own, which it stops and restarts with its data, and
    a cluster on it (fails in CI when no native broker can start, like every other)."""
    with running_broker(tmp_path / "kafka", native=True) as broker:
        made = Cluster(broker.bootstrap, tmp_path)
        try:
            yield broker, made
        finally:
            made.stop()


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to test stale mypyc builds: a compiled module shadows its edited source."""
    root = Path(__file__).resolve().parent.parent / "streams"
    stale = [
        str(source.relative_to(root.parent))
        for built in root.rglob("*.so")
        for suffix in (".py", ".c")  # mypyc's modules, and core/_timestamp.c
        if (source := built.parent / (built.name.split(".")[0] + suffix)).exists()
        and source.stat().st_mtime > built.stat().st_mtime
    ]
    if stale:
        pytest.exit(
            "compiled modules are older than their sources: "
            + ", ".join(sorted(stale))
            + ". Rebuild with `./dev test` (or `.venv/bin/pip install -e .`), or delete "
            "streams/**/*.so to test the pure-Python source.",
            returncode=2,
        )


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh Redis for one test (Docker if it answers, else redis-server)."""
    with running_redis(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def native_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server that the test may stop and start again on the same port."""
    with running_redis(tmp_path / "redis", native=True) as server:
        yield server
