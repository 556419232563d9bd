"""Live end to end: a real Prometheus evaluates alerts/ rules while scraping a running
Floorwatch whose billing queue's service level collapses; a real Alertmanager routes the
alert by team to a webhook receiver in this test, which checks what the lead would get.

The rules are generated from alerts/config.yaml with the service-level `for:` shortened to
2 s (everything else as shipped); Alertmanager runs alerts/alertmanager.yml with the tier1
lead's receiver pointed at the test's webhook and short grouping waits.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require_tool
from tests.support.helpers import iso
from tests.support.live import LiveFloorwatch, wait_for
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

ALERTS = ROOT / "alerts"
CONFIG = """
[[targets]]
queue = "billing"
team = "tier1"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Webhook:
    """Collects Alertmanager webhook notifications."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self) -> list[dict[str, Any]]:
        return [alert for message in self.received for alert in message["alerts"]]


class Service:
    """A background process with its log kept for failure messages."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self.handle = log.open("wb")
        self.process = subprocess.Popen(args, stdout=self.handle, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.handle.close()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[LiveFloorwatch, Webhook, Path]]:
    prometheus = require_tool("prometheus", "prometheus")
    alertmanager = require_tool("prometheus-alertmanager", "prometheus-alertmanager")
    config = tmp_path / "floorwatch.toml"
    config.write_text(CONFIG)
    floorwatch = LiveFloorwatch("--source", "-", config=config)
    webhook = Webhook()
    services: list[Service] = []
    try:
        rules = generate_rules(tmp_path)
        am_port, prom_port = free_port(), free_port()
        am_config = tmp_path / "alertmanager.yml"
        am_config.write_text(yaml.safe_dump(routed_to(webhook.url)))
        services.append(
            Service(
                [
                    alertmanager,
                    f"--config.file={am_config}",
                    f"--storage.path={tmp_path / 'am'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                tmp_path / "alertmanager.log",
            )
        )
        prom_config = tmp_path / "prometheus.yml"
        target = floorwatch.base.removeprefix("http://").rstrip("/")
        prom_config.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "rule_files": [str(path) for path in rules],
                    "alerting": {
                        "alertmanagers": [
                            {"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}
                        ]
                    },
                    "scrape_configs": [
                        {"job_name": "floorwatch", "static_configs": [{"targets": [target]}]}
                    ],
                }
            )
        )
        services.append(
            Service(
                [
                    prometheus,
                    f"--config.file={prom_config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
                tmp_path / "prometheus.log",
            )
        )
        yield floorwatch, webhook, tmp_path
    finally:
        for service in services:
            service.stop()
        webhook.server.shutdown()
        floorwatch.stop()


def generate_rules(tmp_path: Path) -> list[Path]:
    """The shipped rules, from the shipped config with a 2 s service-level `for:`."""
    config = yaml.safe_load((ALERTS / "config.yaml").read_text())
    for severity in ("warning", "critical"):
        config["queues"]["service_level"][severity]["for"] = "2s"
    source = tmp_path / "alerts-config.yaml"
    source.write_text(yaml.safe_dump(config))
    out = tmp_path / "rules"
    subprocess.run(
        [
            sys.executable,
            str(ALERTS / "generate.py"),
            "--config",
            str(source),
            "--output-dir",
            str(out),
        ],
        check=True,
    )
    return sorted(out.glob("*.yml"))


def routed_to(url: str) -> dict[str, Any]:
    """alerts/alertmanager.yml with the tier1 lead's receiver replaced by the webhook."""
    config = yaml.safe_load((ALERTS / "alertmanager.yml").read_text())
    config["route"].update(group_wait="1s", group_interval="1s", repeat_interval="1h")
    for receiver in config["receivers"]:
        if receiver["name"] == "tier1-lead":
            receiver.clear()
            receiver.update(
                name="tier1-lead", webhook_configs=[{"url": url, "send_resolved": False}]
            )
    return config


def test_a_collapsing_service_level_pages_the_queue_teams_lead(
    stack: tuple[LiveFloorwatch, Webhook, Path],
) -> None:
    floorwatch, webhook, logs = stack
    now = time.time()
    # Twelve billing calls, each answered after 60 s: service level 0 against 80 % (20 s).
    events = []
    for i in range(12):
        events.append(
            {
                "event_id": f"q{i}",
                "type": "contact.queued",
                "occurred_at": iso(now - 70),
                "contact_id": f"c{i}",
                "queue": "billing",
                "channel": "voice",
            }
        )
        events.append(
            {
                "event_id": f"a{i}",
                "type": "contact.answered",
                "occurred_at": iso(now - 10),
                "contact_id": f"c{i}",
            }
        )
    floorwatch.send(*events)

    def critical() -> dict[str, Any] | None:
        for alert in webhook.alerts():
            labels = alert["labels"]
            if (
                labels["alertname"] == "ServiceLevelBelowTarget"
                and labels["severity"] == "critical"
            ):
                return alert
        return None

    try:
        alert = wait_for(critical, 90, "the critical ServiceLevelBelowTarget notification")
    except AssertionError:
        raise AssertionError(
            (logs / "prometheus.log").read_text()[-2000:]
            + (logs / "alertmanager.log").read_text()[-2000:]
        ) from None
    assert alert["status"] == "firing"
    assert {k: alert["labels"][k] for k in ("queue", "channel", "team", "severity")} == {
        "queue": "billing",
        "channel": "voice",
        "team": "tier1",
        "severity": "critical",
    }
    annotations = alert["annotations"]
    assert annotations["summary"] == "Service level of billing/voice is far below its target."
    assert annotations["description"] == (
        "Service level of queue billing (voice) over the last 15m is 0%, more than 10 points "
        "below its target of 80%."
    )
    assert annotations["runbook_url"].endswith("/alerts/runbook.md#servicelevelbelowtarget")
    assert "## ServiceLevelBelowTarget" in (ALERTS / "runbook.md").read_text()
