"""Cumulative-ready fixed-bound histograms for the Prometheus `_bucket` series."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import Any


def bounds_with(defaults: Iterable[float], extra: Iterable[float]) -> tuple[float, ...]:
    """Sorted unique upper bounds: the defaults plus every configured target."""
    return tuple(sorted({float(b) for b in (*defaults, *extra)}))


class Histogram:
    """Counts per fixed upper bound (plus +Inf) and the sum of observed values. A stored
    histogram keeps its bounds, so a restart with new targets never re-bins old counts."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # last slot is +Inf
        self.total = 0.0

    def snapshot(self) -> list[Any]:
        return [list(self.bounds), self.counts, self.total]

    @staticmethod
    def restore(value: list[Any]) -> Histogram:
        bounds, counts, total = value
        h = Histogram(tuple(float(b) for b in bounds))
        h.counts = list(counts)
        h.total = total
        return h

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def cumulative(self) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        running = 0
        for bound, count in zip(self.bounds, self.counts, strict=False):
            running += count
            out.append((_le(bound), running))
        out.append(("+Inf", running + self.counts[-1]))
        return out


def _le(bound: float) -> str:
    return str(int(bound)) if bound == int(bound) else repr(bound)
