"""Staffing: real-time Erlang C requirement against the agents serving each queue."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as dm

from .common import QC, Board, Q, query, runbook_link, steps, ts_panel

UID = "floorwatch-staffing"
LEGEND = "{{queue}}/{{channel}}"


def _gauge(metric: str) -> str:
    return f"max by (queue, channel) ({metric}{{{QC}}})"


def build() -> dm.Dashboard:
    board = Board(
        UID,
        "Floorwatch / Staffing",
        "Real-time Erlang C per queue and channel: agents required to meet the target at the "
        "current arrival rate and handle time, agents staffed, the gap, and the service level "
        "projected with the staffed agents. Red regions: StaffingGap and service-level alerts.",
        ["staffing"],
    )
    board.row("Requirement")
    board.add(
        ts_panel(
            "Required vs staffed agents",
            "contactcenter_staffing_required_agents (Erlang C with occupancy cap and shrinkage; "
            "email/messaging/social: workload) and contactcenter_staffing_staffed_agents "
            "(available, on contact or in after-contact work).",
            [
                query(_gauge("contactcenter_staffing_required_agents"), f"required {LEGEND}"),
                query(
                    _gauge("contactcenter_staffing_staffed_agents"),
                    f"staffed {LEGEND}",
                    ref="B",
                ),
            ],
            width=12,
            links=[runbook_link("StaffingGap")],
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Staffing gap",
            "Required - staffed (positive: agents short). StaffingGap warns at 1 and pages at 3 "
            "for 15 minutes.",
            [query(_gauge("contactcenter_staffing_gap_agents"), LEGEND)],
            width=12,
            thresholds=steps(("transparent", None), ("orange", 1), ("red", 3)),
            links=[runbook_link("StaffingGap")],
        ),
        alerts=True,
    )
    board.row("Projection and load")
    board.add(
        ts_panel(
            "Projected service level vs target",
            "Erlang C service level with the staffed agents (voice and chat; 0 when staffed ≤ "
            "offered load) and the queue's target.",
            [
                query(
                    _gauge("contactcenter_staffing_projected_service_level_ratio"),
                    f"projected {LEGEND}",
                ),
                query(
                    _gauge("contactcenter_service_level_target_ratio"),
                    f"target {LEGEND}",
                    ref="B",
                ),
            ],
            unit="percentunit",
            width=12,
            min_value=0,
            max_value=1,
            links=[runbook_link("ServiceLevelBelowTarget")],
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Offered load",
            "Offered load in Erlangs (arrival rate x AHT) and the arrival rate per hour.",
            [
                query(_gauge("contactcenter_staffing_offered_load_erlangs"), f"Erlangs {LEGEND}"),
                query(
                    f"{_gauge('contactcenter_staffing_arrival_rate_per_second')} * 3600",
                    f"arrivals/h {LEGEND}",
                    ref="B",
                ),
            ],
            width=6,
        ),
    )
    board.add(
        ts_panel(
            "Handle time used by Erlang C",
            "AHT over the staffing handle window (default 1 h), or the default AHT before any "
            "contact completed.",
            [query(_gauge("contactcenter_staffing_handle_seconds"), LEGEND)],
            unit="s",
            width=6,
        ),
    )
    board.row("Agents")
    board.add(
        ts_panel(
            "Agents by state",
            "Agents serving the chosen queues by state (an agent is counted in every queue "
            "they serve; no channel label).",
            [query(f"sum by (state) (contactcenter_agents{{{Q}}})", "{{state}}")],
            width=12,
            stack=True,
        ),
    )
    board.add(
        ts_panel(
            "Occupancy (15 min window)",
            "(on contact + after-contact work time) ÷ (that + available time) of the agents "
            "serving the queue.",
            [
                query(
                    f'max by (queue) (contactcenter_occupancy_ratio{{{Q}, window="15m"}})',
                    "{{queue}}",
                )
            ],
            unit="percentunit",
            width=12,
            min_value=0,
            max_value=1,
        ),
    )
    return board.build(
        f'alertname=~"StaffingGap|ServiceLevelBelowTarget|ServiceLevelErrorBudgetBurn", {QC}'
    )
