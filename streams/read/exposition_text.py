"""The Prometheus text exposition written directly: label strings built once per queue x
channel and queue, each series group's text kept and re-rendered only when its values
change, the answer streamed family by family. Same bytes as prometheus_client's
generate_latest over `EngineCollector` (tests compare them); `queues` selects queues.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from streams.core import sketch
from streams.core.agents import QueueAgents
from streams.core.contract import AGENT_STATES, BACKLOG_AGES, PRIORITIES, SLA_KINDS
from streams.core.histogram import Histogram
from streams.core.queues import QueueChannel
from streams.core.sla import ANSWER, sla_applies, sla_index
from streams.core.summary import Summary
from streams.read.values import WINDOW_GAUGES, WINDOW_VALUE_NAMES, staffing_view, window_row
from streams.read.view import ReadView

P = "contactcenter_"
QUANTILES = (0.5, 0.9)

# Help text of every family the engine exports (name without the prefix; a counter's
# without `_total`), shared with `streams.read.exporter.EngineCollector`.
HELP: dict[str, str] = {
    "contacts_waiting": "Contacts waiting in the queue now.",
    "longest_wait_seconds": "Wait so far of the contact waiting longest (0 when none).",
    "backlog_contacts": "Open contacts by age since first entry.",
    "sla_breached_contacts": "Open contacts past an SLA due time without meeting it.",
    "sla_at_risk_contacts": "Open contacts not breached, due within at_risk_fraction of the "
    "target.",
    "queue_info": "Queue x channel known to the engine, with its team.",
    "service_level_target_ratio": "Service-level target in force: the file's, or a live one "
    "(voice and chat, normal priority).",
    "answer_target_seconds": "answer_within_seconds in force: the file's, or a live one "
    "(normal priority).",
    "agents": "Agents by state, counted in every queue they serve.",
    "agents_by_reason": "Agents by state and reason (configured [agents] reasons; others "
    "'other', no reason 'none'), counted in every queue they serve.",
    "agent_state_seconds": "Time agents spent in a state before they left it, per queue they "
    "serve.",
    **{name: text for name, text, _ in WINDOW_GAUGES},
    "service_level_ratio": "Service level by the queue's formula (standard, abandons_met, "
    "answered_only).",
    "wait_seconds_quantile": "Wait quantiles over the window (sketch, 1 % error), with its sum "
    "and count.",
    "first_response_seconds_quantile": "First response time quantiles over the window (sketch, "
    "1 % error).",
    "occupancy_ratio": "(on_contact + after_contact_work) / (that + available) time.",
    "contacts_offered": "Contacts that entered the queue.",
    "contacts_answered": "Contacts answered.",
    "contacts_abandoned": "Contacts abandoned after at least short_abandon_seconds.",
    "contacts_short_abandoned": "Contacts abandoned before short_abandon_seconds.",
    "contacts_answered_within_target": "Contacts answered with wait <= answer_within_seconds.",
    "contacts_resolved": "Resolutions (again after a reopen).",
    "contacts_reopened": "Reopens of resolved contacts.",
    "contacts_transferred": "Contacts that left the queue by a transfer.",
    "contacts_missed": "Offers an agent did not take (contact.missed).",
    "sla_breaches": "SLA breaches (each contact once per SLA).",
    "wait_seconds": "Wait of answered contacts in this queue.",
    "first_response_seconds": "First response time from first entry.",
    "handle_seconds": "Handle time.",
    "resolution_seconds": "Resolution time from first entry.",
    "staffing_required_agents": "Agents needed now: Erlang C (voice, chat) or workload (async), "
    "within max occupancy, divided by (1 - shrinkage).",
    "staffing_staffed_agents": "Agents serving the queue in available, on_contact or "
    "after_contact_work.",
    "staffing_gap_agents": "Required - staffed agents.",
    "staffing_projected_service_level_ratio": "Erlang C service level with the staffed agents "
    "(voice, chat).",
    "staffing_arrival_rate_per_second": "Contacts offered per second over [staffing] "
    "arrival_window.",
    "staffing_handle_seconds": "AHT used for staffing: over [staffing] handle_window, else the "
    "default.",
    "staffing_offered_load_erlangs": "Arrival rate x AHT.",
    "events_processed": "Valid events applied, by type.",
    "events_rejected": "Rejected messages, by reason.",
    "events_ignored": "Valid events that did not fit the contact's state, by reason.",
    "events_duplicate": "Events dropped as duplicates of an event_id.",
    "events_late": "Events older than the newest applied event of their contact or agent.",
    "last_event_timestamp_seconds": "Event time of the newest event (epoch seconds).",
    "event_processing_lag_seconds": "Processing time - event time.",
    "events_parked": "Events waiting for their contact's contact.queued.",
    "contacts_tracked": "Contacts in memory (open and remembered).",
    "overflow_queue_channels": 'Queue x channel pairs folded into queue="_overflow" by the cap.',
}

# counter name, QueueChannel attribute; histogram name, QueueChannel attribute
COUNTERS: tuple[tuple[str, str], ...] = (
    ("contacts_offered", "offered_total"),
    ("contacts_answered", "answered_total"),
    ("contacts_abandoned", "abandoned_total"),
    ("contacts_short_abandoned", "short_abandoned_total"),
    ("contacts_answered_within_target", "answered_within_target_total"),
    ("contacts_resolved", "resolved_total"),
    ("contacts_reopened", "reopened_total"),
    ("contacts_transferred", "transferred_total"),
    ("contacts_missed", "missed_total"),
)
HISTOGRAMS: tuple[tuple[str, str], ...] = (
    ("wait_seconds", "wait_hist"),
    ("first_response_seconds", "first_response_hist"),
    ("handle_seconds", "handle_hist"),
    ("resolution_seconds", "resolution_hist"),
)
LIVE = (
    "contacts_waiting",
    "longest_wait_seconds",
    "backlog_contacts",
    "sla_breached_contacts",
    "sla_at_risk_contacts",
    "queue_info",
    "service_level_target_ratio",
    "answer_target_seconds",
)
STAFFING = (
    "staffing_required_agents",
    "staffing_staffed_agents",
    "staffing_gap_agents",
    "staffing_projected_service_level_ratio",
    "staffing_arrival_rate_per_second",
    "staffing_handle_seconds",
    "staffing_offered_load_erlangs",
)
WINDOWED = WINDOW_VALUE_NAMES

# Queue x channel families, in exposition order, with their type; slots index `_Pair.text`.
_PAIR_FAMILIES: tuple[tuple[str, str], ...] = (
    *((name, "gauge") for name in LIVE),
    *((name, "gauge") for name in WINDOWED),
    ("wait_seconds_quantile", "summary"),
    ("first_response_seconds_quantile", "summary"),
    *((name, "counter") for name, _ in COUNTERS),
    ("sla_breaches", "counter"),
    *((name, "histogram") for name, _ in HISTOGRAMS),
    *((name, "gauge") for name in STAFFING),
)
_LIVE_AT = 0
_WINDOWS_AT = len(LIVE)
_COUNTERS_AT = _WINDOWS_AT + len(WINDOWED) + 2
_HISTOGRAMS_AT = _COUNTERS_AT + len(COUNTERS) + 1
_STAFFING_AT = _HISTOGRAMS_AT + len(HISTOGRAMS)
_SLOTS = len(_PAIR_FAMILIES)
# Cache groups of a pair (each re-rendered when its key changes).
_G_WAIT, _G_BACKLOG, _G_SLA, _G_INFO, _G_WINDOWS, _G_COUNTERS, _G_STAFFING = range(7)
_G_HIST = 7  # .. 7 + len(HISTOGRAMS) - 1
_GROUPS = _G_HIST + len(HISTOGRAMS)
# Agent (per queue) families: agents, agents_by_reason, occupancy (agent_state_seconds is
# each state's text, `_Queue.state_text`).
_Q_COUNTS, _Q_REASONS, _Q_OCCUPANCY = range(3)


def header(name: str, kind: str) -> str:
    """# HELP and # TYPE lines of a family, as generate_latest writes them."""
    shown = P + name + ("_total" if kind == "counter" else "")
    text = HELP[name].replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {shown} {text}\n# TYPE {shown} {kind}\n"


