"""Target lookup with a cache: queue x channel x priority -> TargetSettings."""

from __future__ import annotations

from streams.core.settings import Settings, TargetSettings


class TargetBook:
    """Resolves targets once per queue x channel x priority and caches them. Live
    targets replace the settings it resolves from (`replace`); `version` then changes,
    so whoever caches what it derives from targets knows to derive again."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.version = 0
        self._cache: dict[tuple[str, str, str], TargetSettings] = {}

    def get(self, queue: str, channel: str, priority: str) -> TargetSettings:
        key = (queue, channel, priority)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self.settings.targets_for(queue, channel, priority)
        return found

    def replace(self, settings: Settings) -> None:
        """Resolve from `settings` from now on (the file's targets plus live ones)."""
        self.settings = settings
        self._cache = {}
        self.version += 1
