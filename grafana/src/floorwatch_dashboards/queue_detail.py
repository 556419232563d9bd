"""Queue detail: volumes, waits, handling times, backlog and satisfaction of the chosen queues."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as dm

from .common import QC, Board, query, runbook_link, steps, ts_panel

UID = "floorwatch-queue-detail"
QUEUE_ALERTS = "ServiceLevelBelowTarget|ServiceLevelErrorBudgetBurn|AbandonRateHigh|LongestWaitHigh"
LEGEND = "{{queue}}/{{channel}}"


def _rate(counter: str) -> str:
    """Contacts per minute from a `_total` counter."""
    return f"sum by (queue, channel) (rate({counter}{{{QC}}}[$__rate_interval])) * 60"


def _gauge(metric: str, window: str) -> str:
    return f'max by (queue, channel) ({metric}{{{QC}, window="{window}"}})'


def build() -> dm.Dashboard:
    board = Board(
        UID,
        "Floorwatch / Queue detail",
        "Trends of the chosen queues: contacts offered, answered and abandoned (rates of the "
        "_total counters), service level and abandonment against target, waits (average, "
        "sketch quantiles and histogram quantiles), first response, handle and resolution "
        "times, backlog by age and customer satisfaction. Red regions: firing queue alerts.",
        ["queues"],
    )

    board.row("Volume and service level")
    board.add(
        ts_panel(
            "Contacts per minute",
            "Offered, answered and abandoned contacts per minute, from the counters "
            "contactcenter_contacts_{offered,answered,abandoned}_total.",
            [
                query(_rate("contactcenter_contacts_offered_total"), f"offered {LEGEND}"),
                query(
                    _rate("contactcenter_contacts_answered_total"), f"answered {LEGEND}", ref="B"
                ),
                query(
                    _rate("contactcenter_contacts_abandoned_total"), f"abandoned {LEGEND}", ref="C"
                ),
            ],
            unit="short",
            width=8,
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Service level (15 min) and target",
            "contactcenter_service_level_ratio over the 15-minute window, and the queue's own "
            "target (contactcenter_service_level_target_ratio, voice and chat).",
            [
                query(_gauge("contactcenter_service_level_ratio", "15m"), LEGEND),
                query(
                    f"max by (queue, channel) (contactcenter_service_level_target_ratio{{{QC}}})",
                    f"target {LEGEND}",
                    ref="B",
                ),
            ],
            unit="percentunit",
            width=8,
            min_value=0,
            max_value=1,
            links=[
                runbook_link("ServiceLevelBelowTarget"),
                runbook_link("ServiceLevelErrorBudgetBurn"),
            ],
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Abandon ratio (15 min)",
            "Abandoned ÷ answered + abandoned over 15 minutes; AbandonRateHigh warns above 10 % "
            "and pages above 20 %.",
            [query(_gauge("contactcenter_abandon_ratio", "15m"), LEGEND)],
            unit="percentunit",
            width=8,
            min_value=0,
            thresholds=steps(("transparent", None), ("orange", 0.10), ("red", 0.20)),
            links=[runbook_link("AbandonRateHigh")],
        ),
        alerts=True,
    )

    board.row("Waits")
    board.add(
        ts_panel(
            "Wait (15 min window)",
            "Average and maximum wait of answered contacts, and the sketch quantiles p50/p90 "
            "(contactcenter_wait_seconds_quantile), over the 15-minute window.",
            [
                query(_gauge("contactcenter_wait_seconds_average", "15m"), f"avg {LEGEND}"),
                query(
                    "max by (queue, channel, quantile) "
                    f'(contactcenter_wait_seconds_quantile{{{QC}, window="15m"}})',
                    f"p{{{{quantile}}}} {LEGEND}",
                    ref="B",
                ),
                query(_gauge("contactcenter_wait_seconds_max", "15m"), f"max {LEGEND}", ref="C"),
            ],
            unit="s",
            width=8,
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Wait percentiles (histogram)",
            "histogram_quantile over the rate of contactcenter_wait_seconds_bucket: p50 and p90 "
            "of the waits of contacts answered within each rate interval (bucket bounds include "
            "every configured answer target).",
            [
                query(
                    "histogram_quantile(0.5, sum by (queue, channel, le) "
                    f"(rate(contactcenter_wait_seconds_bucket{{{QC}}}[$__rate_interval])))",
                    f"p50 {LEGEND}",
                ),
                query(
                    "histogram_quantile(0.9, sum by (queue, channel, le) "
                    f"(rate(contactcenter_wait_seconds_bucket{{{QC}}}[$__rate_interval])))",
                    f"p90 {LEGEND}",
                    ref="B",
                ),
            ],
            unit="s",
            width=8,
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "Waiting now and longest wait",
            "Contacts waiting now (left axis) and the longest current wait in seconds.",
            [
                query(
                    f"max by (queue, channel) (contactcenter_contacts_waiting{{{QC}}})",
                    f"waiting {LEGEND}",
                ),
                query(
                    f"max by (queue, channel) (contactcenter_longest_wait_seconds{{{QC}}})",
                    f"longest wait (s) {LEGEND}",
                    ref="B",
                ),
            ],
            width=8,
            links=[runbook_link("LongestWaitHigh")],
        ),
        alerts=True,
    )

    board.row("Handling")
    board.add(
        ts_panel(
            "First response time (1 h window)",
            "First response - first entry (voice: first answer): average and sketch quantiles "
            "over the last hour.",
            [
                query(
                    _gauge("contactcenter_first_response_seconds_average", "1h"), f"avg {LEGEND}"
                ),
                query(
                    "max by (queue, channel, quantile) "
                    f'(contactcenter_first_response_seconds_quantile{{{QC}, window="1h"}})',
                    f"p{{{{quantile}}}} {LEGEND}",
                    ref="B",
                ),
            ],
            unit="s",
            width=8,
        ),
    )
    board.add(
        ts_panel(
            "Average handle time (1 h window)",
            "AHT = wrap-up (or end) - answer; with average hold and after-contact work.",
            [
                query(_gauge("contactcenter_handle_seconds_average", "1h"), f"AHT {LEGEND}"),
                query(
                    _gauge("contactcenter_hold_seconds_average", "1h"), f"hold {LEGEND}", ref="B"
                ),
                query(
                    _gauge("contactcenter_after_contact_work_seconds_average", "1h"),
                    f"ACW {LEGEND}",
                    ref="C",
                ),
            ],
            unit="s",
            width=8,
        ),
    )
    board.add(
        ts_panel(
            "Resolution time",
            "Average resolution time over the last hour (resolved - first entry), and p90 from "
            "the contactcenter_resolution_seconds histogram over the rate interval.",
            [
                query(_gauge("contactcenter_resolution_seconds_average", "1h"), f"avg {LEGEND}"),
                query(
                    "histogram_quantile(0.9, sum by (queue, channel, le) "
                    f"(rate(contactcenter_resolution_seconds_bucket{{{QC}}}[$__rate_interval])))",
                    f"p90 {LEGEND}",
                    ref="B",
                ),
            ],
            unit="s",
            width=8,
        ),
    )

    board.row("Backlog and satisfaction")
    board.add(
        ts_panel(
            "Backlog by age",
            "Open contacts by age since first entry (contactcenter_backlog_contacts).",
            [
                query(
                    f"sum by (age) (contactcenter_backlog_contacts{{{QC}}})",
                    "{{age}}",
                )
            ],
            width=8,
            stack=True,
            links=[runbook_link("BacklogAging"), runbook_link("BacklogGrowing")],
        ),
        alerts=True,
    )
    board.add(
        ts_panel(
            "CSAT and FCR (today)",
            "Share of CSAT answers of 4 or 5, first-contact resolution and reopen ratios since "
            "local midnight.",
            [
                query(_gauge("contactcenter_csat_ratio", "today"), f"CSAT {LEGEND}"),
                query(
                    _gauge("contactcenter_first_contact_resolution_ratio", "today"),
                    f"FCR {LEGEND}",
                    ref="B",
                ),
                query(_gauge("contactcenter_reopen_ratio", "today"), f"reopened {LEGEND}", ref="C"),
            ],
            unit="percentunit",
            width=8,
            min_value=0,
            max_value=1,
        ),
    )
    board.add(
        ts_panel(
            "CSAT score, CES and NPS (today)",
            "Average CSAT (1-5) and CES scores (left), NPS (% promoters - % detractors, -100 to "
            "100) since local midnight.",
            [
                query(_gauge("contactcenter_csat_score_average", "today"), f"CSAT {LEGEND}"),
                query(_gauge("contactcenter_ces_score_average", "today"), f"CES {LEGEND}", ref="B"),
                query(_gauge("contactcenter_nps_score", "today"), f"NPS {LEGEND}", ref="C"),
            ],
            width=8,
        ),
    )
    return board.build(f'alertname=~"{QUEUE_ALERTS}|BacklogAging|BacklogGrowing", {QC}')
