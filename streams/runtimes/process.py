"""Process-wide settings for a long-lived engine process."""

from __future__ import annotations

import gc

# The engine keeps hundreds of thousands of small long-lived objects (contacts, buckets)
# and builds no reference cycles on its hot path, so CPython's default collector
# (a young-generation pass every 700 allocations) spent about 30 % of replay time
# traversing them. Rarer young collections and full ones keep the safety net at a
# fraction of the cost.
GC_THRESHOLDS = (100_000, 50, 1000)


def tune_gc() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
