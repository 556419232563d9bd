"""Target lookup with a cache: queue x channel x priority -> TargetSettings."""

from __future__ import annotations

from datetime import date

from streams.core.calendar import Calendar
from streams.core.settings import Settings, TargetSettings


class TargetBook:
    """Resolves targets once per queue x channel x priority and caches them. Live
    targets replace the settings it resolves from (`replace`); `version` then changes,
    so whoever caches what it derives from targets knows to derive again."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.version = 0
        self._cache: dict[tuple[str, str, str], TargetSettings] = {}
        self._calendars = _calendars(settings)

    def get(self, queue: str, channel: str, priority: str) -> TargetSettings:
        key = (queue, channel, priority)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self.settings.targets_for(queue, channel, priority)
        return found

    def calendar(self, targets: TargetSettings) -> Calendar | None:
        """The business-hours calendar of resolved targets (None: wall-clock time, also for
        a live target naming a calendar this process's configuration lacks)."""
        name = targets.calendar
        return None if name is None else self._calendars.get(name)

    def replace(self, settings: Settings) -> None:
        """Resolve from `settings` from now on (the file's targets plus live ones)."""
        self.settings = settings
        self._cache = {}
        self._calendars = _calendars(settings)
        self.version += 1


def _calendars(settings: Settings) -> dict[str, Calendar]:
    return {
        c.name: Calendar(
            c.name, c.timezone, c.week, frozenset(date.fromisoformat(d) for d in c.holidays)
        )
        for c in settings.calendars
    }
