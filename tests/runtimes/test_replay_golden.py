"""Golden replay: a generated multi-queue day through the full CLI, checked against the
generator's own ground truth (computed from what it decided, not from our output)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.daygen import DayPlan, write_day
from tests.support.helpers import Metrics

pytestmark = pytest.mark.slow

CONFIG = """
timezone = "Europe/Berlin"
[[targets]]
channel = "chat"
answer_within_seconds = 30
"""


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> tuple[Metrics, dict, str]:
    work = tmp_path_factory.mktemp("golden")
    events = work / "day.jsonl"
    truth = write_day(DayPlan(seed=11, contacts=1500, day="2026-11-20"), events).to_dict()
    config = work / "floorwatch.toml"
    config.write_text(CONFIG)
    out = work / "metrics.prom"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streams",
            "replay",
            str(events),
            "--config",
            str(config),
            "--metrics-out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return Metrics(out.read_text()), truth, done.stderr


def pairs(truth: dict) -> list[dict]:
    return truth["queues"]


def test_no_event_of_the_generated_day_is_rejected(golden: tuple[Metrics, dict, str]) -> None:
    metrics, truth, stderr = golden
    assert "rejected" not in stderr
    for type_, count in truth["events_by_type"].items():
        assert metrics.get("contactcenter_events_processed_total", type=type_) == count, type_


@pytest.mark.parametrize(
    ("metric", "key"),
    [
        ("contactcenter_contacts_offered_total", "offered"),
        ("contactcenter_contacts_answered_total", "answered"),
        ("contactcenter_contacts_abandoned_total", "abandoned"),
        ("contactcenter_contacts_short_abandoned_total", "short_abandoned"),
        ("contactcenter_contacts_answered_within_target_total", "answered_within_target"),
        ("contactcenter_contacts_resolved_total", "resolved"),
        ("contactcenter_contacts_reopened_total", "reopened"),
        ("contactcenter_contacts_transferred_total", "transferred_out"),
        ("contactcenter_wait_seconds_count", "answered"),
        ("contactcenter_handle_seconds_count", "handle_count"),
        ("contactcenter_first_response_seconds_count", "first_response_count"),
        ("contactcenter_resolution_seconds_count", "resolution_count"),
    ],
)
def test_counters_equal_the_truth(golden: tuple[Metrics, dict, str], metric: str, key: str) -> None:
    metrics, truth, _ = golden
    for pair in pairs(truth):
        labels = {"queue": pair["queue"], "channel": pair["channel"]}
        assert metrics.get(metric, **labels) == pair[key], (metric, labels)


@pytest.mark.parametrize(
    ("metric", "key"),
    [
        ("contactcenter_wait_seconds_sum", "wait_sum"),
        ("contactcenter_handle_seconds_sum", "handle_sum"),
        ("contactcenter_first_response_seconds_sum", "first_response_sum"),
        ("contactcenter_resolution_seconds_sum", "resolution_sum"),
    ],
)
def test_duration_sums_equal_the_truth(
    golden: tuple[Metrics, dict, str], metric: str, key: str
) -> None:
    metrics, truth, _ = golden
    count_metric = metric.replace("_sum", "_count")
    for pair in pairs(truth):
        labels = {"queue": pair["queue"], "channel": pair["channel"]}
        value = metrics.get(metric, **labels)
        # Event times are float epoch seconds (ulp 2.4e-7 near 1.8e9): each duration may be
        # off by that much, so the tolerance grows with the number of terms.
        tolerance = 2.5e-7 * (metrics.get(count_metric, **labels) or 0) + 1e-9
        assert value == pytest.approx(pair[key], abs=tolerance), (metric, labels)


def test_today_window_equals_the_whole_day(golden: tuple[Metrics, dict, str]) -> None:
    """Every event is inside the local day, so `today` at the last event is the whole day."""
    metrics, truth, _ = golden
    for pair in pairs(truth):
        labels = {"queue": pair["queue"], "channel": pair["channel"], "window": "today"}
        assert metrics.get("contactcenter_offered_contacts", **labels) == pair["offered"]
        if pair["answered"]:
            assert metrics.get("contactcenter_wait_seconds_max", **labels) == pytest.approx(
                pair["wait_max"], abs=1e-6
            )
            assert metrics.get("contactcenter_wait_seconds_average", **labels) == pytest.approx(
                pair["wait_sum"] / pair["answered"]
            )
        if pair["resolved"]:
            assert metrics.get("contactcenter_first_contact_resolution_ratio", **labels) == (
                pytest.approx(pair["fcr_yes"] / pair["resolved"])
            )
            assert metrics.get("contactcenter_reopen_ratio", **labels) == pytest.approx(
                pair["reopened"] / pair["resolved"]
            )
        if pair["csat_count"]:
            assert metrics.get("contactcenter_csat_ratio", **labels) == pytest.approx(
                pair["csat_satisfied"] / pair["csat_count"]
            )
            assert metrics.get("contactcenter_csat_score_average", **labels) == pytest.approx(
                pair["csat_sum"] / pair["csat_count"]
            )
        if pair["ces_count"]:
            assert metrics.get("contactcenter_ces_score_average", **labels) == pytest.approx(
                pair["ces_sum"] / pair["ces_count"]
            )
        if pair["nps_count"]:
            assert metrics.get("contactcenter_nps_score", **labels) == pytest.approx(
                100 * (pair["nps_promoters"] - pair["nps_detractors"]) / pair["nps_count"]
            )


def test_backlog_at_the_end_equals_the_truth(golden: tuple[Metrics, dict, str]) -> None:
    metrics, truth, _ = golden
    for pair in pairs(truth):
        for age, count in pair["backlog_at_end"].items():
            got = metrics.get(
                "contactcenter_backlog_contacts",
                queue=pair["queue"],
                channel=pair["channel"],
                age=age,
            )
            assert got == count, (pair["queue"], pair["channel"], age)


def test_agents_by_state_at_the_end_equal_the_truth(golden: tuple[Metrics, dict, str]) -> None:
    metrics, truth, _ = golden
    for queue, states in truth["agents_at_end"].items():
        for state in ("available", "on_contact", "after_contact_work", "away", "offline"):
            assert metrics.get("contactcenter_agents", queue=queue, state=state) == states.get(
                state, 0
            ), (queue, state)


def test_exposition_passes_promtool(golden: tuple[Metrics, dict, str], promtool: str) -> None:
    metrics, _, _ = golden
    check = subprocess.run(
        [promtool, "check", "metrics"],
        input=metrics.text,
        text=True,
        capture_output=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_every_contract_name_is_exported(golden: tuple[Metrics, dict, str]) -> None:
    """Every name of metrics.md (live, window, counters and histograms, staffing, pipeline)."""
    metrics, _, _ = golden
    contract = """
    contacts_waiting longest_wait_seconds backlog_contacts sla_breached_contacts
    sla_at_risk_contacts agents
    offered_contacts answered_contacts abandoned_contacts short_abandoned_contacts
    abandon_ratio service_level_ratio wait_seconds_average wait_seconds_max
    wait_seconds_quantile first_response_seconds_average first_response_seconds_quantile
    handle_seconds_average resolution_seconds_average first_contact_resolution_ratio
    reopen_ratio csat_ratio csat_score_average ces_score_average nps_score occupancy_ratio
    contacts_offered_total contacts_answered_total contacts_abandoned_total
    contacts_short_abandoned_total contacts_answered_within_target_total
    contacts_resolved_total sla_breaches_total
    wait_seconds_bucket first_response_seconds_bucket handle_seconds_bucket
    resolution_seconds_bucket
    events_processed_total events_rejected_total events_duplicate_total events_late_total
    last_event_timestamp_seconds event_processing_lag_seconds_bucket
    staffing_required_agents staffing_staffed_agents staffing_gap_agents
    staffing_projected_service_level_ratio
    """
    missing = {"contactcenter_" + n for n in contract.split()} - metrics.names()
    assert not missing


def test_window_labels_and_quantiles(golden: tuple[Metrics, dict, str]) -> None:
    metrics, _, _ = golden
    labels = {"queue": "billing", "channel": "voice"}
    for window in ("5m", "15m", "1h", "today"):
        assert metrics.get("contactcenter_offered_contacts", window=window, **labels) is not None
    for q in ("0.5", "0.9"):
        assert (
            metrics.get("contactcenter_wait_seconds_quantile", window="today", quantile=q, **labels)
            is not None
        )


def test_histogram_bounds_include_the_configured_targets(golden: tuple[Metrics, dict, str]) -> None:
    metrics, _, _ = golden
    les = {dict(k)["le"] for k in metrics.matching("contactcenter_wait_seconds_bucket")}
    assert {"20", "30"} <= les  # default voice target 20 s, chat target 30 s
    frt = {dict(k)["le"] for k in metrics.matching("contactcenter_first_response_seconds_bucket")}
    assert {"120", "3600", "14400"} <= frt  # built-in chat/email targets and the default
