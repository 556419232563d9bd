"""Clocks: live mode reads the wall clock, replay follows event time."""

from __future__ import annotations

import time
from collections.abc import Callable


class EventTimeClock:
    """now = the largest `occurred_at` seen so far (replay mode)."""

    __slots__ = ("_now",)

    def __init__(self) -> None:
        self._now = float("-inf")

    def observe(self, ts: float) -> None:
        if ts > self._now:
            self._now = ts

    def now(self) -> float:
        return self._now


class WallClock:
    """now = the wall clock (live mode); `now_getter` lets tests own time."""

    __slots__ = ("_now_getter",)

    def __init__(self, now_getter: Callable[[], float] = time.time) -> None:
        self._now_getter = now_getter

    def observe(self, ts: float) -> None:
        """Event times do not move the wall clock."""

    def now(self) -> float:
        return self._now_getter()
