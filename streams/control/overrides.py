"""Live targets: overrides supervisors set at run time, layered over the file's targets.

Pure logic; `streams.control.store.RedisPlane` stores them. An override is a `Selector`
and target keys of `[defaults]`/`[[targets]]`, validated exactly as in the file.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from streams.config import check_selector, target_value
from streams.core.settings import SELECTOR_KEYS, TARGET_KEYS, ConfigError, Settings, TargetRule


@dataclass(frozen=True)
class Selector:
    """Which queues x channels x priorities an override applies to (None: any; all three
    None: every queue), checked like the selectors of a `[[targets]]` entry."""

    queue: str | None = None
    channel: str | None = None
    priority: str | None = None

    def __post_init__(self) -> None:
        check_selector(self.queue, self.channel, self.priority)  # as a [[targets]] entry

    def encode(self) -> str:
        """Its Redis hash field: JSON, unambiguous whatever the queue name holds."""
        return orjson.dumps([self.queue, self.channel, self.priority]).decode()

    @classmethod
    def decode(cls, field: str | bytes) -> Selector:
        queue, channel, priority = orjson.loads(field)
        return cls(queue, channel, priority)

    def describe(self) -> str:
        parts = [
            f"{k}={v}" for k, v in zip(SELECTOR_KEYS, dataclasses.astuple(self), strict=True) if v
        ]
        return " ".join(parts) if parts else "every queue"


Overrides = Mapping[Selector, Mapping[str, Any]]


def ordered(overrides: Overrides) -> list[tuple[Selector, Mapping[str, Any]]]:
    """Overrides in a stable order (by queue, channel, priority; any first)."""
    return sorted(
        overrides.items(),
        key=lambda item: (item[0].queue or "", item[0].channel or "", item[0].priority or ""),
    )


def parse_assignment(text: str) -> tuple[str, Any]:
    """'answer_within_seconds=30' -> (key, validated value). Values are TOML scalars
    (30, 0.85, "standard"); a bare word is a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"{text!r}: expected KEY=VALUE, e.g. answer_within_seconds=30")
    check_key(key)
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, target_value(key, value)


def check_key(key: str) -> str:
    if key not in TARGET_KEYS:
        raise ConfigError(f"{key}: unknown target key (known keys: {', '.join(TARGET_KEYS)})")
    return key


# Resolution is the file's: the most specific selector wins, and on equal selectors a
# live override beats the file. A key unset live is absent from the overrides, so the
# file's value applies again.
def with_live(settings: Settings, overrides: Overrides) -> Settings:
    """`settings` with the live overrides after the file's rules (they win ties)."""
    rules = tuple(
        TargetRule(selector.queue, selector.channel, selector.priority, dict(values))
        for selector, values in ordered(overrides)
        if values
    )
    return dataclasses.replace(settings, targets=settings.targets + rules) if rules else settings


def explain(
    settings: Settings, overrides: Overrides, queue: str, channel: str, priority: str
) -> dict[str, tuple[Any, str]]:
    """Each target key of one queue x channel x priority: (value, where it comes from:
    'default', 'built-in: <selector>', 'file: <selector>' or 'live: <selector>'), in
    `Settings.targets_for`'s order."""
    from_file = len(settings.targets)
    out = {key: (getattr(settings.defaults, key), "default") for key in TARGET_KEYS}
    for rule in settings.builtin_targets:
        if rule.matches(queue, channel, priority):
            where = Selector(rule.queue, rule.channel, rule.priority).describe()
            for key, value in rule.settings.items():
                if key not in settings.default_keys:
                    out[key] = (value, f"built-in: {where}")
    for index, rule in with_live(settings, overrides).rules_for(queue, channel, priority):
        where = Selector(rule.queue, rule.channel, rule.priority).describe()
        source = f"{'file' if index < from_file else 'live'}: {where}"
        for key, value in rule.settings.items():
            out[key] = (value, source)
    return out
