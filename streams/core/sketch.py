"""A mergeable quantile sketch with bounded relative error (log-spaced bins).

Values <= 1 s share one bin (absolute error < 1 s); larger values land in bins
(gamma^(k-1), gamma^k] whose midpoint estimate is within `RELATIVE_ERROR` of any value
in the bin. metrics.md allows 2 % or 1 s, whichever is larger; we keep 1 %.
"""

from __future__ import annotations

import math

RELATIVE_ERROR = 0.01
_GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
_INV_LOG_GAMMA = 1.0 / math.log(_GAMMA)
_LOG = math.log
_CEIL = math.ceil


def bin_of(value: float) -> int:
    """Bin key of a non-negative value; 0 holds everything up to 1 s."""
    if value <= 1.0:
        return 0
    return _CEIL(_LOG(value) * _INV_LOG_GAMMA)


def bin_value(key: int) -> float:
    """Representative value of a bin (relative error <= RELATIVE_ERROR inside it)."""
    if key == 0:
        return 0.5
    return 2.0 * _GAMMA**key / (_GAMMA + 1.0)


def merge_into(target: dict[int, int], source: dict[int, int]) -> None:
    for key, count in source.items():
        target[key] = target.get(key, 0) + count


def quantile(bins: dict[int, int], q: float) -> float | None:
    """Nearest-rank quantile: the value of rank ceil(q * n), 1-based; None when empty."""
    total = sum(bins.values())
    if total == 0:
        return None
    rank = max(1, _CEIL(q * total))
    seen = 0
    for key in sorted(bins):
        seen += bins[key]
        if seen >= rank:
            return bin_value(key)
    raise AssertionError("unreachable: rank <= total")
