"""Prometheus exposition of an engine: `exposition` (the text, fast, with queue selection)
and `EngineCollector`, the reference collector that says what is exported. Every name of
docs/spec/metrics.md plus a few documented additions; a ratio or average whose
denominator is empty is not exported (no sample), never 0 or NaN.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from streams.core import sketch
from streams.core.contract import AGENT_STATES, BACKLOG_AGES, PRIORITIES, SLA_KINDS
from streams.core.histogram import Histogram
from streams.core.queues import QueueChannel
from streams.core.sla import ANSWER, sla_applies, sla_index
from streams.read.exposition_text import (
    COUNTERS,
    HELP,
    HISTOGRAMS,
    QUANTILES,
    STAFFING,
    WINDOWED,
    P,
    renderer_of,
)
from streams.read.values import staffing_view, window_values
from streams.read.view import ReadView

QC = ("queue", "channel")
QCW = ("queue", "channel", "window")
SLA_LABELS = (*QC, "priority", "sla")


def _gauge(name: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(P + name, HELP[name], labels=labels)


def _counter(name: str, labels: tuple[str, ...] = ()) -> CounterMetricFamily:
    return CounterMetricFamily(P + name, HELP[name], labels=labels)


def _histogram(name: str, labels: tuple[str, ...]) -> HistogramMetricFamily:
    return HistogramMetricFamily(P + name, HELP[name], labels=labels)


def _add_histogram(family: HistogramMetricFamily, values: list[str], hist: Histogram) -> None:
    family.add_metric(values, hist.cumulative(), hist.total)


class EngineCollector(Collector):
    """The Prometheus collector of a running engine (any `ReadView`), rendered fresh on
    every scrape: live state, window gauges, counters and histograms, staffing and
    pipeline health. The reference `exposition` renders the same text from."""

    def __init__(self, engine: ReadView) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        engine = self.engine
        engine.advance(engine.clock.now())
        board = engine.queues
        tracked = sorted(board.tracked, key=lambda qc: (qc.queue, qc.channel))
        yield from self._live(tracked)
        yield from self._windows(tracked)
        yield from self._counters(tracked)
        yield from self._staffing(tracked)
        yield from self._pipeline()

    # ------------------------------------------------------------------ live state

    def _live(self, tracked: list[QueueChannel]) -> Iterator[Metric]:
        board = self.engine.queues
        waiting = _gauge("contacts_waiting", QC)
        longest = _gauge("longest_wait_seconds", QC)
        backlog = _gauge("backlog_contacts", (*QC, "age"))
        breached = _gauge("sla_breached_contacts", SLA_LABELS)
        at_risk = _gauge("sla_at_risk_contacts", SLA_LABELS)
        info = _gauge("queue_info", (*QC, "team"))
        target = _gauge("service_level_target_ratio", QC)
        answer_target = _gauge("answer_target_seconds", QC)
        for qc in tracked:
            labels = [qc.queue, qc.channel]
            view = board.live(qc)
            waiting.add_metric(labels, view.waiting)
            longest.add_metric(labels, view.longest_wait)
            for age, count in zip(BACKLOG_AGES, view.backlog, strict=True):
                backlog.add_metric([*labels, age], count)
            for p, priority in enumerate(PRIORITIES):
                for k, kind in enumerate(SLA_KINDS):
                    if sla_applies(k, qc.channel):
                        breached.add_metric([*labels, priority, kind], qc.breached[sla_index(p, k)])
                        at_risk.add_metric([*labels, priority, kind], qc.at_risk[sla_index(p, k)])
            targets = self.engine.targets.get(qc.queue, qc.channel, "normal")
            team = qc.team or targets.team or ""
            info.add_metric([*labels, team], 1)
            if sla_applies(ANSWER, qc.channel):
                target.add_metric(labels, targets.service_level_target)
                answer_target.add_metric(labels, targets.answer_within_seconds)
        yield from (waiting, longest, backlog, breached, at_risk, info, target, answer_target)
        agents = _gauge("agents", ("queue", "state"))
        board_agents = self.engine.agents
        for name in sorted(board_agents.queues):
            counts = board_agents.queues[name].counts
            for state, count in zip(AGENT_STATES, counts, strict=True):
                agents.add_metric([name, state], count)
        yield agents
        yield self._agents_by_reason()
        in_state = _histogram("agent_state_seconds", ("queue", "state"))
        for name in sorted(board_agents.queues):
            histograms = board_agents.queues[name].state_seconds
            for state, hist in zip(AGENT_STATES, histograms, strict=True):
                _add_histogram(in_state, [name, state], hist)
        yield in_state

    def _agents_by_reason(self) -> Metric:
        """Agents by state and reason per queue: the configured reasons by name, any other
        as "other", none as "none". Every queue exports its away agents for each configured
        reason, "other" and "none" (0 when none), other states when they have agents."""
        family = _gauge("agents_by_reason", ("queue", "state", "reason"))
        reasons = self.engine.settings.agents.reasons
        known = frozenset(reasons)
        always = [("away", r) for r in (*reasons, "other", "none")]
        board_agents = self.engine.agents
        for name in sorted(board_agents.queues):
            counts = board_agents.queues[name].by_reason(known)
            for key in always:
                counts.setdefault(key, 0)
            for (state, reason), count in sorted(counts.items()):
                family.add_metric([name, state, reason], count)
        return family

    # ------------------------------------------------------------------ windows

    def _windows(self, tracked: list[QueueChannel]) -> Iterator[Metric]:
        engine = self.engine
        families = {name: _gauge(name, QCW) for name in WINDOWED}
        wait_q = Metric(P + "wait_seconds_quantile", HELP["wait_seconds_quantile"], "summary")
        frt_q = Metric(
            P + "first_response_seconds_quantile",
            HELP["first_response_seconds_quantile"],
            "summary",
        )
        for qc in tracked:
            formula = engine.targets.get(qc.queue, qc.channel, "normal").service_level_formula
            for window, summary in engine.queues.windows(qc).items():
                labels = [qc.queue, qc.channel, window]
                for name, value in window_values(summary, formula).items():
                    if value is not None:
                        families[name].add_metric(labels, value)
                _quantiles(wait_q, labels, summary.wait_bins, summary.wait_sum)
                _quantiles(frt_q, labels, summary.frt_bins, summary.frt_sum)
        yield from families.values()
        yield from (wait_q, frt_q)
        occupancy = _gauge("occupancy_ratio", ("queue", "window"))
        agents = engine.agents
        for name in sorted(agents.queues):
            for window, times in agents.occupancy(name).items():
                value = times.occupancy()
                if value is not None:
                    occupancy.add_metric([name, window], value)
        yield occupancy

    # ------------------------------------------------------------------ counters

    def _counters(self, tracked: list[QueueChannel]) -> Iterator[Metric]:
        for name, attr in COUNTERS:
            family = _counter(name, QC)
            for qc in tracked:
                family.add_metric([qc.queue, qc.channel], getattr(qc, attr))
            yield family
        breaches = _counter("sla_breaches", SLA_LABELS)
        for qc in tracked:
            for p, priority in enumerate(PRIORITIES):
                for k, kind in enumerate(SLA_KINDS):
                    if sla_applies(k, qc.channel):
                        breaches.add_metric(
                            [qc.queue, qc.channel, priority, kind],
                            qc.breaches_total[sla_index(p, k)],
                        )
        yield breaches
        for name, attr in HISTOGRAMS:
            histogram = _histogram(name, QC)
            for qc in tracked:
                _add_histogram(histogram, [qc.queue, qc.channel], getattr(qc, attr))
            yield histogram

    # ------------------------------------------------------------------ staffing

    def _staffing(self, tracked: list[QueueChannel]) -> Iterator[Metric]:
        families = [_gauge(name, QC) for name in STAFFING]
        for qc in tracked:
            view = staffing_view(self.engine, qc)
            labels = [qc.queue, qc.channel]
            values = (
                view.required,
                view.staffed,
                view.gap,
                view.projected_service_level,
                view.arrivals_per_second,
                view.aht_seconds,
                view.load_erlangs,
            )
            for family, value in zip(families, values, strict=True):
                if value is not None:
                    family.add_metric(labels, value)
        yield from families

    # ------------------------------------------------------------------ pipeline

    def _pipeline(self) -> Iterator[Metric]:
        engine = self.engine
        pipeline = engine.pipeline
        processed = _counter("events_processed", ("type",))
        for type_, count in pipeline.processed.items():
            processed.add_metric([type_], count)
        rejected = _counter("events_rejected", ("reason",))
        for reason, count in pipeline.rejected.items():
            rejected.add_metric([reason], count)
        ignored = _counter("events_ignored", ("reason",))
        for reason, count in sorted(pipeline.ignored.items()):
            ignored.add_metric([reason], count)
        yield from (processed, rejected, ignored)
        duplicate = _counter("events_duplicate")
        duplicate.add_metric([], pipeline.duplicates)
        late = _counter("events_late")
        late.add_metric([], pipeline.late)
        yield from (duplicate, late)
        last = _gauge("last_event_timestamp_seconds")
        if pipeline.last_event_ts is not None:
            last.add_metric([], pipeline.last_event_ts)
        yield last
        lag = _histogram("event_processing_lag_seconds", ())
        _add_histogram(lag, [], pipeline.lag)
        yield lag
        for name, value in (
            ("events_parked", engine.parked_count),
            ("contacts_tracked", engine.contacts_tracked),
            ("overflow_queue_channels", engine.queues.overflow_queue_channels),
        ):
            family = _gauge(name)
            family.add_metric([], value)
            yield family


def _quantiles(family: Metric, labels: list[str], bins: dict[int, int], total: float) -> None:
    """A window's quantiles as a Prometheus summary: quantile samples plus _sum and _count."""
    count = sum(bins.values())
    names = dict(zip(QCW, labels, strict=True))
    if count:
        for q in QUANTILES:
            value = sketch.quantile(bins, q)
            family.add_sample(family.name, {**names, "quantile": str(q)}, value or 0.0)
    family.add_sample(family.name + "_sum", names, total)
    family.add_sample(family.name + "_count", names, count)


