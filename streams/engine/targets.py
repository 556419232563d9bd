"""Target lookup with a cache: queue x channel x priority -> TargetSettings."""

from __future__ import annotations

from streams.config import Settings, TargetSettings


class TargetBook:
    """Resolves targets once per queue x channel x priority and caches them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cache: dict[tuple[str, str, str], TargetSettings] = {}

    def get(self, queue: str, channel: str, priority: str) -> TargetSettings:
        key = (queue, channel, priority)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self.settings.targets_for(queue, channel, priority)
        return found
