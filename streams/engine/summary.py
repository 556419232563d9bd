"""Mergeable per-bucket summaries of contact facts (one per queue x channel x time bucket).

Counts and sums are exact, so window averages are exact; maxima merge by max;
quantiles come from `sketch` bins.
"""

from __future__ import annotations

from streams.engine import sketch

_COUNT_FIELDS = (
    "offered",
    "answered",
    "answered_met",
    "abandoned",
    "abandoned_met",
    "short_abandoned",
    "transferred",
    "wait_sum",
    "frt_count",
    "frt_sum",
    "handle_count",
    "handle_sum",
    "hold_count",
    "hold_sum",
    "acw_count",
    "acw_sum",
    "resolved",
    "resolution_sum",
    "fcr",
    "reopened",
    "csat_count",
    "csat_sum",
    "csat_satisfied",
    "ces_count",
    "ces_sum",
    "nps_count",
    "nps_promoters",
    "nps_detractors",
)


class Summary:
    """What happened in one queue x channel during some span of time."""

    __slots__ = (*_COUNT_FIELDS, "frt_bins", "wait_bins", "wait_max")

    def __init__(self) -> None:
        for name in _COUNT_FIELDS:
            setattr(self, name, 0)
        self.wait_max = 0.0
        self.wait_bins: dict[int, int] = {}
        self.frt_bins: dict[int, int] = {}

    def merge(self, other: Summary) -> None:
        for name in _COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.wait_max > self.wait_max:
            self.wait_max = other.wait_max
        sketch.merge_into(self.wait_bins, other.wait_bins)
        sketch.merge_into(self.frt_bins, other.frt_bins)

    def answered_wait(self, wait: float, met: bool) -> None:
        self.answered += 1
        self.answered_met += met
        self.wait_sum += wait
        if wait > self.wait_max:
            self.wait_max = wait
        bins = self.wait_bins
        key = sketch.bin_of(wait)
        bins[key] = bins.get(key, 0) + 1

    def abandoned_wait(self, short: bool, met: bool) -> None:
        if short:
            self.short_abandoned += 1
        else:
            self.abandoned += 1
            self.abandoned_met += met

    def first_response(self, frt: float) -> None:
        self.frt_count += 1
        self.frt_sum += frt
        bins = self.frt_bins
        key = sketch.bin_of(frt)
        bins[key] = bins.get(key, 0) + 1

    def handled(self, handle: float, hold: float | None, acw: float | None) -> None:
        self.handle_count += 1
        self.handle_sum += handle
        if hold is not None:
            self.hold_count += 1
            self.hold_sum += hold
        if acw is not None:
            self.acw_count += 1
            self.acw_sum += acw

    def resolution(self, seconds: float, fcr: bool) -> None:
        self.resolved += 1
        self.resolution_sum += seconds
        self.fcr += fcr

    def survey(self, csat: int | None, ces: int | None, nps: int | None) -> None:
        if csat is not None:
            self.csat_count += 1
            self.csat_sum += csat
            self.csat_satisfied += csat >= 4
        if ces is not None:
            self.ces_count += 1
            self.ces_sum += ces
        if nps is not None:
            self.nps_count += 1
            self.nps_promoters += nps >= 9
            self.nps_detractors += nps <= 6


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None for an empty denominator (exported as no value)."""
    return numerator / denominator if denominator else None


def service_level(s: Summary, formula: str) -> float | None:
    """The three service-level formulas of metrics.md (short abandons excluded)."""
    if formula == "answered_only":
        return ratio(s.answered_met, s.answered)
    if formula == "abandons_met":
        return ratio(s.answered_met + s.abandoned_met, s.answered + s.abandoned)
    return ratio(s.answered_met, s.answered + s.abandoned)


def nps_score(s: Summary) -> float | None:
    if not s.nps_count:
        return None
    return 100.0 * (s.nps_promoters - s.nps_detractors) / s.nps_count
