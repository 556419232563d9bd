"""Mergeable per-bucket summaries of contact facts (one per queue x channel x time bucket).

Counts and sums are exact, so window averages are exact; maxima merge by max;
quantiles come from `sketch` bins.
"""

from __future__ import annotations

from typing import Any, Final

from streams.core import sketch

# The bins of a summary that has none yet: one shared dict, never written to (each writer
# below gives the summary its own dict first). Most buckets of a large centre have no
# waits or no first responses; each empty dict of its own took 64 bytes.
NO_BINS: Final[dict[int, int]] = {}

# The counts and sums of a Summary, in the order of its stored value (with the bins after).
# `merge` adds exactly these fields, written out for speed (mypyc); a test checks that it
# covers every one of them and that they and the bins are every slot.
COUNTS = (
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
    "wait_max",
    # Appended later: stored values from before them are padded with 0.
    "frt_business_count",
    "frt_business_sum",
    "resolution_business_count",
    "resolution_business_sum",
)


class Summary:
    """What happened in one queue x channel during some span of time: exact counts and
    sums (`COUNTS`), the longest wait, and quantile-sketch bins of waits and first
    responses. Summaries merge (windows are merged buckets) and snapshot to plain lists."""

    __slots__ = (
        "abandoned",
        "abandoned_met",
        "acw_count",
        "acw_sum",
        "answered",
        "answered_met",
        "ces_count",
        "ces_sum",
        "csat_count",
        "csat_satisfied",
        "csat_sum",
        "fcr",
        "frt_bins",
        "frt_business_count",
        "frt_business_sum",
        "frt_count",
        "frt_sum",
        "handle_count",
        "handle_sum",
        "hold_count",
        "hold_sum",
        "nps_count",
        "nps_detractors",
        "nps_promoters",
        "offered",
        "reopened",
        "resolution_business_count",
        "resolution_business_sum",
        "resolution_sum",
        "resolved",
        "short_abandoned",
        "transferred",
        "wait_bins",
        "wait_max",
        "wait_sum",
    )

    def __init__(self) -> None:
        self.offered: int = 0
        self.answered: int = 0
        self.answered_met: int = 0
        self.abandoned: int = 0
        self.abandoned_met: int = 0
        self.short_abandoned: int = 0
        self.transferred: int = 0
        self.wait_sum: float = 0.0
        self.frt_count: int = 0
        self.frt_sum: float = 0.0
        self.handle_count: int = 0
        self.handle_sum: float = 0.0
        self.hold_count: int = 0
        self.hold_sum: float = 0.0
        self.acw_count: int = 0
        self.acw_sum: float = 0.0
        self.resolved: int = 0
        self.resolution_sum: float = 0.0
        self.fcr: int = 0
        self.reopened: int = 0
        self.csat_count: int = 0
        self.csat_sum: int = 0
        self.csat_satisfied: int = 0
        self.ces_count: int = 0
        self.ces_sum: int = 0
        self.nps_count: int = 0
        self.nps_promoters: int = 0
        self.nps_detractors: int = 0
        self.wait_max = 0.0
        self.frt_business_count: int = 0
        self.frt_business_sum: float = 0.0
        self.resolution_business_count: int = 0
        self.resolution_business_sum: float = 0.0
        self.wait_bins: dict[int, int] = NO_BINS
        self.frt_bins: dict[int, int] = NO_BINS

    def snapshot(self) -> list[Any]:
        """A JSON-ready value: [counts in COUNTS order, wait bins, first-response bins]."""
        return [
            [getattr(self, name) for name in COUNTS],
            list(self.wait_bins.items()),
            list(self.frt_bins.items()),
        ]

    @staticmethod
    def restore(value: list[Any]) -> Summary:
        s = Summary()
        counts, wait_bins, frt_bins = value
        if len(counts) < len(COUNTS):  # stored before the business-time fields
            counts = [*counts, *[0] * (len(COUNTS) - len(counts))]
        for name, count in zip(COUNTS, counts, strict=True):
            setattr(s, name, count)
        if wait_bins:
            s.wait_bins = {int(k): c for k, c in wait_bins}
        if frt_bins:
            s.frt_bins = {int(k): c for k, c in frt_bins}
        return s

    def merge(self, other: Summary) -> None:
        self.offered += other.offered
        self.answered += other.answered
        self.answered_met += other.answered_met
        self.abandoned += other.abandoned
        self.abandoned_met += other.abandoned_met
        self.short_abandoned += other.short_abandoned
        self.transferred += other.transferred
        self.wait_sum += other.wait_sum
        self.frt_count += other.frt_count
        self.frt_sum += other.frt_sum
        self.handle_count += other.handle_count
        self.handle_sum += other.handle_sum
        self.hold_count += other.hold_count
        self.hold_sum += other.hold_sum
        self.acw_count += other.acw_count
        self.acw_sum += other.acw_sum
        self.resolved += other.resolved
        self.resolution_sum += other.resolution_sum
        self.fcr += other.fcr
        self.reopened += other.reopened
        self.csat_count += other.csat_count
        self.csat_sum += other.csat_sum
        self.csat_satisfied += other.csat_satisfied
        self.ces_count += other.ces_count
        self.ces_sum += other.ces_sum
        self.nps_count += other.nps_count
        self.nps_promoters += other.nps_promoters
        self.nps_detractors += other.nps_detractors
        if other.wait_max > self.wait_max:
            self.wait_max = other.wait_max
        self.frt_business_count += other.frt_business_count
        self.frt_business_sum += other.frt_business_sum
        self.resolution_business_count += other.resolution_business_count
        self.resolution_business_sum += other.resolution_business_sum
        if other.wait_bins:
            if self.wait_bins is NO_BINS:
                self.wait_bins = dict(other.wait_bins)
            else:
                sketch.merge_into(self.wait_bins, other.wait_bins)
        if other.frt_bins:
            if self.frt_bins is NO_BINS:
                self.frt_bins = dict(other.frt_bins)
            else:
                sketch.merge_into(self.frt_bins, other.frt_bins)

    def answered_wait(self, wait: float, met: bool) -> None:
        self.answered += 1
        if met:
            self.answered_met += 1
        self.wait_sum += wait
        if wait > self.wait_max:
            self.wait_max = wait
        bins = self.wait_bins
        if bins is NO_BINS:
            bins = self.wait_bins = {}
        key = sketch.bin_of(wait)
        bins[key] = bins.get(key, 0) + 1

    def abandoned_wait(self, short: bool, met: bool) -> None:
        if short:
            self.short_abandoned += 1
        else:
            self.abandoned += 1
            if met:
                self.abandoned_met += 1

    def first_response(self, frt: float) -> None:
        self.frt_count += 1
        self.frt_sum += frt
        bins = self.frt_bins
        if bins is NO_BINS:
            bins = self.frt_bins = {}
        key = sketch.bin_of(frt)
        bins[key] = bins.get(key, 0) + 1

    def business_time(self, first_response: float | None, resolution: float | None) -> None:
        """Business seconds of a first response or a resolution, where a calendar applies."""
        if first_response is not None:
            self.frt_business_count += 1
            self.frt_business_sum += first_response
        if resolution is not None:
            self.resolution_business_count += 1
            self.resolution_business_sum += resolution

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
        if fcr:
            self.fcr += 1

    def survey(self, csat: int | None, ces: int | None, nps: int | None) -> None:
        if csat is not None:
            self.csat_count += 1
            self.csat_sum += csat
            if csat >= 4:
                self.csat_satisfied += 1
        if ces is not None:
            self.ces_count += 1
            self.ces_sum += ces
        if nps is not None:
            self.nps_count += 1
            if nps >= 9:
                self.nps_promoters += 1
            elif nps <= 6:
                self.nps_detractors += 1


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
