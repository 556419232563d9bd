"""The alerting layer in alerts/: rules pass promtool and their unit tests, the committed rules
match alerts/config.yaml, every alert follows the conventions, Alertmanager routes every team
to its lead, and the example Prometheus configuration is valid."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require_tool
from tests.support.paths import ROOT

ALERTS = ROOT / "alerts"
GENERATE = ALERTS / "generate.py"
ALERTMANAGER = ALERTS / "alertmanager.yml"
RULE_FILES = sorted((ALERTS / "rules").glob("*.yml"))
TEST_FILES = sorted((ALERTS / "tests").glob("*.test.yml"))
SCENARIOS = sorted((ROOT / "streams" / "simulator" / "scenarios").glob("*.toml"))
RUNBOOK_BASE = "https://github.com/floorwatch/floorwatch/blob/main/alerts/runbook.md"

# team label -> the receiver Alertmanager must pick
TEAM_RECEIVERS = {
    "tier1": "tier1-lead",
    "tier2": "tier2-lead",
    "sales": "sales-lead",
    "desk": "desk-lead",
    "finance": "finance-lead",
    "social": "social-lead",
    "floorwatch-ops": "floorwatch-ops",
    "unassigned": "floorwatch-default",
    "some-new-team": "floorwatch-default",
}
PIPELINE_DOWN = {"FloorwatchWorkerDown", "FloorwatchTargetMissing", "FloorwatchNoEvents"}
# alerts on `== 0` or absent() conditions: their value says nothing
VALUELESS = PIPELINE_DOWN | {"FloorwatchRedisDown", "FloorwatchKafkaUnreachable"}


@pytest.fixture(scope="session")
def amtool() -> str:
    return require_tool("amtool", "prometheus-alertmanager")


def run(args: list[str | Path], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, check=False
    )


def alerting_rules() -> list[dict[str, Any]]:
    rules = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules.extend(rule for rule in group["rules"] if "alert" in rule)
    return rules


def scenario_teams() -> set[str]:
    teams = set()
    for path in SCENARIOS:
        scenario = tomllib.loads(path.read_text())
        for section in ("queues", "agents"):
            teams.update(item["team"] for item in scenario.get(section, []) if "team" in item)
    return teams


# --------------------------------------------------------------------------- rules


def test_each_area_has_a_rule_file_and_a_test_file() -> None:
    areas = {"queues", "slo", "pipeline"}
    assert {path.name for path in RULE_FILES} == {f"{area}.rules.yml" for area in areas}
    assert {path.name for path in TEST_FILES} == {f"{area}.test.yml" for area in areas}


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda path: path.name)
def test_rule_file_passes_promtool_check(promtool: str, rule_file: Path) -> None:
    result = run([promtool, "check", "rules", rule_file])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda path: path.name)
def test_promtool_unit_tests_pass(promtool: str, test_file: Path) -> None:
    result = run([promtool, "test", "rules", test_file])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_and_severity_is_unit_tested_firing_and_not_firing() -> None:
    rules = {(rule["alert"], rule["labels"]["severity"]) for rule in alerting_rules()}
    firing: set[tuple[str, str]] = set()
    quiet: set[str] = set()
    for path in TEST_FILES:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                if not case.get("exp_alerts"):
                    quiet.add(case["alertname"])
                for alert in case.get("exp_alerts") or []:
                    firing.add((case["alertname"], alert["exp_labels"]["severity"]))
    assert rules - firing == set(), "alerts never shown firing in alerts/tests"
    assert {name for name, _ in rules} - quiet == set(), "alerts never shown quiet"


def test_every_alert_follows_the_label_and_annotation_conventions() -> None:
    runbook = (ALERTS / "runbook.md").read_text()
    headings = set(re.findall(r"^## (\w+)$", runbook, flags=re.MULTILINE))
    rules = alerting_rules()
    assert len({rule["alert"] for rule in rules}) >= 15
    for rule in rules:
        name, labels, annotations = rule["alert"], rule["labels"], rule["annotations"]
        assert re.fullmatch(r"(?:[A-Z][a-z0-9]*|SLA)+", name), name
        assert labels["severity"] in ("warning", "critical"), name
        if name.startswith("Floorwatch"):
            assert labels["team"] == "floorwatch-ops", name
        else:
            # the team comes from contactcenter_queue_info, never from a static label
            assert "team" not in labels, name
            assert "group_left (team)" in rule["expr"], name
            assert "contactcenter_queue_info" in rule["expr"], name
            for label in ("queue", "channel"):
                assert f"$labels.{label}" in annotations["description"], name
        per_contact_sla = re.search(r"by \([^)]*\bsla\)", rule["expr"])  # one SLA kind each
        links = {"contacts_url"} if per_contact_sla else set()
        assert set(annotations) == {"summary", "description", "runbook_url", *links}, name
        if links:  # the alert's own contacts: its labels as the API's filters
            query = annotations["contacts_url"].split("/api/v1/contacts?")[1]
            assert dict(pair.split("=") for pair in query.split("&")) == {
                "sla": "at_risk" if "at_risk" in rule["expr"] else "breached",
                **{key: f"{{{{ $labels.{key} }}}}" for key in ("queue", "channel", "priority")},
                "kind": "{{ $labels.sla }}",
            }, name
        assert "\n" not in annotations["summary"], name
        assert annotations["runbook_url"] == f"{RUNBOOK_BASE}#{name.lower()}", name
        assert name in headings, f"runbook.md has no section for {name}"
        if name not in VALUELESS:
            assert "$value" in annotations["description"], name


# --------------------------------------------------------------------------- generator


def test_committed_rules_match_the_config() -> None:
    result = run([sys.executable, GENERATE, "--check"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_generator_check_reports_drift_with_a_diff(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ALERTS / "rules", rules)
    assert run([sys.executable, GENERATE, "--check", "--output-dir", rules]).returncode == 0
    queues = rules / "queues.rules.yml"
    queues.write_text(queues.read_text().replace("for: 10m", "for: 5m", 1))
    (rules / "handmade.rules.yml").write_text("groups: []\n")
    result = run([sys.executable, GENERATE, "--check", "--output-dir", rules])
    assert result.returncode == 1
    assert "-        for: 5m" in result.stdout
    assert "+        for: 10m" in result.stdout
    assert "handmade.rules.yml" in result.stdout
    assert "out of date" in result.stderr


def test_generator_writes_a_variant_config_that_promtool_accepts(
    tmp_path: Path, promtool: str
) -> None:
    config = yaml.safe_load((ALERTS / "config.yaml").read_text())
    config["queues"]["service_level"]["warning"]["for"] = "1m"
    config["queues"]["sla"]["matchers"] = ""
    config["pipeline"]["no_events"]["require_traffic_last_week"] = True
    variant = tmp_path / "config.yaml"
    variant.write_text(yaml.safe_dump(config))
    out = tmp_path / "rules"
    result = run([sys.executable, GENERATE, "--config", variant, "--output-dir", out])
    assert result.returncode == 0, result.stderr
    queues = (out / "queues.rules.yml").read_text()
    assert "contactcenter_sla_at_risk_contacts{})" in queues
    assert "for: 1m" in queues
    assert "offset 1w" in (out / "pipeline.rules.yml").read_text()
    for path in sorted(out.glob("*.yml")):
        checked = run([promtool, "check", "rules", path])
        assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("queues", "abandon_ratio", "warning", "above"), 1.5, "is not in [0, 1]"),
        (("queues", "service_level", "critical", "for"), "ten minutes", "is not a duration"),
        (("pipeline", "redis_down", "severity"), "page", "unknown key"),
        (("pipeline", "kafka_unreachable", "critical", "for"), "soon", "is not a duration"),
        (("slo", "burn_rates", 0, "short"), "2h", "must be shorter than long"),
    ],
)
def test_generator_rejects_an_invalid_config_naming_the_key(
    tmp_path: Path, path: tuple[Any, ...], value: object, message: str
) -> None:
    config = yaml.safe_load((ALERTS / "config.yaml").read_text())
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    variant = tmp_path / "config.yaml"
    variant.write_text(yaml.safe_dump(config))
    result = run([sys.executable, GENERATE, "--config", variant, "--output-dir", tmp_path / "o"])
    assert result.returncode == 2
    assert message in result.stderr
    assert str(path[-1]) in result.stderr
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- Alertmanager


def test_alertmanager_config_is_valid(amtool: str) -> None:
    result = run([amtool, "check-config", ALERTMANAGER])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(("team", "receiver"), TEAM_RECEIVERS.items())
@pytest.mark.parametrize("severity", ["critical", "warning"])
def test_each_team_routes_to_its_lead(amtool: str, team: str, receiver: str, severity: str) -> None:
    result = run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={ALERTMANAGER}",
            f"--verify.receivers={receiver}",
            "alertname=ServiceLevelBelowTarget",
            f"severity={severity}",
            f"team={team}",
            "queue=billing",
            "channel=voice",
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


def test_every_scenario_team_has_its_own_route() -> None:
    teams = scenario_teams()
    assert {"tier1", "tier2", "sales"} <= teams
    assert teams - TEAM_RECEIVERS.keys() == set(), "scenario teams without a route"
    config = yaml.safe_load(ALERTMANAGER.read_text())
    routed = {
        match.group(1)
        for route in config["route"]["routes"]
        for matcher in route["matchers"]
        if (match := re.fullmatch(r'team="([^"]+)"', matcher))
    }
    assert teams | {"floorwatch-ops"} <= routed


def test_alertmanager_groups_by_queue_and_keeps_secrets_out() -> None:
    text = ALERTMANAGER.read_text()
    config = yaml.safe_load(text)
    assert config["route"]["group_by"] == ["alertname", "queue", "channel"]
    assert config["route"]["receiver"] == "floorwatch-default"
    for key in ("api_url:", "routing_key:", "service_key:", "auth_password:", "credentials:"):
        assert re.search(rf"^\s*{key}", text, flags=re.MULTILINE) is None, key
    assert "hooks.slack.com" not in text


def test_inhibition_rules_name_real_alerts() -> None:
    config = yaml.safe_load(ALERTMANAGER.read_text())
    rules = config["inhibit_rules"]
    names = {rule["alert"] for rule in alerting_rules()}
    severity = next(rule for rule in rules if rule["source_matchers"] == ['severity="critical"'])
    assert severity["target_matchers"] == ['severity="warning"']
    assert severity["equal"] == ["alertname", "queue", "channel"]
    pipeline = next(rule for rule in rules if rule is not severity)
    (source,) = pipeline["source_matchers"]
    match = re.fullmatch(r'alertname=~"(.+)"', source)
    assert match
    silencers = set(match.group(1).split("|"))
    assert silencers == PIPELINE_DOWN
    assert silencers <= names
    assert pipeline["target_matchers"] == ['queue=~".+"']


# --------------------------------------------------------------------------- Prometheus


def test_prometheus_config_is_valid_and_loads_every_rule_file(promtool: str) -> None:
    result = run([promtool, "check", "config", ALERTS / "prometheus.yml"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in result.stdout
    config = yaml.safe_load((ALERTS / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["job_name"] == yaml.safe_load((ALERTS / "config.yaml").read_text())["job"]
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:9641"]
    alertmanagers = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert alertmanagers == ["127.0.0.1:9093"]