def escape(value: str) -> str:
    """A label value escaped for the text format (backslash, newline, double quote)."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def number(value: Any) -> str:
    """A sample value exactly as prometheus_client writes it (floatToGoString)."""
    if type(value) is int and -1_000_000_000_000_000 < value < 1_000_000:
        return f"{value}.0"  # = repr(float(value)) below Go's switch to exponents
    if type(value) is float and value == value and -1e15 < value < 1e6:
        return repr(value)  # finite, and no exponent to rewrite
    return floatToGoString(value)


def _histogram_key(hist: Histogram) -> tuple[Any, ...]:
    return (hist.bounds, tuple(hist.counts), hist.total)


def _histogram_lines(name: str, before: str, after: str, hist: Histogram) -> list[str]:
    """Cumulative `_bucket` lines (labels `before` + le + `after`), `_count` and `_sum`."""
    buckets = hist.cumulative()
    sep = "," if after else ""
    lines = [f'{name}_bucket{{{before}le="{le}"{sep}{after}}} {number(n)}\n' for le, n in buckets]
    if float(buckets[0][0]) >= 0:
        labels = (before + after).rstrip(",")  # `before` ends with a comma when not empty
        braces = f"{{{labels}}}" if labels else ""
        lines.append(f"{name}_count{braces} {number(buckets[-1][1])}\n")
        lines.append(f"{name}_sum{braces} {number(hist.total)}\n")
    return lines


class _Pair:
    """One queue x channel's label strings and the text of each of its series groups."""

    __slots__ = (
        "c",
        "cq",
        "keys",
        "q",
        "qc",
        "seen",
        "sla",
        "text",
        "window_text",
        "windows",
    )

    def __init__(self, qc: QueueChannel) -> None:
        self.qc = qc
        self.c = f'channel="{escape(qc.channel)}"'
        self.q = f'queue="{escape(qc.queue)}"'
        self.cq = f"{self.c},{self.q}"
        self.sla = [  # (index, labels) of the SLA clocks of the channel, in export order
            (sla_index(p, k), f'{self.c},priority="{priority}",{self.q},sla="{kind}"')
            for p, priority in enumerate(PRIORITIES)
            for k, kind in enumerate(SLA_KINDS)
            if sla_applies(k, qc.channel)
        ]
        self.windows: dict[str, tuple[str, tuple[str, ...]]] = {}
        # window -> (its values, its text per family of the window slots)
        self.window_text: dict[str, tuple[tuple[Any, ...], list[str]]] = {}
        self.keys: list[Any] = [None] * _GROUPS  # _G_WINDOWS: the windows in order
        self.text: list[str] = [""] * _SLOTS  # not the window slots: `window_text` has them
        self.seen: tuple[Any, str] | None = None  # the windows dict and formula rendered

    def window(self, name: str) -> tuple[str, tuple[str, ...]]:
        """Labels of a window's series, and of its quantile samples."""
        found = self.windows.get(name)
        if found is None:
            window = f'window="{escape(name)}"'
            found = self.windows[name] = (
                f"{self.cq},{window}",
                tuple(f'{self.c},quantile="{q}",{self.q},{window}' for q in QUANTILES),
            )
        return found