def exposition(
    engine: ReadView,
    *extra: Collector,
    queues: frozenset[str] | None = None,
    pipeline: bool | None = None,
) -> bytes:
    """The Prometheus text exposition of an engine and `extra` collectors. `queues`: only
    the series of these queues; `pipeline`: series without a queue label (pipeline health,
    `extra`), by default only when `queues` is None. Same text as `reference_exposition`."""
    return renderer_of(engine).render(*extra, queues=queues, pipeline=pipeline)


def exposition_chunks(
    engine: ReadView,
    *extra: Collector,
    queues: frozenset[str] | None = None,
    pipeline: bool | None = None,
) -> Iterator[bytes]:
    """`exposition` as byte chunks to stream: the engine is read when this is called, the
    chunks (a family each) are joined and encoded as they are taken."""
    return renderer_of(engine).chunks(*extra, queues=queues, pipeline=pipeline)


def reference_exposition(engine: ReadView, *extra: Collector) -> bytes:
    """The exposition by prometheus_client's generate_latest over `EngineCollector` (fresh
    registry: our collectors only): slower, the reference the fast text is tested against."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(engine))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


PIPELINE_CHOICES = {"": None, "1": True, "true": True, "0": False, "false": False}


def metrics_selection(
    queues: frozenset[str] | None, pipeline: str | None
) -> tuple[frozenset[str] | None, bool | None]:
    """`queues=` and `pipeline=` of `exposition` for `/metrics?queue=&team=&pipeline=`:
    `queues` as the query names them (None: every queue); `pipeline` 1/true or 0/false adds
    or leaves out the series without a queue label, `only` answers with them alone.
    ValueError for any other `pipeline`."""
    text = (pipeline or "").strip().lower()
    if text == "only":
        return frozenset(), True
    if text not in PIPELINE_CHOICES:
        raise ValueError(f"pipeline={pipeline}: expected 1, 0, true, false or only")
    return queues, PIPELINE_CHOICES[text]
