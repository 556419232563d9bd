"""Window arithmetic: fixed time buckets in a ring, trailing windows and the local day.

A trailing window of length W at time `now` covers the bucket holding `now` and the
W / bucket_seconds - 1 buckets before it, so its span is between W - bucket and W.
`today` runs from the floor's day start (local midnight unless configured) to now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

S = TypeVar("S")


def day_bounds(now: float, zone: ZoneInfo, starts_at_minutes: int = 0) -> tuple[float, float]:
    """Epoch seconds of the start of the floor's day that holds `now` and of the next one:
    local midnight, or `starts_at_minutes` after it for a floor whose day starts at 06:00."""
    hour, minute = divmod(starts_at_minutes, 60)
    local = datetime.fromtimestamp(now, zone)
    day = local.date()
    start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).timestamp()
    if start > now:
        day -= timedelta(days=1)
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).timestamp()
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, hour, minute, tzinfo=zone).timestamp()
    return start, end


class BucketRing(Generic[S]):
    """The last `slots` time buckets of `bucket_seconds` each, created on first use and
    reused as time moves on; `trailing` merges the newest ones into window summaries."""

    __slots__ = ("bucket_seconds", "factory", "indexes", "slots", "summaries")

    def __init__(self, bucket_seconds: int, slots: int, factory: Callable[[], S]) -> None:
        self.bucket_seconds = bucket_seconds
        self.slots = slots
        self.factory = factory
        self.indexes = [-1] * slots
        self.summaries: list[S | None] = [None] * slots

    def at(self, ts: float, now: float) -> S | None:
        """The bucket for time `ts`, or None when `ts` is older than the ring reaches."""
        index = int(ts // self.bucket_seconds)
        slot = index % self.slots
        held = self.indexes[slot]
        if held == index:
            return self.summaries[slot]
        if index <= int(now // self.bucket_seconds) - self.slots or index < held:
            return None
        summary = self.factory()
        self.indexes[slot] = index
        self.summaries[slot] = summary
        return summary

    def snapshot(self, encode: Callable[[S], Any]) -> list[Any]:
        """The buckets held, as [[bucket index, encoded summary], ...]."""
        return [
            [index, encode(summary)]
            for index, summary in zip(self.indexes, self.summaries, strict=True)
            if summary is not None and index >= 0
        ]

    def restore(self, items: list[Any], decode: Callable[[Any], S], now: float) -> None:
        """Put stored buckets back, those the ring still reaches at `now`."""
        reach = int(now // self.bucket_seconds) - self.slots
        for index, encoded in items:
            if index > reach:
                slot = index % self.slots
                if index > self.indexes[slot]:
                    self.indexes[slot] = index
                    self.summaries[slot] = decode(encoded)

    def trailing(
        self, now: float, lengths: dict[str, int], merge: Callable[[S, S], None]
    ) -> dict[str, S]:
        """Merged summaries for each trailing window name -> length in seconds."""
        current = int(now // self.bucket_seconds)
        out: dict[str, S] = {}
        total = self.factory()
        order = sorted(lengths.items(), key=lambda item: item[1])
        back = 0
        for name, seconds in order:
            count = seconds // self.bucket_seconds
            while back < count:
                index = current - back
                slot = index % self.slots
                summary = self.summaries[slot]
                if summary is not None and self.indexes[slot] == index:
                    merge(total, summary)
                back += 1
            snapshot = self.factory()
            merge(snapshot, total)
            out[name] = snapshot
        return out
