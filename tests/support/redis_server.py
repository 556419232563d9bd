"""A real Redis server for tests: testcontainers when a Docker engine answers, otherwise
`redis-server` (Debian package `redis-server`, installed by `./dev test`) on a free port.

`require_redis` fails the test in CI (CI=true) and skips it elsewhere when neither works.
Only a native server can be stopped and started again on the same port (`restart`).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from tests.support.kafka_broker import IN_CI, free_ports

START_TIMEOUT_S = 20
DOCKER_IMAGE = "redis:7.4"


class RedisUnavailable(RuntimeError):
    pass


@dataclass
class Tls:
    """Files of a throwaway CA and server certificate (openssl)."""

    ca: Path
    cert: Path
    key: Path


@dataclass
class RedisServer:
    url: str
    kind: str  # "native" or "docker"
    password: str | None = None
    tls: Tls | None = None
    _process: subprocess.Popen[bytes] | None = None
    _args: list[str] = field(default_factory=list)
    _stop_docker: Callable[[], None] | None = None

    def client(self) -> redis.Redis:
        extra = {"ssl_ca_certs": str(self.tls.ca)} if self.tls else {}
        return redis.Redis.from_url(self.url, password=self.password, **extra)

    def stop(self) -> None:
        if self._stop_docker is not None:
            self._stop_docker()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def start_again(self) -> None:
        """Start the stopped native server on the same port (empty: no persistence)."""
        assert self.kind == "native", "only a native redis-server can be restarted in place"
        self._process = _spawn(self._args)
        _wait_ready(self)


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def _wait_ready(server: RedisServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    client = server.client()
    try:
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if server._process is not None and server._process.poll() is not None:
                    raise RedisUnavailable("redis-server exited at start") from None
                if time.monotonic() > deadline:
                    message = f"redis-server not ready in {START_TIMEOUT_S} s"
                    raise RedisUnavailable(message) from None
                time.sleep(0.05)
    finally:
        client.close()


def make_tls(openssl: str, directory: Path) -> Tls:
    """A CA and a certificate for 127.0.0.1 signed by it (openssl req/x509)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, csr = directory / "server.pem", directory / "server.key", directory / "server.csr"
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ca_cmd = "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=floorwatch-test-ca"
    csr_cmd = "req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1"
    sign_cmd = "x509 -req -CAcreateserial -days 2"
    commands = [
        [*ca_cmd.split(), "-keyout", ca_key, "-out", ca],
        [*csr_cmd.split(), "-keyout", key, "-out", csr],
        [*sign_cmd.split(), "-in", csr, "-CA", ca, "-CAkey", ca_key, "-extfile", ext, "-out", cert],
    ]
    for command in commands:
        subprocess.run([openssl, *map(str, command)], check=True, capture_output=True)
    return Tls(ca, cert, key)


def start_native_redis(
    directory: Path, *, password: str | None = None, tls: Tls | None = None
) -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable(
            "redis-server not found: install the Debian package 'redis-server' (./dev test does)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    (port,) = free_ports(1)
    args = [binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--dir", str(directory)]
    if password:
        args += ["--requirepass", password]
    if tls:
        args += ["--port", "0", "--tls-port", str(port), "--tls-auth-clients", "no"]
        args += ["--tls-cert-file", str(tls.cert), "--tls-key-file", str(tls.key)]
        args += ["--tls-ca-cert-file", str(tls.ca)]
        url = f"rediss://127.0.0.1:{port}/0"
    else:
        args += ["--port", str(port)]
        url = f"redis://127.0.0.1:{port}/0"
    server = RedisServer(url, "native", password, tls, _spawn(args), args)
    try:
        _wait_ready(server)
    except RedisUnavailable:
        server.stop()
        raise
    return server


def start_docker_redis() -> RedisServer:
    try:
        from docker.errors import DockerException
        from testcontainers.community.redis import RedisContainer
    except ImportError as exc:
        raise RedisUnavailable(f"testcontainers is not installed ({exc})") from exc
    try:
        container = RedisContainer(DOCKER_IMAGE)  # raises without a Docker engine
    except DockerException as exc:
        raise RedisUnavailable(f"no Docker engine answers ({type(exc).__name__})") from exc
    try:
        container.start()
        host = container.get_container_host_ip()
        port = container.get_exposed_port(6379)
    except Exception as exc:  # pull, start or ports: report it, let native have a go
        with contextlib.suppress(Exception):
            container.stop()
        raise RedisUnavailable(f"{DOCKER_IMAGE} did not start: {exc}") from exc
    return RedisServer(f"redis://{host}:{port}/0", "docker", _stop_docker=container.stop)


def require_redis(
    directory: Path, *, native: bool = False, password: str | None = None, tls: Tls | None = None
) -> RedisServer:
    """A running server: Docker first, unless `native` or password/TLS are asked for
    (redis-server then); a failure in CI, a skip elsewhere, when none can start."""
    errors = []
    if not (native or password or tls):
        try:
            return start_docker_redis()
        except RedisUnavailable as exc:
            errors.append(f"Docker: {exc}")
    try:
        return start_native_redis(directory, password=password, tls=tls)
    except RedisUnavailable as exc:
        errors.append(f"native: {exc}")
    message = "Redis unavailable: " + "; ".join(errors)
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def running_redis(
    directory: Path, *, native: bool = False, password: str | None = None, tls: Tls | None = None
) -> Iterator[RedisServer]:
    server = require_redis(directory, native=native, password=password, tls=tls)
    try:
        yield server
    finally:
        server.stop()
