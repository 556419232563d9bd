"""`floorwatch simulate --kafka` and `floorwatch worker` through secured Kafka listeners.

A native broker of its own (devtools/kafka/broker.sh with SASL users) listens with
SASL_PLAINTEXT, SSL (a client certificate required) and SASL_SSL, with a throw-away CA.
The clients are configured only through FLOORWATCH_KAFKA__* variables, as an operator
would; the password is made up for the run.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.core.clock import EventTimeClock
from streams.core.engine import Engine
from streams.core.settings import Settings
from tests.support.kafka_broker import Broker, free_ports, running_broker
from tests.support.live import wait_for
from tests.support.worker_cluster import Cluster

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

USER = "floorwatch-test"
EVENTS = 200
START = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")  # one for all


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Broker, str]]:
    password = secrets.token_urlsafe(18)
    tmp = tmp_path_factory.mktemp("secured-kafka")
    with running_broker(tmp, users={USER: password}) as broker:
        yield broker, password


def security_env(broker: Broker, password: str, protocol: str, mechanism: str | None) -> dict:
    tls = broker.tls_dir
    env = {
        "FLOORWATCH_KAFKA__BOOTSTRAP_SERVERS": broker.secured[protocol],
        "FLOORWATCH_KAFKA__SECURITY_PROTOCOL": protocol,
    }
    if mechanism is not None:
        env |= {
            "FLOORWATCH_KAFKA__SASL_MECHANISM": mechanism,
            "FLOORWATCH_KAFKA__SASL_USERNAME": USER,
            "FLOORWATCH_KAFKA__SASL_PASSWORD": password,
        }
    if protocol.endswith("SSL"):
        env["FLOORWATCH_KAFKA__SSL_CAFILE"] = str(tls / "ca.pem")
    if protocol == "SSL":  # this listener requires a client certificate
        env["FLOORWATCH_KAFKA__SSL_CERTFILE"] = str(tls / "client.pem")
        env["FLOORWATCH_KAFKA__SSL_KEYFILE"] = str(tls / "client.key")
    return env


def simulate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    fixed = ["--seed", "8", "--start", START, "--events", str(EVENTS)]
    return subprocess.run(
        [sys.executable, "-m", "streams", "simulate", *fixed, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def applied_by_one_engine(path: Path) -> int:
    """Events the replay engine applies from the same messages (the independent count)."""
    engine = Engine(Settings(), EventTimeClock())
    for line in path.read_bytes().splitlines():
        engine.ingest(line, time.time())
    return sum(engine.pipeline.processed.values())


@pytest.mark.parametrize(
    ("protocol", "mechanism"),
    [
        ("SASL_PLAINTEXT", "PLAIN"),
        ("SASL_PLAINTEXT", "SCRAM-SHA-256"),
        ("SASL_SSL", "SCRAM-SHA-512"),
        ("SSL", None),
    ],
)
def test_simulate_and_worker_through_a_secured_listener(
    secured: tuple[Broker, str], tmp_path: Path, protocol: str, mechanism: str | None
) -> None:
    broker, password = secured
    cluster = Cluster(broker.secured[protocol], tmp_path)
    cluster.env |= security_env(broker, password, protocol, mechanism)
    try:
        produced = simulate(cluster.env, "--kafka")
        assert produced.returncode == 0, produced.stderr
        out = tmp_path / "events.jsonl"
        assert simulate(cluster.env, "--out", str(out)).returncode == 0
        expected = applied_by_one_engine(out)
        assert expected > EVENTS // 2
        cluster.start("a")
        wait_for(lambda: cluster.processed() == expected, 60, "the worker to apply every event")
        # Its group's offsets, committed through the same listener after each checkpoint.
        wait_for(lambda: cluster.committed() == EVENTS, 30, "every offset committed")
    finally:
        cluster.stop()


def test_a_refused_login_says_what_to_check(secured: tuple[Broker, str], tmp_path: Path) -> None:
    broker, password = secured
    env = security_env(broker, password + "-wrong", "SASL_PLAINTEXT", "SCRAM-SHA-256")
    env |= {
        "FLOORWATCH_KAFKA__TOPIC": "never-created",
        "FLOORWATCH_WORKER__STORE_PATH": str(tmp_path / "state"),
    }
    (port,) = free_ports(1)
    worker = subprocess.run(
        [sys.executable, "-m", "streams", "worker", "--port", str(port), "--log-level", "error"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 1, worker.stderr[-2000:]
    last = worker.stderr.strip().splitlines()[-1]
    address = broker.secured["SASL_PLAINTEXT"]
    assert last.startswith(f"floorwatch worker: cannot reach Kafka at {address}: ")
    assert f"the SASL login (SCRAM-SHA-256 as '{USER}'" in last
    assert "FLOORWATCH_KAFKA__SASL_PASSWORD" in last
    assert password not in worker.stderr + worker.stdout  # never in a message or a log


def test_an_ssl_listener_without_a_client_certificate_says_so(
    secured: tuple[Broker, str],
) -> None:
    """The settings that work above, less the client certificate: refused, and the
    message points at the certificate settings."""
    broker, password = secured
    env = security_env(broker, password, "SSL", None)
    del env["FLOORWATCH_KAFKA__SSL_CERTFILE"], env["FLOORWATCH_KAFKA__SSL_KEYFILE"]
    done = simulate(env | {"FLOORWATCH_KAFKA__TOPIC": "never-created"}, "--kafka")
    assert done.returncode == 1, done.stderr[-2000:]
    assert "ssl_certfile and ssl_keyfile when the broker asks for a client certificate" in (
        done.stderr
    )
