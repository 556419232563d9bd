"""Clocks: live mode reads the wall clock, replay follows event time."""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    """What the engine asks of a clock: `observe` an event time and get now, or just `now`.
    A base class rather than a Protocol, so compiled code calls it directly."""

    def observe(self, ts: float) -> float:
        """Note an event time; return now."""
        raise NotImplementedError

    def now(self) -> float:
        raise NotImplementedError


class EventTimeClock(Clock):
    """Replay mode's clock: now is the largest `occurred_at` seen so far, so a file
    replays the same whenever and however fast it is read."""

    def __init__(self) -> None:
        self._now = float("-inf")

    def observe(self, ts: float) -> float:
        if ts > self._now:
            self._now = ts
        return self._now

    def now(self) -> float:
        return self._now


class WallClock(Clock):
    """Live mode's clock: now is the wall clock, whatever the events say; `now_getter`
    lets tests own time."""

    def __init__(self, now_getter: Callable[[], float] = time.time) -> None:
        self._now_getter = now_getter

    def observe(self, ts: float) -> float:
        """Event times do not move the wall clock."""
        return self._now_getter()

    def now(self) -> float:
        return self._now_getter()


class ScaledClock(Clock):
    """Simulated time running `speed` times faster than the wall clock from `origin`.

    now = origin + (wall - wall_at_origin) * speed; speed 1.0 is the wall clock itself.
    """

    def __init__(
        self, origin: float, speed: float, now_getter: Callable[[], float] = time.time
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.origin = origin
        self.speed = speed
        self._now_getter = now_getter
        self._wall_origin = now_getter()

    def observe(self, ts: float) -> float:
        return self.now()

    def now(self) -> float:
        return self.origin + (self._now_getter() - self._wall_origin) * self.speed
