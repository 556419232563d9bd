"""Prometheus exposition: a custom collector that renders the engine's state at scrape time.

Every name of ../shared/spec/metrics.md (live state, window, counters and histograms,
pipeline health) plus a few documented additions. A ratio or average whose
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
from streams.read.values import WINDOW_GAUGES, staffing_view, window_values
from streams.read.view import ReadView

P = "contactcenter_"
QC = ("queue", "channel")
QCW = ("queue", "channel", "window")
QUANTILES = (0.5, 0.9)

_COUNTERS = (
    ("contacts_offered", "Contacts that entered the queue.", "offered_total"),
    ("contacts_answered", "Contacts answered.", "answered_total"),
    (
        "contacts_abandoned",
        "Contacts abandoned after at least short_abandon_seconds.",
        "abandoned_total",
    ),
    (
        "contacts_short_abandoned",
        "Contacts abandoned before short_abandon_seconds.",
        "short_abandoned_total",
    ),
    (
        "contacts_answered_within_target",
        "Contacts answered with wait <= answer_within_seconds.",
        "answered_within_target_total",
    ),
    ("contacts_resolved", "Resolutions (again after a reopen).", "resolved_total"),
    ("contacts_reopened", "Reopens of resolved contacts.", "reopened_total"),
    ("contacts_transferred", "Contacts that left the queue by a transfer.", "transferred_total"),
    ("contacts_missed", "Offers an agent did not take (contact.missed).", "missed_total"),
)

_HISTOGRAMS = (
    ("wait_seconds", "Wait of answered contacts in this queue.", "wait_hist"),
    ("first_response_seconds", "First response time from first entry.", "first_response_hist"),
    ("handle_seconds", "Handle time.", "handle_hist"),
    ("resolution_seconds", "Resolution time from first entry.", "resolution_hist"),
)


def _histogram(name: str, help_text: str, labels: tuple[str, ...]) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, help_text, labels=labels)


def _add_histogram(family: HistogramMetricFamily, values: list[str], hist: Histogram) -> None:
    family.add_metric(values, hist.cumulative(), hist.total)


class EngineCollector(Collector):
    """The Prometheus collector of a running engine (any `ReadView`), rendered fresh on
    every scrape: live state, window gauges, counters and histograms, staffing and
    pipeline health."""

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
        waiting = GaugeMetricFamily(
            P + "contacts_waiting", "Contacts waiting in the queue now.", labels=QC
        )
        longest = GaugeMetricFamily(
            P + "longest_wait_seconds",
            "Wait so far of the contact waiting longest (0 when none).",
            labels=QC,
        )
        backlog = GaugeMetricFamily(
            P + "backlog_contacts", "Open contacts by age since first entry.", labels=(*QC, "age")
        )
        breached = GaugeMetricFamily(
            P + "sla_breached_contacts",
            "Open contacts past an SLA due time without meeting it.",
            labels=(*QC, "priority", "sla"),
        )
        at_risk = GaugeMetricFamily(
            P + "sla_at_risk_contacts",
            "Open contacts not breached, due within at_risk_fraction of the target.",
            labels=(*QC, "priority", "sla"),
        )
        info = GaugeMetricFamily(
            P + "queue_info",
            "Queue x channel known to the engine, with its team.",
            labels=(*QC, "team"),
        )
        target = GaugeMetricFamily(
            P + "service_level_target_ratio",
            "Service-level target in force: the file's, or a live one (voice and chat, normal "
            "priority).",
            labels=QC,
        )
        answer_target = GaugeMetricFamily(
            P + "answer_target_seconds",
            "answer_within_seconds in force: the file's, or a live one (normal priority).",
            labels=QC,
        )
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
        agents = GaugeMetricFamily(
            P + "agents",
            "Agents by state, counted in every queue they serve.",
            labels=("queue", "state"),
        )
        board_agents = self.engine.agents
        for name in sorted(board_agents.queues):
            counts = board_agents.queues[name].counts
            for state, count in zip(AGENT_STATES, counts, strict=True):
                agents.add_metric([name, state], count)
        yield agents
        yield self._agents_by_reason()
        in_state = _histogram(
            P + "agent_state_seconds",
            "Time agents spent in a state before they left it, per queue they serve.",
            ("queue", "state"),
        )
        for name in sorted(board_agents.queues):
            histograms = board_agents.queues[name].state_seconds
            for state, hist in zip(AGENT_STATES, histograms, strict=True):
                _add_histogram(in_state, [name, state], hist)
        yield in_state

    def _agents_by_reason(self) -> Metric:
        """Agents by state and reason per queue: the configured reasons by name, any other
        as "other", none as "none". Every queue exports its away agents for each configured
        reason, "other" and "none" (0 when none), other states when they have agents."""
        family = GaugeMetricFamily(
            P + "agents_by_reason",
            "Agents by state and reason (configured [agents] reasons; others 'other', "
            "no reason 'none'), counted in every queue they serve.",
            labels=("queue", "state", "reason"),
        )
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
        families = {
            name: GaugeMetricFamily(P + name, text, labels=QCW) for name, text, _ in WINDOW_GAUGES
        }
        families["service_level_ratio"] = GaugeMetricFamily(
            P + "service_level_ratio",
            "Service level by the queue's formula (standard, abandons_met, answered_only).",
            labels=QCW,
        )
        wait_q = Metric(
            P + "wait_seconds_quantile",
            "Wait quantiles over the window (sketch, 1 % error), with its sum and count.",
            "summary",
        )
        frt_q = Metric(
            P + "first_response_seconds_quantile",
            "First response time quantiles over the window (sketch, 1 % error).",
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
        occupancy = GaugeMetricFamily(
            P + "occupancy_ratio",
            "(on_contact + after_contact_work) / (that + available) time.",
            labels=("queue", "window"),
        )
        agents = engine.agents
        for name in sorted(agents.queues):
            for window, times in agents.occupancy(name).items():
                value = times.occupancy()
                if value is not None:
                    occupancy.add_metric([name, window], value)
        yield occupancy

    # ------------------------------------------------------------------ counters

    def _counters(self, tracked: list[QueueChannel]) -> Iterator[Metric]:
        for name, text, attr in _COUNTERS:
            family = CounterMetricFamily(P + name, text, labels=QC)
            for qc in tracked:
                family.add_metric([qc.queue, qc.channel], getattr(qc, attr))
            yield family
        breaches = CounterMetricFamily(
            P + "sla_breaches",
            "SLA breaches (each contact once per SLA).",
            labels=(*QC, "priority", "sla"),
        )
        for qc in tracked:
            for p, priority in enumerate(PRIORITIES):
                for k, kind in enumerate(SLA_KINDS):
                    if sla_applies(k, qc.channel):
                        breaches.add_metric(
                            [qc.queue, qc.channel, priority, kind],
                            qc.breaches_total[sla_index(p, k)],
                        )
        yield breaches
        for name, text, attr in _HISTOGRAMS:
            histogram = _histogram(P + name, text, QC)
            for qc in tracked:
                _add_histogram(histogram, [qc.queue, qc.channel], getattr(qc, attr))
            yield histogram

    # ------------------------------------------------------------------ staffing

    def _staffing(self, tracked: list[QueueChannel]) -> Iterator[Metric]:
        families = {
            "required": GaugeMetricFamily(
                P + "staffing_required_agents",
                "Agents needed now: Erlang C (voice, chat) or workload (async), "
                "within max occupancy, divided by (1 - shrinkage).",
                labels=QC,
            ),
            "staffed": GaugeMetricFamily(
                P + "staffing_staffed_agents",
                "Agents serving the queue in available, on_contact or after_contact_work.",
                labels=QC,
            ),
            "gap": GaugeMetricFamily(
                P + "staffing_gap_agents", "Required - staffed agents.", labels=QC
            ),
            "projected": GaugeMetricFamily(
                P + "staffing_projected_service_level_ratio",
                "Erlang C service level with the staffed agents (voice, chat).",
                labels=QC,
            ),
            "rate": GaugeMetricFamily(
                P + "staffing_arrival_rate_per_second",
                "Contacts offered per second over [staffing] arrival_window.",
                labels=QC,
            ),
            "aht": GaugeMetricFamily(
                P + "staffing_handle_seconds",
                "AHT used for staffing: over [staffing] handle_window, else the default.",
                labels=QC,
            ),
            "load": GaugeMetricFamily(
                P + "staffing_offered_load_erlangs",
                "Arrival rate x AHT.",
                labels=QC,
            ),
        }
        for qc in tracked:
            view = staffing_view(self.engine, qc)
            labels = [qc.queue, qc.channel]
            families["required"].add_metric(labels, view.required)
            families["staffed"].add_metric(labels, view.staffed)
            families["gap"].add_metric(labels, view.gap)
            if view.projected_service_level is not None:
                families["projected"].add_metric(labels, view.projected_service_level)
            families["rate"].add_metric(labels, view.arrivals_per_second)
            families["aht"].add_metric(labels, view.aht_seconds)
            families["load"].add_metric(labels, view.load_erlangs)
        yield from families.values()

    # ------------------------------------------------------------------ pipeline

    def _pipeline(self) -> Iterator[Metric]:
        engine = self.engine
        pipeline = engine.pipeline
        processed = CounterMetricFamily(
            P + "events_processed", "Valid events applied, by type.", labels=("type",)
        )
        for type_, count in pipeline.processed.items():
            processed.add_metric([type_], count)
        rejected = CounterMetricFamily(
            P + "events_rejected", "Rejected messages, by reason.", labels=("reason",)
        )
        for reason, count in pipeline.rejected.items():
            rejected.add_metric([reason], count)
        ignored = CounterMetricFamily(
            P + "events_ignored",
            "Valid events that did not fit the contact's state, by reason.",
            labels=("reason",),
        )
        for reason, count in sorted(pipeline.ignored.items()):
            ignored.add_metric([reason], count)
        yield from (processed, rejected, ignored)
        yield CounterMetricFamily(
            P + "events_duplicate",
            "Events dropped as duplicates of an event_id.",
            value=pipeline.duplicates,
        )
        yield CounterMetricFamily(
            P + "events_late",
            "Events older than the newest applied event of their contact or agent.",
            value=pipeline.late,
        )
        last = GaugeMetricFamily(
            P + "last_event_timestamp_seconds", "Event time of the newest event (epoch seconds)."
        )
        if pipeline.last_event_ts is not None:
            last.add_metric([], pipeline.last_event_ts)
        yield last
        lag = _histogram(P + "event_processing_lag_seconds", "Processing time - event time.", ())
        _add_histogram(lag, [], pipeline.lag)
        yield lag
        yield GaugeMetricFamily(
            P + "events_parked",
            "Events waiting for their contact's contact.queued.",
            value=engine.parked_count,
        )
        yield GaugeMetricFamily(
            P + "contacts_tracked",
            "Contacts in memory (open and remembered).",
            value=engine.contacts_tracked,
        )
        yield GaugeMetricFamily(
            P + "overflow_queue_channels",
            'Queue x channel pairs folded into queue="_overflow" by the cap.',
            value=engine.queues.overflow_queue_channels,
        )


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


def exposition(engine: ReadView, *extra: Collector) -> bytes:
    """The Prometheus text exposition of an engine (fresh registry: our collectors only)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(engine))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)
