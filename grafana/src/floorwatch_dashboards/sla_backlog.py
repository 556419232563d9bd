"""SLA and backlog: breaches and at-risk contacts by priority and SLA type, backlog aging."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as dm

from .common import QC, Board, query, runbook_link, stat_panel, steps, ts_panel

UID = "floorwatch-sla-backlog"
ALERTS = "ContactsAtRiskOfSLABreach|ContactsBreachingSLA|BacklogAging|BacklogGrowing"


def build() -> dm.Dashboard:
    board = Board(
        UID,
        "Floorwatch / SLA and backlog",
        "SLA clocks (answer, first_response, resolution) per priority: contacts breached and "
        "at risk now, breaches over time, and the open backlog by age. Red regions: firing "
        "SLA and backlog alerts.",
        ["sla", "backlog"],
    )
    board.row("Now")
    board.add(
        stat_panel(
            "Breached now",
            "Open contacts past an SLA due time (all priorities and SLAs).",
            [query(f"sum(contactcenter_sla_breached_contacts{{{QC}}})", "breached", instant=True)],
            thresholds=steps(("green", None), ("red", 1)),
            width=4,
            height=5,
            links=[runbook_link("ContactsBreachingSLA")],
            decimals=0,
        )
    )
    board.add(
        stat_panel(
            "At risk now",
            "Open contacts due within the at-risk fraction of their target.",
            [query(f"sum(contactcenter_sla_at_risk_contacts{{{QC}}})", "at risk", instant=True)],
            thresholds=steps(("green", None), ("orange", 1)),
            width=4,
            height=5,
            links=[runbook_link("ContactsAtRiskOfSLABreach")],
            decimals=0,
        )
    )
    board.add(
        stat_panel(
            "Breaches in range",
            "Contacts that breached an SLA within the dashboard's time range "
            "(increase of contactcenter_sla_breaches_total).",
            [
                query(
                    f"sum(increase(contactcenter_sla_breaches_total{{{QC}}}[$__range]))",
                    "breaches",
                    instant=True,
                )
            ],
            thresholds=steps(("green", None), ("orange", 1)),
            width=4,
            height=5,
            decimals=0,
        )
    )
    board.add(
        stat_panel(
            "Backlog older than 4 h",
            "Open contacts older than 4 hours; BacklogAging warns above 50 and pages above 200 "
            "per queue and channel.",
            [
                query(
                    f'sum(contactcenter_backlog_contacts{{{QC}, age=~"4h_24h|ge_24h"}})',
                    "older than 4 h",
                    instant=True,
                )
            ],
            thresholds=steps(("green", None), ("orange", 50), ("red", 200)),
            width=4,
            height=5,
            links=[runbook_link("BacklogAging")],
            decimals=0,
        )
    )
    board.add(
        stat_panel(
            "Open backlog",
            "All open contacts of the chosen queues.",
            [query(f"sum(contactcenter_backlog_contacts{{{QC}}})", "open", instant=True)],
            width=8,
            height=5,
            links=[runbook_link("BacklogGrowing")],
            decimals=0,
        )
    )

    board.row("SLA by priority and type")
    board.add(
        ts_panel(
            "Breached contacts by priority and SLA",
            "contactcenter_sla_breached_contacts summed by priority and SLA.",
            [
                query(
                    f"sum by (priority, sla) (contactcenter_sla_breached_contacts{{{QC}}})",
                    "{{priority}} {{sla}}",
                )
            ],
            width=8,
            stack=True,
            links=[runbook_link("ContactsBreachingSLA")],
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "At-risk contacts by priority and SLA",
            "contactcenter_sla_at_risk_contacts summed by priority and SLA.",
            [
                query(
                    f"sum by (priority, sla) (contactcenter_sla_at_risk_contacts{{{QC}}})",
                    "{{priority}} {{sla}}",
                )
            ],
            width=8,
            stack=True,
            links=[runbook_link("ContactsAtRiskOfSLABreach")],
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Breaches per rate interval",
            "New SLA breaches (increase of contactcenter_sla_breaches_total) by SLA and "
            "priority in each rate interval.",
            [
                query(
                    "sum by (priority, sla) (increase(contactcenter_sla_breaches_total"
                    f"{{{QC}}}[$__rate_interval]))",
                    "{{priority}} {{sla}}",
                )
            ],
            width=8,
            stack=True,
            links=[runbook_link("ContactsBreachingSLA")],
        ),
        alerts=True,
    )

    board.row("Backlog aging")
    board.add(
        ts_panel(
            "Backlog by age",
            "Open contacts by age since first entry: lt_1h, 1h_4h, 4h_24h, ge_24h.",
            [
                query(
                    f"sum by (age) (contactcenter_backlog_contacts{{{QC}}})",
                    "{{age}}",
                )
            ],
            width=12,
            stack=True,
            links=[runbook_link("BacklogAging"), runbook_link("BacklogGrowing")],
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Backlog older than 4 h by queue",
            "Per queue and channel, the series BacklogAging judges (> 50 warning, > 200 "
            "critical, for 30 minutes).",
            [
                query(
                    "sum by (queue, channel) "
                    f'(contactcenter_backlog_contacts{{{QC}, age=~"4h_24h|ge_24h"}})',
                    "{{queue}}/{{channel}}",
                )
            ],
            width=12,
            thresholds=steps(("transparent", None), ("orange", 50), ("red", 200)),
            links=[runbook_link("BacklogAging")],
        ),
        alerts=True,
    )
    return board.build(f'alertname=~"{ALERTS}", {QC}')
