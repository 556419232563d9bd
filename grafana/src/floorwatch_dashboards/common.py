"""Shared pieces of every Floorwatch dashboard: datasource, variables, queries, panels, links.

Every dashboard reads Prometheus through the `datasource` variable, whose default is the
provisioned datasource with the fixed uid `floorwatch-prometheus`; the variables are chained
datasource -> team -> queue -> channel, each `label_values` query filtered by the previous ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

DATASOURCE_UID = "floorwatch-prometheus"
DATASOURCE_NAME = "Floorwatch Prometheus"
DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
JOB = "floorwatch"
TAG = "floorwatch"
VARIABLES = ("datasource", "team", "queue", "channel")

# Label matchers of the queue metrics (queue x channel series).
QC = 'queue=~"$queue", channel=~"$channel"'
# contactcenter_agents and contactcenter_occupancy_ratio have a queue label but no channel.
Q = 'queue=~"$queue"'

ALERTS_CONFIG = Path(__file__).resolve().parents[3] / "alerts" / "config.yaml"


def runbook_base_url() -> str:
    """The runbook URL of the alerts (one source of truth: alerts/config.yaml)."""
    config = yaml.safe_load(ALERTS_CONFIG.read_text())
    return str(config["runbook_base_url"])


def runbook_link(alertname: str) -> db.DashboardLink:
    return (
        db.DashboardLink(f"Runbook: {alertname}")
        .type(dm.DashboardLinkType.LINK)
        .url(f"{runbook_base_url()}#{alertname.lower()}")
        .target_blank(True)
    )


def query(expr: str, legend: str = "", *, ref: str = "A", instant: bool = False) -> Any:
    target = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        target = target.legend_format(legend)
    return target.instant() if instant else target.range()


def steps(*pairs: tuple[str, float | None]) -> db.ThresholdsConfig:
    """Absolute thresholds: ("green", None) is the base colour, then (colour, from value)."""
    return (
        db.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=value, color=color) for color, value in pairs])
    )


NEUTRAL = steps(("blue", None))


def variables() -> list[cogbuilder.Builder[dm.VariableModel]]:
    def chained(name: str, label: str, selector: str) -> db.QueryVariable:
        return (
            db.QueryVariable(name)
            .label(label)
            .datasource(DATASOURCE)
            .query(f"label_values(contactcenter_queue_info{selector}, {name})")
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dm.VariableSort.ALPHABETICAL_CASE_INSENSITIVE_ASC)
            .multi(True)
            .include_all(True)
            .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
        )

    return [
        db.DatasourceVariable("datasource")
        .label("Data source")
        .type("prometheus")
        .current(dm.VariableOption(selected=True, text=DATASOURCE_NAME, value=DATASOURCE_UID)),
        chained("team", "Team", ""),
        chained("queue", "Queue", '{team=~"$team"}'),
        chained("channel", "Channel", '{team=~"$team", queue=~"$queue"}'),
    ]


# Fields of a Prometheus annotation that the SDK's AnnotationQuery model does not carry;
# generate.py adds them to the JSON (and the schema test strips them before comparing).
ANNOTATION_EXTRAS = {
    "titleFormat": "{{alertname}} ({{severity}})",
    "textFormat": "{{queue}} {{channel}} {{priority}} {{sla}}",
    "tagKeys": "alertname,severity,queue,channel",
    "step": "30s",
    "useValueForTime": False,
}


class Board:
    """One dashboard under construction: fixed uid and tags, the variable chain, panel ids
    assigned in order, and an alert annotation shown on the panels marked `alerts=True`."""

    def __init__(self, uid: str, title: str, description: str, tags: Sequence[str]) -> None:
        self.uid = uid
        self._ids = itertools.count(1)
        self._annotated: list[int] = []
        self.dashboard = (
            db.Dashboard(title)
            .uid(uid)
            .description(description)
            .tags([TAG, *tags])
            .editable()
            .timezone("browser")
            .time("now-6h", "now")
            .refresh("30s")
            .tooltip(dm.DashboardCursorSync.CROSSHAIR)
            .variables(variables())
            .link(
                db.DashboardLink("Floorwatch boards")
                .type(dm.DashboardLinkType.DASHBOARDS)
                .tags([TAG])
                .as_dropdown(True)
                .include_vars(True)
                .keep_time(True)
            )
        )

    def row(self, title: str, *, repeat: str | None = None) -> Board:
        row = db.Row(title).id(next(self._ids))
        if repeat:
            row = row.repeat(repeat)
        self.dashboard.with_row(row)
        return self

    def add(self, panel: Any, *, alerts: bool = False) -> Board:
        panel_id = next(self._ids)
        self.dashboard.with_panel(panel.id(panel_id).datasource(DATASOURCE))
        if alerts:
            self._annotated.append(panel_id)
        return self

    def build(self, alert_matchers: str | None = None) -> dm.Dashboard:
        """`alert_matchers`: label matchers of the ALERTS series to annotate with."""
        if alert_matchers is not None:
            self.dashboard.annotation(
                db.AnnotationQuery()
                .name("Floorwatch alerts")
                .datasource(DATASOURCE)
                .enable(True)
                .icon_color("red")
                .expr(f'ALERTS{{alertstate="firing", {alert_matchers}}}')
                .filter(db.AnnotationPanelFilter().exclude(False).ids(self._annotated))
            )
        return self.dashboard.build()


def stat_panel(
    title: str,
    description: str,
    targets: Iterable[Any],
    *,
    unit: str = "short",
    thresholds: db.ThresholdsConfig = NEUTRAL,
    width: int = 3,
    height: int = 6,
    links: Sequence[db.DashboardLink] = (),
    decimals: float | None = None,
    large: bool = False,
) -> stat.Panel:
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .targets(list(targets))
        .unit(unit)
        .thresholds(thresholds)
        .color_mode(cm.BigValueColorMode.BACKGROUND)
        .graph_mode(cm.BigValueGraphMode.NONE)
        .text_mode(cm.BigValueTextMode.VALUE_AND_NAME)
        .justify_mode(cm.BigValueJustifyMode.CENTER)
        .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .no_value("-")
        .span(width)
        .height(height)
    )
    if large:
        panel = panel.text(cb.VizTextDisplayOptions().title_size(18).value_size(48))
    if decimals is not None:
        panel = panel.decimals(decimals)
    if links:
        panel = panel.links(list(links))
    return panel


def ts_panel(
    title: str,
    description: str,
    targets: Iterable[Any],
    *,
    unit: str = "short",
    width: int = 12,
    height: int = 8,
    stack: bool = False,
    thresholds: db.ThresholdsConfig | None = None,
    links: Sequence[db.DashboardLink] = (),
    min_value: float | None = None,
    max_value: float | None = None,
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .targets(list(targets))
        .unit(unit)
        .fill_opacity(25 if stack else 10)
        .line_width(1)
        .legend(
            cb.VizLegendOptions()
            .display_mode(cm.LegendDisplayMode.TABLE)
            .placement(cm.LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["lastNotNull", "max"])
        )
        .span(width)
        .height(height)
    )
    if stack:
        panel = panel.stacking(cb.StackingConfig().mode(cm.StackingMode.NORMAL))
    if thresholds is not None:
        panel = panel.thresholds(thresholds).thresholds_style(
            cb.GraphThresholdsStyleConfig().mode(cm.GraphThresholdsStyleMode.LINE_AND_AREA)
        )
    if min_value is not None:
        panel = panel.min(min_value)
    if max_value is not None:
        panel = panel.max(max_value)
    if links:
        panel = panel.links(list(links))
    return panel
