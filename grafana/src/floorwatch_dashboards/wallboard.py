"""Floor wallboard: one row of large tiles per queue, for a TV across the room."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as dm

from .common import QC, Board, query, runbook_link, stat_panel, steps

UID = "floorwatch-wallboard"

# Default alert thresholds of alerts/config.yaml (voice), so tile colours match the pages.
LONGEST_WAIT = steps(("green", None), ("orange", 120), ("red", 300))
# Colours of the built-in wallboard for the default 80 % target: at or above green, less
# than 5 points below amber, lower red (Grafana thresholds are static per panel).
SERVICE_LEVEL = steps(("red", None), ("orange", 0.75), ("green", 0.8))
ABANDON = steps(("green", None), ("orange", 0.10), ("red", 0.20))
AT_RISK = steps(("green", None), ("orange", 1))
BREACHED = steps(("green", None), ("red", 1))
AVAILABLE = steps(("red", None), ("green", 1))


def _by_channel(metric: str, extra: str = "", how: str = "max") -> str:
    return f"{how} by (queue, channel) ({metric}{{{QC}{extra}}})"


def build() -> dm.Dashboard:
    board = Board(
        UID,
        "Floorwatch / Floor wallboard",
        "One row per queue (repeated by the queue variable), one value per channel: waiting "
        "now, longest wait, service level today and over 15 minutes against the target, "
        "abandonment today, agents available, contacts at risk of and past their SLA.",
        ["wallboard"],
    )
    board.row("$queue", repeat="queue")
    legend = "{{channel}}"
    tiles = [
        stat_panel(
            "Waiting now",
            "Contacts in the queue that wait (contactcenter_contacts_waiting).",
            [query(_by_channel("contactcenter_contacts_waiting"), legend, instant=True)],
            decimals=0,
            large=True,
        ),
        stat_panel(
            "Longest wait",
            "Now minus the entry time of the contact waiting longest. Amber from 120 s, red "
            "from 300 s (LongestWaitHigh, voice defaults).",
            [query(_by_channel("contactcenter_longest_wait_seconds"), legend, instant=True)],
            unit="s",
            thresholds=LONGEST_WAIT,
            links=[runbook_link("LongestWaitHigh")],
            large=True,
        ),
        stat_panel(
            "Service level today",
            "Answered within the answer target ÷ answered + abandoned, since local midnight. "
            "Colours for the default 80 % target (green ≥ 80 %, amber ≥ 75 %); each queue's "
            "own target is on the Queue detail board.",
            [
                query(
                    _by_channel("contactcenter_service_level_ratio", ', window="today"'),
                    legend,
                    instant=True,
                )
            ],
            unit="percentunit",
            thresholds=SERVICE_LEVEL,
            links=[runbook_link("ServiceLevelBelowTarget")],
            decimals=0,
            large=True,
        ),
        stat_panel(
            "Service level 15 min",
            "Service level over the last 15 minutes (the window ServiceLevelBelowTarget "
            "judges). Colours as for today.",
            [
                query(
                    _by_channel("contactcenter_service_level_ratio", ', window="15m"'),
                    legend,
                    instant=True,
                )
            ],
            unit="percentunit",
            thresholds=SERVICE_LEVEL,
            links=[runbook_link("ServiceLevelBelowTarget")],
            decimals=0,
            large=True,
        ),
        stat_panel(
            "Abandoned today",
            "Abandoned ÷ answered + abandoned since local midnight (short abandons excluded). "
            "Amber above 10 %, red above 20 % (AbandonRateHigh).",
            [
                query(
                    _by_channel("contactcenter_abandon_ratio", ', window="today"'),
                    legend,
                    instant=True,
                )
            ],
            unit="percentunit",
            thresholds=ABANDON,
            links=[runbook_link("AbandonRateHigh")],
            decimals=1,
            large=True,
        ),
        stat_panel(
            "Agents available",
            "Agents serving the queue who are available now (all channels of the queue).",
            [
                query(
                    'max by (queue) (contactcenter_agents{queue=~"$queue", state="available"})',
                    "available",
                    instant=True,
                )
            ],
            thresholds=AVAILABLE,
            links=[runbook_link("StaffingGap")],
            decimals=0,
            large=True,
        ),
        stat_panel(
            "At risk",
            "Open contacts due within the at-risk fraction of an SLA target, all priorities "
            "and SLAs (answer, first response, resolution).",
            [
                query(
                    _by_channel("contactcenter_sla_at_risk_contacts", how="sum"),
                    legend,
                    instant=True,
                )
            ],
            thresholds=AT_RISK,
            links=[runbook_link("ContactsAtRiskOfSLABreach")],
            decimals=0,
            large=True,
        ),
        stat_panel(
            "Breached",
            "Open contacts past an SLA due time, all priorities and SLAs.",
            [
                query(
                    _by_channel("contactcenter_sla_breached_contacts", how="sum"),
                    legend,
                    instant=True,
                )
            ],
            thresholds=BREACHED,
            links=[runbook_link("ContactsBreachingSLA")],
            decimals=0,
            large=True,
        ),
    ]
    for tile in tiles:
        board.add(tile)
    # Stat tiles draw no annotations; the other boards show the queue alerts on their graphs.
    board.dashboard.refresh("10s").time("now-15m", "now")
    return board.build()
