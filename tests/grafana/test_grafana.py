"""Grafana boards: generated JSON up to date, structure, provisioning, and every panel query
run against a real Prometheus scraping a live `floorwatch run` and a worker on Kafka."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require_tool
from tests.support.kafka_broker import Broker
from tests.support.live import LiveFloorwatch, wait_for
from tests.support.paths import ROOT
from tests.support.redis_server import running_redis
from tests.support.worker_cluster import Cluster, Worker

pytestmark = pytest.mark.slow

GRAFANA = ROOT / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCE_UID = "floorwatch-prometheus"
DATASOURCE_VAR = "${datasource}"
DASHBOARD_MOUNT = "/var/lib/grafana/dashboards/floorwatch"
Scraped = LiveFloorwatch | Worker  # what Prometheus scrapes: both serve /metrics
UIDS = {
    "floor-wallboard.json": "floorwatch-wallboard",
    "queue-detail.json": "floorwatch-queue-detail",
    "sla-backlog.json": "floorwatch-sla-backlog",
    "staffing.json": "floorwatch-staffing",
    "pipeline-health.json": "floorwatch-pipeline",
}
# Fields generate.py adds to Prometheus annotations (absent from the SDK's model).
ANNOTATION_EXTRAS = {"titleFormat", "textFormat", "tagKeys", "step", "useValueForTime"}


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def targets(dashboard: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield panel["title"], target


def datasource_refs(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            else:
                yield from datasource_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from datasource_refs(item)


# --- generated files and structure -------------------------------------------------------


def test_generate_check_passes() -> None:
    result = subprocess.run(
        [sys.executable, str(GRAFANA / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generate_check_reports_drift(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(GRAFANA / "generate.py"), "--output-dir", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    edited = tmp_path / "staffing.json"
    edited.write_text(edited.read_text().replace('"Floorwatch / Staffing"', '"edited"'))
    result = subprocess.run(
        [sys.executable, str(GRAFANA / "generate.py"), "--check", "--output-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert '-  "title": "edited"' in result.stdout
    assert '+  "title": "Floorwatch / Staffing"' in result.stdout


def test_every_dashboard_is_generated_with_a_fixed_uid_and_tags() -> None:
    assert {path.name for path in DASHBOARDS} == set(UIDS)
    for path in DASHBOARDS:
        dashboard = load(path)
        assert dashboard["uid"] == UIDS[path.name]
        assert "floorwatch" in dashboard["tags"] and len(dashboard["tags"]) >= 2
        assert dashboard.get("id") is None  # provisioned by uid, never by database id


def test_variables_are_chained_datasource_team_queue_channel() -> None:
    for path in DASHBOARDS:
        variables = load(path)["templating"]["list"]
        assert [v["name"] for v in variables][:4] == ["datasource", "team", "queue", "channel"]
        datasource, team, queue, channel = variables[:4]
        assert datasource["type"] == "datasource" and datasource["query"] == "prometheus"
        assert datasource["current"]["value"] == DATASOURCE_UID
        assert team["query"] == "label_values(contactcenter_queue_info, team)"
        assert queue["query"] == 'label_values(contactcenter_queue_info{team=~"$team"}, queue)'
        assert channel["query"] == (
            'label_values(contactcenter_queue_info{team=~"$team", queue=~"$queue"}, channel)'
        )
        for variable in (team, queue, channel):
            assert variable["type"] == "query" and variable["multi"] and variable["includeAll"]
            assert variable["refresh"] == 2  # on time range change: follows new queues


def test_datasource_is_referenced_only_through_the_fixed_uid() -> None:
    for path in DASHBOARDS:
        dashboard = load(path)
        refs = list(datasource_refs(dashboard))
        assert refs, path
        for ref in refs:
            assert ref == {"type": "prometheus", "uid": DATASOURCE_VAR}, (path.name, ref)
        assert DATASOURCE_UID in json.dumps(dashboard["templating"])
        # No datasource by name, no ${DS_...} import placeholders.
        assert "DS_" not in json.dumps(dashboard) and "__inputs" not in dashboard


def test_queue_panels_filter_by_the_variables_and_alerts_annotate_panels() -> None:
    for path in DASHBOARDS:
        dashboard = load(path)
        ids = {panel["id"] for panel in panels(dashboard)}
        assert len(ids) == len(list(panels(dashboard))), "panel ids must be unique"
        for title, target in targets(dashboard):
            expr = target["expr"]
            if "contactcenter_" in expr and path.name != "pipeline-health.json":
                assert 'queue=~"$queue"' in expr, (path.name, title, expr)
        annotations = dashboard.get("annotations", {}).get("list", [])
        if path.name == "floor-wallboard.json":
            continue  # stat tiles draw no annotations; runbook links instead
        (alerts,) = annotations
        assert alerts["expr"].startswith('ALERTS{alertstate="firing"')
        if path.name != "pipeline-health.json":
            assert 'queue=~"$queue"' in alerts["expr"]
        assert alerts["filter"]["ids"] and set(alerts["filter"]["ids"]) <= ids


def test_runbook_links_point_at_existing_runbook_sections() -> None:
    runbook = (ROOT / "alerts" / "runbook.md").read_text()
    anchors = {line[3:].strip().lower() for line in runbook.splitlines() if line.startswith("## ")}
    base = yaml.safe_load((ROOT / "alerts" / "config.yaml").read_text())["runbook_base_url"]
    seen = 0
    for path in DASHBOARDS:
        for panel in panels(load(path)):
            for link in panel.get("links", []):
                url, _, anchor = link["url"].partition("#")
                assert url == base and anchor in anchors, link
                seen += 1
    assert seen >= 10


def test_dashboards_decode_with_the_sdk_model_and_have_grafanas_required_fields() -> None:
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.dashboard import Dashboard

    for path in DASHBOARDS:
        data = load(path)
        # Structural check of what Grafana needs to load and run a dashboard.
        assert data["title"] and data["uid"] and data["schemaVersion"] >= 39
        for panel in panels(data):
            assert panel["type"] and isinstance(panel["id"], int), panel
            assert set(panel["gridPos"]) == {"h", "w", "x", "y"}, panel
            assert (
                panel["gridPos"]["x"] >= 0 and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
            )
            if panel["type"] != "row":
                assert panel["targets"], panel["title"]
            for target in panel.get("targets", []):
                assert target["expr"] and target["refId"] and target["datasource"], target
        # Round trip through the SDK's own model: nothing unknown, nothing lost.
        decoded = Dashboard.from_json(data)
        again = json.loads(json.dumps(decoded, cls=JSONEncoder))
        expected = json.loads(json.dumps(data))
        for annotation in expected.get("annotations", {}).get("list", []):
            for key in ANNOTATION_EXTRAS:
                annotation.pop(key, None)
        assert again == expected, path.name


def test_provisioning_files() -> None:
    datasources = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    assert datasources["apiVersion"] == 1
    (source,) = datasources["datasources"]
    assert source["uid"] == DATASOURCE_UID and source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090" and source["access"] == "proxy"

    providers = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "floorwatch.yml").read_text()
    )
    assert providers["apiVersion"] == 1
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == DASHBOARD_MOUNT
    # The README documents mounting grafana/dashboards at exactly that path.
    assert f"./grafana/dashboards:{DASHBOARD_MOUNT}" in (GRAFANA / "README.md").read_text()


# --- every panel query against a real Prometheus ------------------------------------------

PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
PROMQL_WORDS |= {"group_left", "group_right", "inf", "nan", "Inf", "NaN", "atan2"}
BUILTIN_SERIES = {"up", "ALERTS"}


def metric_names(expr: str) -> set[str]:
    """Metric names used in a PromQL expression.

    Approach: blank out string literals, label matchers `{...}`, range and subquery
    selectors `[...]` and the label lists of `by`/`without`/`on`/`ignoring`/`group_*`; then
    every remaining identifier that is not a function call (identifier followed by `(`), not
    a PromQL keyword and not part of a number or duration is a metric name. This finds the
    names before `{` and `[` and bare names used as function arguments alike.
    """
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.:])[A-Za-z_:][\w:]*", text):
        if text[match.end() :].lstrip().startswith("("):
            continue
        if match.group() not in PROMQL_WORDS:
            names.add(match.group())
    return names


def test_metric_names_parser() -> None:
    expr = (
        "histogram_quantile(0.9, sum by (queue, le) (rate(contactcenter_wait_seconds_bucket"
        '{queue=~"$queue"}[5m]))) / on (queue) group_left (team) contactcenter_queue_info'
        " + time() - max(contactcenter_last_event_timestamp_seconds) * 3600 + up offset 5m"
    )
    assert metric_names(expr) == {
        "contactcenter_wait_seconds_bucket",
        "contactcenter_queue_info",
        "contactcenter_last_event_timestamp_seconds",
        "up",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(url: str, params: dict[str, str] | None = None) -> Any:
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


class Prometheus:
    def __init__(self, binary: str, targets: list[str], workdir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = workdir / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "scrape_configs": [
                        {"job_name": "floorwatch", "static_configs": [{"targets": targets}]}
                    ],
                }
            )
        )
        self.log = (workdir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"prometheus exited with {self.process.returncode}")
        try:
            with urllib.request.urlopen(self.base + "/-/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = http_json(self.base + "/api/v1/query", {"query": expr})
        assert answer["status"] == "success", (expr, answer)
        return list(answer["data"]["result"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def live_prometheus(
    tmp_path_factory: pytest.TempPathFactory, kafka_broker: Broker
) -> Iterator[tuple[list[Scraped], Prometheus]]:
    """Prometheus scraping `floorwatch run` (the simulator inside) and a worker with Redis
    fed by `floorwatch simulate --kafka` (the distributed-mode panels need one)."""
    binary = require_tool("prometheus", "prometheus")
    work = tmp_path_factory.mktemp("distributed")
    with contextlib.ExitStack() as stack:
        redis_server = stack.enter_context(running_redis(work / "redis"))
        cluster = Cluster(kafka_broker.bootstrap, work, redis_url=redis_server.url)
        stack.callback(cluster.stop)
        subprocess.run(
            [sys.executable, "-m", "streams", "simulate", "--kafka", "--duration", "2h"],
            env={**os.environ, **cluster.env},
            check=True,
            capture_output=True,
            timeout=120,
        )
        worker = cluster.start("grafana")
        floorwatch = LiveFloorwatch("--speed", "20", "--seed", "1")
        stack.callback(floorwatch.stop)
        targets = [urllib.parse.urlsplit(floorwatch.base).netloc, f"127.0.0.1:{worker.port}"]
        prometheus = Prometheus(binary, targets, tmp_path_factory.mktemp("prometheus"))
        stack.callback(prometheus.stop)
        wait_for(prometheus.ready, 30, "prometheus ready", interval=0.2)
        wait_for(
            lambda: len(prometheus.query('up{job="floorwatch"} == 1')) == 2,
            30,
            "first scrape of both",
            interval=0.2,
        )
        wait_for(
            lambda: prometheus.query('min(count_over_time(up{job="floorwatch"}[1m])) >= 5'),
            60,
            "five scrapes",
            interval=0.2,
        )
        yield [floorwatch, worker], prometheus


def exported_names(scraped: list[Scraped]) -> set[str]:
    names = set()
    for process in scraped:
        status, body = process.get("/metrics")
        assert status == 200
        names |= {
            re.match(r"[A-Za-z_:][\w:]*", line).group()  # type: ignore[union-attr]
            for line in body.decode().splitlines()
            if line and not line.startswith("#")
        }
    return names


RANGE_VARIABLES = {
    "$__rate_interval": "1m",
    "${__rate_interval}": "1m",
    "$__interval": "15s",
    "$__range": "5m",
    "${__range}": "5m",
}


def substitute(expr: str, team: str, queue: str, channel: str) -> str:
    for name, value in RANGE_VARIABLES.items():
        expr = expr.replace(name, value)
    for name, value in (("team", team), ("queue", queue), ("channel", channel)):
        expr = expr.replace(f"${{{name}}}", re.escape(value)).replace(f"${name}", re.escape(value))
    assert "$" not in expr, expr
    return expr


def test_every_panel_query_returns_data_from_real_floorwatch_metrics(
    live_prometheus: tuple[list[Scraped], Prometheus],
) -> None:
    scraped, prometheus = live_prometheus
    known = exported_names(scraped) | BUILTIN_SERIES
    assert "contactcenter_queue_info" in known
    combos = sorted(
        (s["metric"].get("team", ""), s["metric"]["queue"], s["metric"]["channel"])
        for s in prometheus.query("contactcenter_queue_info")
    )
    assert combos
    failures = []
    checked = 0
    for path in DASHBOARDS:
        dashboard = load(path)
        for title, target in targets(dashboard):
            expr = target["expr"]
            unknown = metric_names(expr) - known
            if unknown:
                failures.append(f"{path.name} / {title}: unknown metrics {sorted(unknown)}")
            # Data for at least one queue that exists (a queue of email alone has no answer
            # target, a quiet queue no survey today): try each team/queue/channel in turn.
            if not any(prometheus.query(substitute(expr, *combo)) for combo in combos):
                failures.append(f"{path.name} / {title}: no data for any queue: {expr}")
            checked += 1
        for annotation in dashboard.get("annotations", {}).get("list", []):
            expr = annotation["expr"]
            assert metric_names(expr) <= known, expr
            prometheus.query(substitute(expr, *combos[0]))  # valid PromQL (no alert fires)
    assert checked >= 60
    assert not failures, "\n".join(failures)
