"""Floorwatch's Grafana dashboards as code (grafana-foundation-sdk); see grafana/README.md."""

from __future__ import annotations

from collections.abc import Callable

from grafana_foundation_sdk.models import dashboard as dm

from . import pipeline, queue_detail, sla_backlog, staffing, wallboard

# File name (without .json) -> builder. generate.py writes grafana/dashboards/<name>.json.
DASHBOARDS: dict[str, Callable[[], dm.Dashboard]] = {
    "floor-wallboard": wallboard.build,
    "queue-detail": queue_detail.build,
    "sla-backlog": sla_backlog.build,
    "staffing": staffing.build,
    "pipeline-health": pipeline.build,
}
