"""docker-compose.yml, checked for real without a Docker engine.

The Compose specification's JSON schema (tests/support/schemas/compose-spec.json, from the
compose-spec project, Apache-2.0, as vendored by check-jsonschema 0.39.0), `promtool
check config` on the Prometheus configuration laid out as the container mounts it, and
every Floorwatch command and variable of the stack parsed by the real CLI and settings.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from streams.cli.main import _parser
from streams.config import apply_env, settings_from_mapping
from tests.support.paths import ROOT, SCHEMAS

COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = SCHEMAS / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def floorwatch_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services(compose).items() if "build" in s}


def served_port(service: dict[str, Any]) -> int:
    """The port a Floorwatch container serves on: its --port, else [server] port."""
    args = _parser().parse_args(service["command"])
    settings = settings_from_mapping(apply_env({}, service["environment"]))
    return int(args.port if args.port is not None else settings.server.port)


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_the_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []
    broken = copy.deepcopy(compose)
    broken["services"]["redis"]["healthcheck"]["intervall"] = "5s"  # a typo is caught
    assert any("intervall" in error for error in schema_errors(broken))


def test_the_stack_is_complete_pinned_and_local(compose: dict[str, Any]) -> None:
    stack = services(compose)
    assert {"kafka", "redis", "worker-1", "worker-2", "simulator"} <= set(stack)
    assert {"prometheus", "alertmanager", "grafana"} <= set(stack)
    kafka = stack["kafka"]
    assert kafka["image"].startswith("apache/kafka:3.9.")
    # The log directory is the volume (the image's default is /tmp), formatted with a
    # cluster id Kafka accepts: a UUID in unpadded URL-safe base64.
    assert f"kafka-data:{kafka['environment']['KAFKA_LOG_DIRS']}" in kafka["volumes"]
    cluster_id = kafka["environment"]["CLUSTER_ID"]
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16 and len(cluster_id) == 22
    for name, service in stack.items():
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:v?\d[\w.-]*", image), f"{name}: unpinned image {image}"
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name}: {port} is not bound to localhost"
        if "build" in service:
            continue  # the Dockerfile's HEALTHCHECK, unless disabled (the simulator)
        assert service["healthcheck"]["test"], f"{name} has no health check"
    # The image's health check asks /healthz on the port each container serves on.
    found = re.search(
        r"^HEALTHCHECK .*?'(http://[^']+)'", (ROOT / "Dockerfile").read_text(), re.M | re.S
    )
    assert found is not None, "the Dockerfile has no HEALTHCHECK"
    url = urlsplit(found.group(1))
    assert (url.hostname, url.path) == ("127.0.0.1", "/healthz")
    for name, service in floorwatch_services(compose).items():
        if not service.get("healthcheck", {}).get("disable"):
            assert served_port(service) == url.port, name
    for name, service in floorwatch_services(compose).items():
        for dependency in ("kafka", "redis"):
            assert service["depends_on"][dependency] == {"condition": "service_healthy"}, name


def test_floorwatch_commands_and_variables_are_valid(compose: dict[str, Any]) -> None:
    """What the containers run parses with the real CLI, and their FLOORWATCH_* variables
    are known settings with valid values."""
    commands = {}
    stack = services(compose)
    for name, service in floorwatch_services(compose).items():
        args = _parser().parse_args(service["command"])
        commands[name] = args.command
        settings = settings_from_mapping(apply_env({}, service["environment"]))
        # Kafka as the broker advertises itself to the other containers; Redis by name.
        advertised = stack["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"].split(",")
        assert f"PLAINTEXT://{settings.kafka.bootstrap_servers}" in advertised, name
        redis = urlsplit(settings.redis.url)
        assert redis.hostname in stack and redis.port in (None, 6379), name
    assert commands == {"worker-1": "worker", "worker-2": "worker", "simulator": "simulate"}


def mount(service: dict[str, Any], into: Path) -> None:
    """Copy each bind mount (./host:/container[:ro]) of a service under `into`."""
    for volume in service["volumes"]:
        host, container = volume.split(":")[:2]
        if not host.startswith("./"):
            continue  # a named volume
        source, target = ROOT / host, into / container.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)


def test_prometheus_config_as_mounted(
    compose: dict[str, Any], promtool: str, tmp_path: Path
) -> None:
    prometheus = services(compose)["prometheus"]
    mount(prometheus, tmp_path)
    config_path = tmp_path / "etc/prometheus/prometheus.yml"
    result = subprocess.run(
        [promtool, "check", "config", str(config_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rules/" in result.stdout and "SUCCESS" in result.stdout  # the rules were checked
    config = yaml.safe_load(config_path.read_text())
    (job,) = config["scrape_configs"]
    alerts_config = yaml.safe_load((ROOT / "alerts/config.yaml").read_text())
    assert job["job_name"] == alerts_config["job"]
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    workers = {n for n, s in floorwatch_services(compose).items() if "worker" in s["command"]}
    assert targets == {f"{name}:{served_port(services(compose)[name])}" for name in workers}
    (manager,) = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert manager.split(":")[0] in services(compose)


def test_grafana_mounts_match_the_provisioning(compose: dict[str, Any], tmp_path: Path) -> None:
    mount(services(compose)["grafana"], tmp_path)
    provisioning = tmp_path / "etc/grafana/provisioning"
    (provider,) = yaml.safe_load((provisioning / "dashboards/floorwatch.yml").read_text())[
        "providers"
    ]
    dashboards = tmp_path / provider["options"]["path"].lstrip("/")
    assert sorted(p.name for p in dashboards.glob("*.json")) == sorted(
        p.name for p in (ROOT / "grafana/dashboards").glob("*.json")
    )
    (source,) = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["url"] == "http://prometheus:9090"
    home = services(compose)["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (tmp_path / home.lstrip("/")).is_file()