class _Queue:
    """One agent queue's label string and the text of each of its families (and of each
    state's time-in-state histogram)."""

    __slots__ = ("keys", "name", "q", "state_keys", "state_text", "text")

    def __init__(self, name: str) -> None:
        self.name = name
        self.q = f'queue="{escape(name)}"'
        self.keys: list[Any] = [None] * 3
        self.text: list[str] = [""] * 3
        self.state_keys: list[Any] = [None] * len(AGENT_STATES)
        self.state_text: list[str] = [""] * len(AGENT_STATES)


Part = tuple[str, list[str]] | bytes


class TextExposition:
    """Renders one view's exposition, keeping each series group's text between scrapes
    (not thread-safe: one renderer per view, used from one thread). `chunks` reads the view
    at once and returns the text family by family; `render` joins it."""

    def __init__(self, view: ReadView) -> None:
        self.view = view
        self._pairs: dict[int, _Pair] = {}
        self._queues: dict[str, _Queue] = {}
        self._headers = [header(name, kind) for name, kind in _PAIR_FAMILIES]
        self._names = [P + name for name, _ in _PAIR_FAMILIES]
        self._window_names = self._names[_WINDOWS_AT : _WINDOWS_AT + len(WINDOWED)]
        self._quantile_names = tuple(self._names[_COUNTERS_AT - 2 : _COUNTERS_AT])

    def render(
        self,
        *extra: Collector,
        queues: frozenset[str] | None = None,
        pipeline: bool | None = None,
    ) -> bytes:
        return b"".join(self.chunks(*extra, queues=queues, pipeline=pipeline))

    def chunks(
        self,
        *extra: Collector,
        queues: frozenset[str] | None = None,
        pipeline: bool | None = None,
    ) -> Iterator[bytes]:
        """The exposition as byte chunks (a family or a few each). The view is read now, in
        one go; the chunks are only joined and encoded as they are taken. `queues`: only
        series of these queues; `pipeline`: the series without a queue label (pipeline
        health and `extra`), by default only when `queues` is None."""
        parts = self._read(extra, queues, queues is None if pipeline is None else pipeline)
        return _encode(parts)

    # ------------------------------------------------------------------ reading

    def _read(
        self, extra: Sequence[Collector], queues: frozenset[str] | None, pipeline: bool
    ) -> list[Part]:
        view = self.view
        view.advance(view.clock.now())
        board = view.queues
        tracked = board.tracked
        if queues is not None:
            tracked = [qc for qc in tracked if qc.queue in queues]
        tracked = sorted(tracked, key=lambda qc: (qc.queue, qc.channel))
        pairs = self._pairs
        chosen: list[_Pair] = []
        for qc in tracked:
            pair = pairs.get(id(qc))
            if pair is None or pair.qc is not qc:
                pair = pairs[id(qc)] = _Pair(qc)
            self._update_pair(pair)
            chosen.append(pair)
        agents = view.agents.queues
        names = sorted(agents if queues is None else (n for n in agents if n in queues))
        known = self._queues
        served: list[_Queue] = []
        reasons = view.settings.agents.reasons
        always = (*reasons, "other", "none")
        reason_set = frozenset(reasons)
        for name in names:
            entry = known.get(name)
            if entry is None:
                entry = known[name] = _Queue(name)
            self._update_queue(entry, agents[name], always, reason_set)
            served.append(entry)
        if queues is None:  # keep only what the board still has (pairs and queues dropped)
            self._pairs = {id(pair.qc): pair for pair in chosen}
            self._queues = {entry.name: entry for entry in served}

        headers = self._headers
        parts: list[Part] = []

        def pair_slots(start: int, stop: int) -> None:
            for slot in range(start, stop):
                parts.append((headers[slot], [pair.text[slot] for pair in chosen]))

        def window_slots() -> None:  # each window's own lines, not joined per pair
            for i in range(_COUNTERS_AT - _WINDOWS_AT):
                lines = [
                    pair.window_text[window][1][i]
                    for pair in chosen
                    for window in pair.keys[_G_WINDOWS]
                ]
                parts.append((headers[_WINDOWS_AT + i], lines))

        def queue_slot(slot: int, name: str, kind: str) -> None:
            parts.append((header(name, kind), [entry.text[slot] for entry in served]))

        pair_slots(_LIVE_AT, _WINDOWS_AT)
        queue_slot(_Q_COUNTS, "agents", "gauge")
        queue_slot(_Q_REASONS, "agents_by_reason", "gauge")
        state_text = [text for entry in served for text in entry.state_text]  # not joined
        parts.append((header("agent_state_seconds", "histogram"), state_text))
        window_slots()
        queue_slot(_Q_OCCUPANCY, "occupancy_ratio", "gauge")
        pair_slots(_COUNTERS_AT, _SLOTS)
        if pipeline:
            parts.append(("", self._pipeline()))
            if extra:
                registry = CollectorRegistry(auto_describe=False)
                for collector in extra:
                    registry.register(collector)
                parts.append(generate_latest(registry))
        return parts

    # ------------------------------------------------------------------ queue x channel

    def _update_pair(self, pair: _Pair) -> None:
        view = self.view
        board = view.queues
        qc = pair.qc
        keys = pair.keys
        text = pair.text
        names = self._names
        cq = pair.cq
        live = board.live(qc)
        key: Any = (live.waiting, live.longest_wait)
        if keys[_G_WAIT] != key:
            keys[_G_WAIT] = key
            text[0] = f"{names[0]}{{{cq}}} {number(live.waiting)}\n"
            text[1] = f"{names[1]}{{{cq}}} {number(live.longest_wait)}\n"
        key = tuple(live.backlog)
        if keys[_G_BACKLOG] != key:
            keys[_G_BACKLOG] = key
            text[2] = "".join(
                f'{names[2]}{{age="{age}",{cq}}} {number(n)}\n'
                for age, n in zip(BACKLOG_AGES, key, strict=True)
            )
        key = (tuple(qc.breached), tuple(qc.at_risk))
        if keys[_G_SLA] != key:
            keys[_G_SLA] = key
            breached, at_risk = key
            text[3] = "".join(f"{names[3]}{{{lab}}} {number(breached[i])}\n" for i, lab in pair.sla)
            text[4] = "".join(f"{names[4]}{{{lab}}} {number(at_risk[i])}\n" for i, lab in pair.sla)
        targets = view.targets.get(qc.queue, qc.channel, "normal")
        team = qc.team or targets.team or ""
        key = (team, targets.service_level_target, targets.answer_within_seconds)
        if keys[_G_INFO] != key:
            keys[_G_INFO] = key
            text[5] = f'{names[5]}{{{cq},team="{escape(team)}"}} 1.0\n'
            if sla_applies(ANSWER, qc.channel):
                text[6] = f"{names[6]}{{{cq}}} {number(targets.service_level_target)}\n"
                text[7] = f"{names[7]}{{{cq}}} {number(targets.answer_within_seconds)}\n"
        self._update_windows(pair, targets.service_level_formula)
        self._update_counters(pair)
        for h, (_, attr) in enumerate(HISTOGRAMS):
            hist: Histogram = getattr(qc, attr)
            key = _histogram_key(hist)
            if keys[_G_HIST + h] != key:
                keys[_G_HIST + h] = key
                slot = _HISTOGRAMS_AT + h
                lines = _histogram_lines(names[slot], f"{pair.c},", pair.q, hist)
                text[slot] = "".join(lines)
        self._update_staffing(pair)

    def _update_windows(self, pair: _Pair, formula: str) -> None:
        """Each window's lines are kept apart: a window re-renders when its values change."""
        windows = self.view.queues.windows(pair.qc)
        seen = pair.seen
        if seen is not None and seen[0] is windows and seen[1] == formula:
            return  # the engine's very windows of the last scrape: nothing changed
        pair.seen = (windows, formula)
        kept = pair.window_text
        order = []
        today = pair.qc.today
        for window, summary in windows.items():
            order.append(window)
            # What tells that a window's bins changed. A trailing window's merge never
            # changes: its bins, kept as they are. Today's summary changes in place, and its
            # bins only by additions: the summary itself and the bins' total count.
            wait_bins: Any = summary.wait_bins
            frt_bins: Any = summary.frt_bins
            if summary is today:
                wait_bins = (summary, sum(wait_bins.values()))
                frt_bins = (summary, sum(frt_bins.values()))
            row = (
                formula,
                window_row(summary, formula),
                summary.wait_sum,
                wait_bins,
                summary.frt_sum,
                frt_bins,
            )
            found = kept.get(window)
            if found is not None and found[0] == row:
                continue
            kept[window] = (row, self._window_lines(pair, window, summary, row, found))
        pair.keys[_G_WINDOWS] = order

    def _window_lines(
        self,
        pair: _Pair,
        window: str,
        summary: Summary,
        row: tuple[Any, ...],
        before: tuple[tuple[Any, ...], list[str]] | None,
    ) -> list[str]:
        """The lines of one window (`summary`, read as `row`): a string per window gauge,
        then the two summaries'; those whose values equal the window's `before` are taken
        from it."""
        _, values, wait_sum, _, frt_sum, _ = row
        labels, quantile_labels = pair.window(window)
        names = self._window_names
        if before is None:
            old_values: tuple[Any, ...] = (None,) * len(values)
            old_row: tuple[Any, ...] = (None,) * 6
            old_lines = [""] * (len(values) + 2)
        else:
            old_row, old_lines = before
            old_values = old_row[1]
        out = [
            old_lines[i]
            if value == old_values[i]
            else ""
            if value is None
            else f"{names[i]}{{{labels}}} {number(value)}\n"
            for i, value in enumerate(values)
        ]
        for k, (name, total, bins) in enumerate(
            (
                (self._quantile_names[0], wait_sum, summary.wait_bins),
                (self._quantile_names[1], frt_sum, summary.frt_bins),
            )
        ):
            if (
                before is not None
                and old_row[2 + 2 * k] == total
                and old_row[3 + 2 * k] == row[3 + 2 * k]
            ):
                out.append(old_lines[len(values) + k])
                continue
            count = sum(bins.values())
            lines = ""
            if count:
                for q, qlabels in zip(QUANTILES, quantile_labels, strict=True):
                    value = sketch.quantile(bins, q) or 0.0
                    lines += f"{name}{{{qlabels}}} {number(value)}\n"
            lines += f"{name}_sum{{{labels}}} {number(total)}\n"
            lines += f"{name}_count{{{labels}}} {number(count)}\n"
            out.append(lines)
        return out

    def _update_counters(self, pair: _Pair) -> None:
        qc = pair.qc
        key = (*(getattr(qc, attr) for _, attr in COUNTERS), tuple(qc.breaches_total))
        if pair.keys[_G_COUNTERS] == key:
            return
        pair.keys[_G_COUNTERS] = key
        names = self._names
        text = pair.text
        cq = pair.cq
        for i in range(len(COUNTERS)):
            text[_COUNTERS_AT + i] = f"{names[_COUNTERS_AT + i]}_total{{{cq}}} {number(key[i])}\n"
        breaches = key[-1]
        name = names[_COUNTERS_AT + len(COUNTERS)]
        text[_COUNTERS_AT + len(COUNTERS)] = "".join(
            f"{name}_total{{{lab}}} {number(breaches[i])}\n" for i, lab in pair.sla
        )

    def _update_staffing(self, pair: _Pair) -> None:
        s = staffing_view(self.view, pair.qc)
        values = (
            s.required,
            s.staffed,
            s.gap,
            s.projected_service_level,
            s.arrivals_per_second,
            s.aht_seconds,
            s.load_erlangs,
        )
        before = pair.keys[_G_STAFFING]
        if before == values:
            return
        pair.keys[_G_STAFFING] = values
        names = self._names
        text = pair.text
        cq = pair.cq
        for i, value in enumerate(values):
            if before is None or before[i] != value:  # the arrival rate moves with the clock
                slot = _STAFFING_AT + i
                text[slot] = "" if value is None else f"{names[slot]}{{{cq}}} {number(value)}\n"

    # ------------------------------------------------------------------ agent queues

    def _update_queue(
        self, entry: _Queue, agents: QueueAgents, reasons: tuple[str, ...], known: frozenset[str]
    ) -> None:
        keys = entry.keys
        text = entry.text
        q = entry.q
        counts = tuple(agents.counts)
        if keys[_Q_COUNTS] != counts:
            keys[_Q_COUNTS] = counts
            text[_Q_COUNTS] = "".join(
                f'{P}agents{{{q},state="{state}"}} {number(n)}\n'
                for state, n in zip(AGENT_STATES, counts, strict=True)
            )
        by_reason = agents.by_reason(known)
        for reason in reasons:
            by_reason.setdefault(("away", reason), 0)
        rows = tuple(sorted(by_reason.items()))
        if keys[_Q_REASONS] != rows:
            keys[_Q_REASONS] = rows
            text[_Q_REASONS] = "".join(
                f'{P}agents_by_reason{{{q},reason="{escape(reason)}",state="{state}"}} '
                f"{number(n)}\n"
                for (state, reason), n in rows
            )
        for i, hist in enumerate(agents.state_seconds):
            key = _histogram_key(hist)
            if entry.state_keys[i] != key:
                entry.state_keys[i] = key
                name = P + "agent_state_seconds"
                labels = f'{q},state="{AGENT_STATES[i]}"'
                entry.state_text[i] = "".join(_histogram_lines(name, "", labels, hist))
        occupancy = tuple(
            (window, times.occupancy())
            for window, times in self.view.agents.occupancy(entry.name).items()
        )
        if keys[_Q_OCCUPANCY] != occupancy:
            keys[_Q_OCCUPANCY] = occupancy
            text[_Q_OCCUPANCY] = "".join(
                f'{P}occupancy_ratio{{{q},window="{escape(window)}"}} {number(value)}\n'
                for window, value in occupancy
                if value is not None
            )

    # ------------------------------------------------------------------ pipeline

    def _pipeline(self) -> list[str]:
        view = self.view
        stats = view.pipeline
        out = [header("events_processed", "counter")]
        name = P + "events_processed_total"
        out += [f'{name}{{type="{escape(t)}"}} {number(n)}\n' for t, n in stats.processed.items()]
        for family, items in (
            ("events_rejected", stats.rejected.items()),
            ("events_ignored", sorted(stats.ignored.items())),
        ):
            out.append(header(family, "counter"))
            name = f"{P}{family}_total"
            out += [f'{name}{{reason="{escape(r)}"}} {number(n)}\n' for r, n in items]
        for family, value in (("events_duplicate", stats.duplicates), ("events_late", stats.late)):
            out.append(header(family, "counter"))
            out.append(f"{P}{family}_total {number(value)}\n")
        out.append(header("last_event_timestamp_seconds", "gauge"))
        if stats.last_event_ts is not None:
            out.append(f"{P}last_event_timestamp_seconds {number(stats.last_event_ts)}\n")
        out.append(header("event_processing_lag_seconds", "histogram"))
        out += _histogram_lines(P + "event_processing_lag_seconds", "", "", stats.lag)
        for family, value in (
            ("events_parked", view.parked_count),
            ("contacts_tracked", view.contacts_tracked),
            ("overflow_queue_channels", view.queues.overflow_queue_channels),
        ):
            out.append(header(family, "gauge"))
            out.append(f"{P}{family} {number(value)}\n")
        return out


# Pieces of a family joined and encoded at a time: a large family (the window gauges of a
# thousand queue x channels are megabytes) never exists whole as text or bytes, so
# answering leaves no multi-megabyte holes in the heap.
_PIECE_LINES = 256


def _encode(parts: list[Part]) -> Iterator[bytes]:
    for part in parts:
        if isinstance(part, bytes):
            yield part
        else:
            head, lines = part
            if head:
                yield head.encode()
            for start in range(0, len(lines), _PIECE_LINES):
                piece = "".join(lines[start : start + _PIECE_LINES])
                if piece:
                    yield piece.encode()


_RENDERERS: dict[int, TextExposition] = {}  # id(view) -> its renderer (which holds the view)
_KEEP = 4


def renderer_of(view: ReadView) -> TextExposition:
    """The renderer kept for `view` (a few views are kept, the oldest dropped first)."""
    found = _RENDERERS.get(id(view))
    if found is None or found.view is not view:
        while len(_RENDERERS) >= _KEEP:
            del _RENDERERS[next(iter(_RENDERERS))]
        found = _RENDERERS[id(view)] = TextExposition(view)
    return found
