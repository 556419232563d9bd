"""Pacing: how long to wait before sending each message, at a given speed.

Pure: the wall clock is injected (`now`), the caller sleeps (`paced`, or an asyncio loop).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator

from streams.simulator.noise import Emission

__all__ = ["Pacer", "backdated_start", "paced"]


class Pacer:
    """Paces messages by their event time: ``Pacer(60).delay(event_time)`` is how many
    seconds to wait before sending that message so that event time runs 60 times faster
    than the wall clock."""

    def __init__(
        self,
        # 1.0 = real time, 60 = an hour of events per wall minute, `math.inf` = as fast as
        # possible (never waits)
        speed: float,
        *,
        now: Callable[[], float] = time.monotonic,  # the wall clock; tests inject their own
        # The event time that corresponds to the first call's wall time (usually the
        # simulation start); by default the event time given in the first call.
        origin: float | None = None,
    ) -> None:
        if math.isnan(speed) or speed <= 0:
            raise ValueError("speed must be > 0 (math.inf = as fast as possible)")
        self.speed = speed
        self.now = now
        self.origin = origin
        self._wall_origin: float | None = None

    def delay(self, event_time: float) -> float:
        if math.isinf(self.speed):
            return 0.0
        current = self.now()
        if self._wall_origin is None:
            self._wall_origin = current
            if self.origin is None:
                self.origin = event_time
        assert self.origin is not None
        # Event time advances `speed` times faster than the wall clock from the first call
        # (or from `origin`). A consumer that falls behind is not slowed down further: late
        # messages get a wait of 0 until it has caught up; the schedule never drifts.
        due = self._wall_origin + (event_time - self.origin) / self.speed
        return max(0.0, due - current)


def paced(
    emissions: Iterable[Emission],
    pacer: Pacer,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Emission]:
    """Yield each emission when it is due (sleeping with `sleep`, injectable for tests)."""
    for emission in emissions:
        wait = pacer.delay(emission.at)
        if wait > 0:
            sleep(wait)
        yield emission


def backdated_start(duration: float, speed: float, now: float) -> float:
    """A start epoch for a run of `duration` seconds paced at `speed` from wall time `now`
    such that no event is ever ahead of the wall clock (a live engine rejects events more
    than 5 minutes in the future): the run ends at about `now` + duration / speed."""
    if math.isinf(speed):
        return now - duration
    return now - duration * (1.0 - 1.0 / speed) if speed > 1 else now
