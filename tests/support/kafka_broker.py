"""A Kafka broker for tests, and small admin helpers.

`start_broker` returns a running single-node Kafka 3.9 broker, found in this order:

1. ``FLOORWATCH_KAFKA_BOOTSTRAP=host:port``: a broker someone already runs; nothing is
   started or stopped.
2. Docker, when a Docker engine answers: testcontainers' ``KafkaContainer`` in KRaft mode,
   image ``FLOORWATCH_KAFKA_IMAGE`` (default Confluent Platform 7.9 = Apache Kafka 3.9).
3. Native: ``devtools/kafka/broker.sh`` (Java 17 and the Kafka jars from Maven Central,
   fetched once into ``~/.cache/floorwatch``) on free ports under the given directory.

``FLOORWATCH_KAFKA=docker`` or ``native`` allows only that way. When no way works,
`KafkaUnavailable` says what is missing and how to install it; `require_broker` turns that
into a failure in CI (``CI=true``) and a skip elsewhere.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from tests.support.paths import ROOT

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BROKER_SH = ROOT / "devtools" / "kafka" / "broker.sh"
# testcontainers' KafkaContainer drives the Confluent image's start scripts, so the
# apache/kafka image does not fit it; Confluent Platform 7.9.x ships Apache Kafka 3.9.
DOCKER_IMAGE = "confluentinc/cp-kafka:7.9.1"

FETCH_TIMEOUT_S = 900  # a cold fetch downloads about 46 MB of jars from Maven Central
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 30
EXIT_PORT_IN_USE = 4  # broker.sh's exit code for "port in use"
SECURED_OPTIONS = ("--sasl-port", "--ssl-port", "--sasl-ssl-port")


class KafkaUnavailable(RuntimeError):
    """No Kafka broker could be started; the message says what is missing and how to fix it."""


@dataclass(frozen=True)
class Broker:
    bootstrap: str
    """``host:port`` for ``bootstrap_servers``."""
    stop: Callable[[], None] = field(repr=False)
    """Stops the broker; safe to call more than once (it also runs at interpreter exit)."""
    kind: str = "native"
    """``external``, ``docker`` or ``native``."""
    log_path: Path | None = None
    """The broker's log, for the native broker."""
    secured: dict[str, str] = field(default_factory=dict)
    """``host:port`` per security protocol of the secured listeners (``SASL_PLAINTEXT``,
    ``SSL``, ``SASL_SSL``), for a native broker started with SASL users."""

    @property
    def tls_dir(self) -> Path:
        """The secured broker's CA (``ca.pem``) and client certificate (``client.pem``,
        ``client.key``)."""
        assert self.log_path is not None and self.secured, "not a secured native broker"
        return self.log_path.parent / "tls"


def start_broker(tmp_dir: Path) -> Broker:
    """A running Kafka broker for tests (see the module docstring for the order tried)."""
    external = os.environ.get("FLOORWATCH_KAFKA_BOOTSTRAP", "").strip()
    if external:
        return Broker(external, stop=lambda: None, kind="external")
    mode = os.environ.get("FLOORWATCH_KAFKA", "auto").strip().lower() or "auto"
    if mode not in ("auto", "docker", "native"):
        raise KafkaUnavailable(f"FLOORWATCH_KAFKA={mode!r}: use auto, docker or native")
    problems: list[str] = []
    if mode in ("auto", "docker"):
        try:
            return start_docker_broker()
        except KafkaUnavailable as exc:
            problems.append(f"Docker: {exc}")
    if mode in ("auto", "native"):
        try:
            return start_native_broker(tmp_dir)
        except KafkaUnavailable as exc:
            problems.append(f"native broker (devtools/kafka/broker.sh): {exc}")
    raise KafkaUnavailable(
        "no Kafka broker for the tests:\n"
        + "\n".join(f"  - {problem}" for problem in problems)
        + "\n  (or set FLOORWATCH_KAFKA_BOOTSTRAP=host:port to use a running Kafka 3.9 broker)"
    )


def require_broker(
    tmp_dir: Path, *, native: bool = False, users: dict[str, str] | None = None
) -> Broker:
    """`start_broker` (`start_native_broker` if `native`: a test that stops and restarts
    the broker with its data, or needs the secured listeners of `users`), failing the
    test in CI (CI=true) and skipping it elsewhere."""
    try:
        if native or users:
            return start_native_broker(tmp_dir, users=users)
        return start_broker(tmp_dir)
    except KafkaUnavailable as exc:
        if IN_CI:
            pytest.fail(f"Kafka broker unavailable in CI: {exc}", pytrace=False)
        pytest.skip(f"Kafka broker unavailable: {exc}")


@contextlib.contextmanager
def running_broker(
    tmp_dir: Path, *, native: bool = False, users: dict[str, str] | None = None
) -> Iterator[Broker]:
    """`require_broker` for the body of a fixture: the broker is stopped however it ends."""
    broker = require_broker(tmp_dir, native=native, users=users)
    try:
        yield broker
    finally:
        broker.stop()


# ---------------------------------------------------------------- Docker


def start_docker_broker(image: str | None = None) -> Broker:
    image = image or os.environ.get("FLOORWATCH_KAFKA_IMAGE", "").strip() or DOCKER_IMAGE
    try:
        from docker.errors import DockerException
        from testcontainers.community.kafka import KafkaContainer
    except ImportError as exc:
        raise KafkaUnavailable(
            f"testcontainers is not installed ({exc}): .venv/bin/pip install -e '.[test]'"
        ) from exc
    try:
        # Without a Docker engine the constructor itself raises DockerException.
        container = KafkaContainer(image).with_kraft()
    except DockerException as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise KafkaUnavailable(
            f"no Docker engine answers ({reason}); install and start Docker "
            "(https://docs.docker.com/engine/install/) or set DOCKER_HOST"
        ) from exc
    except ValueError as exc:  # with_kraft() refuses images it cannot drive in KRaft mode
        raise KafkaUnavailable(
            f"{image}: {exc}; testcontainers' KafkaContainer needs confluentinc/cp-kafka:7.x"
        ) from exc
    try:
        container.start(timeout=START_TIMEOUT_S)
        bootstrap = container.get_bootstrap_server()
    except Exception as exc:  # pull, start or readiness: report it, let native have a go
        with contextlib.suppress(Exception):
            container.stop()
        raise KafkaUnavailable(f"{image} did not start: {exc}") from exc
    stop = _once(container.stop)
    atexit.register(stop)
    return Broker(bootstrap, stop=stop, kind="docker")


# ---------------------------------------------------------------- native


def start_native_broker(
    tmp_dir: Path, *, attempts: int = 3, users: dict[str, str] | None = None
) -> Broker:
    """Fetch the jars if needed, then start broker.sh on free ports in ``tmp_dir/broker``;
    with ``users`` (name -> password) also SASL_PLAINTEXT, SSL and SASL_SSL listeners."""
    bash = shutil.which("bash")
    if bash is None:
        raise KafkaUnavailable("bash not found: install bash (it runs devtools/kafka/broker.sh)")
    _broker_sh(bash, "fetch", timeout_s=FETCH_TIMEOUT_S)
    broker_dir = tmp_dir / "broker"
    stop = _once(lambda: _stop_native(bash, broker_dir))
    users_file = tmp_dir / "broker-users"
    if users:
        users_file.write_text("".join(f"{name} {password}\n" for name, password in users.items()))
    for _ in range(attempts):
        port, controller_port, *secured_ports = free_ports(5 if users else 2)
        secured = ["--users", str(users_file)] if users else []
        for option, secured_port in zip(SECURED_OPTIONS, secured_ports, strict=False):
            secured += [option, str(secured_port)]
        try:
            result = _broker_sh(
                bash,
                "start",
                "--port",
                str(port),
                "--controller-port",
                str(controller_port),
                *secured,
                "--dir",
                str(broker_dir),
                "--timeout",
                str(START_TIMEOUT_S),
                # broker.sh stops the broker when this process dies without cleaning up.
                "--watch-pid",
                str(os.getpid()),
                timeout_s=START_TIMEOUT_S + 30,
                retry_codes=(EXIT_PORT_IN_USE,),
            )
        except BaseException:
            with contextlib.suppress(Exception):
                _stop_native(bash, broker_dir)  # whatever half-started
            raise
        if result.returncode == 0:
            break
        # Another process took a free port between our check and the broker's bind: retry.
    else:
        raise KafkaUnavailable(f"free ports kept being taken ({attempts} attempts)")
    printed = _printed(result.stdout)
    atexit.register(stop)
    return Broker(
        printed["bootstrap"],
        stop=stop,
        kind="native",
        log_path=broker_dir / "broker.log",
        secured={
            protocol: printed[f"{protocol.lower()}_bootstrap"]
            for protocol in ("SASL_PLAINTEXT", "SSL", "SASL_SSL")
            if f"{protocol.lower()}_bootstrap" in printed
        },
    )


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 right now."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def _broker_sh(
    bash: str, *args: str, timeout_s: float, retry_codes: tuple[int, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run broker.sh; KafkaUnavailable with its own message when it fails."""
    try:
        result = subprocess.run(
            [bash, str(BROKER_SH), *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise KafkaUnavailable(
            f"broker.sh {args[0]} did not finish within {timeout_s:.0f}s"
        ) from exc
    if result.returncode == 0 or result.returncode in retry_codes:
        return result
    # broker.sh ends with its diagnosis ("java not found: install a JDK 17 ..."); the log
    # excerpt before it helps when the broker itself failed.
    detail = "\n    ".join(result.stderr.strip().splitlines()[-12:])
    raise KafkaUnavailable(f"broker.sh {args[0]} failed (exit {result.returncode}):\n    {detail}")


def _printed(stdout: str) -> dict[str, str]:
    """The NAME=VALUE lines `broker.sh start` prints (bootstrap= always)."""
    printed = dict(line.strip().split("=", 1) for line in stdout.splitlines() if "=" in line)
    if "bootstrap" not in printed:
        raise KafkaUnavailable(f"broker.sh start printed no bootstrap= line: {stdout!r}")
    return printed


def _stop_native(bash: str, broker_dir: Path) -> None:
    try:
        stop_args = ("--dir", str(broker_dir), "--timeout", str(STOP_TIMEOUT_S))
        _broker_sh(bash, "stop", *stop_args, timeout_s=STOP_TIMEOUT_S + 30)
    except KafkaUnavailable:
        # Last resort: the broker must not outlive the tests.
        pid_file = broker_dir / "broker.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
        raise


def _once(func: Callable[[], object]) -> Callable[[], None]:
    lock = threading.Lock()
    done = False

    def run() -> None:
        nonlocal done
        with lock:
            if done:
                return
            done = True
        func()

    return run


# ---------------------------------------------------------------- admin helpers


async def create_topic(
    bootstrap: str,
    name: str,
    partitions: int,
    *,
    replication_factor: int = 1,
    config: Mapping[str, str] | None = None,
    exist_ok: bool = False,
    timeout_s: float = 30.0,
) -> None:
    """Create a topic and wait until every partition has a leader (ready to use)."""
    timeout_ms = int(timeout_s * 1000)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        topic = NewTopic(
            name=name,
            num_partitions=partitions,
            replication_factor=replication_factor,
            topic_configs=dict(config or {}),
        )
        response = await admin.create_topics([topic], timeout_ms=timeout_ms)
        for topic_name, error_code, *message in response.topic_errors:
            error = for_code(error_code) if error_code else None
            if error is None or (exist_ok and error is TopicAlreadyExistsError):
                continue
            raise error(f"creating topic {topic_name!r}: {message[0] if message else ''}")
        await _wait_for_leaders(admin, name, partitions, timeout_s)
    finally:
        await admin.close()


async def _wait_for_leaders(
    admin: AIOKafkaAdminClient, name: str, partitions: int, timeout_s: float
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        (topic,) = await admin.describe_topics([name])
        led = [p for p in topic["partitions"] if p["error_code"] == 0 and p["leader"] >= 0]
        if topic["error_code"] == 0 and len(led) == partitions:
            return
        if loop.time() >= deadline:
            raise TimeoutError(f"topic {name!r} has no leader everywhere after {timeout_s}s")
        await asyncio.sleep(0.05)  # metadata propagation poll, bounded by the deadline


def create_topic_sync(
    bootstrap: str,
    name: str,
    partitions: int,
    *,
    replication_factor: int = 1,
    config: Mapping[str, str] | None = None,
    exist_ok: bool = False,
) -> None:
    """`create_topic` for synchronous tests (not from inside a running event loop)."""
    asyncio.run(
        create_topic(
            bootstrap,
            name,
            partitions,
            replication_factor=replication_factor,
            config=config,
            exist_ok=exist_ok,
        )
    )


def list_topics_sync(bootstrap: str) -> list[str]:
    async def list_topics() -> list[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            return await admin.list_topics()
        finally:
            await admin.close()

    return asyncio.run(list_topics())


def restart_native_broker(broker: Broker) -> None:
    """Start a stopped native broker again with its data (topics, offsets) and ports."""
    if broker.kind != "native" or broker.log_path is None:
        raise KafkaUnavailable(f"only the native broker restarts with its data, not {broker.kind}")
    bash = shutil.which("bash")
    if bash is None:
        raise KafkaUnavailable("bash not found: install bash (it runs devtools/kafka/broker.sh)")
    broker_dir = broker.log_path.parent
    config = (broker_dir / "server.properties").read_text()
    controller = re.search(r"controller\.quorum\.voters=1@127\.0\.0\.1:(\d+)", config)
    assert controller is not None, f"no controller port in {broker_dir}/server.properties"
    port = broker.bootstrap.rsplit(":", 1)[1]
    result = _broker_sh(
        bash,
        "start",
        "--keep-data",
        "--port",
        port,
        "--controller-port",
        controller.group(1),
        "--dir",
        str(broker_dir),
        "--timeout",
        str(START_TIMEOUT_S),
        "--watch-pid",
        str(os.getpid()),
        timeout_s=START_TIMEOUT_S + 30,
    )
    if result.returncode != 0:
        raise KafkaUnavailable(f"broker restart failed: {result.stderr.strip()[-500:]}")


def stop_native_broker(broker: Broker) -> None:
    """Stop the broker but keep its data for `restart_native_broker`."""
    bash = shutil.which("bash")
    assert bash is not None and broker.log_path is not None
    _stop_native(bash, broker.log_path.parent)
