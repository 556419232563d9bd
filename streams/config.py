"""Configuration: the TOML file of the CLI contract, validated, plus `FLOORWATCH_*` overrides.

Every error names the file or variable, the key and the problem, so an operator can fix
it without reading the source. Layering, lowest first: built-in defaults (with the
built-in channel targets), the TOML file, environment.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streams.core.calendar import WEEKDAYS
from streams.core.contract import AGENT_STATES, CHANNELS, PRIORITIES
from streams.core.settings import (
    FORMULAS,
    SASL_MECHANISMS,
    SECURITY_PROTOCOLS,
    SELECTOR_KEYS,
    STORES,
    TARGET_KEYS,
    AgentSettings,
    CalendarSettings,
    ConfigError,
    EngineSettings,
    KafkaSettings,
    ReceiveSettings,
    RedisSettings,
    ServerSettings,
    Settings,
    StaffingSettings,
    TargetRule,
    TargetSettings,
    WorkerSettings,
    merged_targets,
    parse_duration,
)

DEFAULT_CONFIG_FILE = "floorwatch.toml"
ENV_PREFIX = "FLOORWATCH_"
# Built-in per-channel targets (industry practice, metrics.md): the lowest layer. A key
# set in [defaults] replaces the built-in one of every channel, and every [[targets]]
# entry (or live target) that sets a key beats it where it matches.
BUILTIN_TARGETS: tuple[dict[str, Any], ...] = (
    {"channel": "chat", "answer_within_seconds": 30, "first_response_within_seconds": 120},
    {"channel": "email", "first_response_within_seconds": 14400},
)


# ---------------------------------------------------------------- validation helpers


def _number(
    value: Any,
    key: str,
    *,
    low: float,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key}: expected a number, got {type(value).__name__} {value!r}")
    too_low = value < low if low_inclusive else value <= low
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        lo = "[" if low_inclusive else "("
        hi = ("]" if high_inclusive else ")") if high is not None else ")"
        raise ConfigError(
            f"{key}: {value!r} is out of range {lo}{low}, {high if high is not None else '∞'}{hi}"
        )
    return float(value)


def _integer(value: Any, key: str, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key}: expected an integer, got {type(value).__name__} {value!r}")
    if value < low:
        raise ConfigError(f"{key}: {value!r} must be at least {low}")
    return value


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}: expected a non-empty string, got {value!r}")
    return value


def _choice(value: Any, key: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(choices)}")
    return value


def _table(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table, got {type(value).__name__}")
    return value


def _reject_unknown(table: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}{key}: unknown key (known keys: {', '.join(known)})")


def _target_value(key: str, value: Any, where: str) -> Any:
    name = f"{where}{key}"
    match key:
        case (
            "answer_within_seconds" | "first_response_within_seconds" | "resolution_within_seconds"
        ):
            return _number(value, name, low=0, low_inclusive=False)
        case "service_level_target":
            return _number(value, name, low=0, high=1, low_inclusive=False)
        case "service_level_formula":
            return _choice(value, name, FORMULAS)
        case "short_abandon_seconds":
            return _number(value, name, low=0)
        case "at_risk_fraction":
            return _number(value, name, low=0, high=1, high_inclusive=False)
        case "team" | "calendar":
            return _string(value, name)
    raise ConfigError(f"{name}: unknown key (known keys: {', '.join(TARGET_KEYS)})")


def target_value(key: str, value: Any) -> Any:
    """One target key's value, validated exactly as in the file (live targets)."""
    return _target_value(key, value, "")


def _targets_settings(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    return {k: _target_value(k, v, where) for k, v in table.items()}


def check_selector(
    queue: Any, channel: Any, priority: Any, where: str = ""
) -> tuple[str | None, str | None, str | None]:
    """A target rule's selectors (None: any), validated (file and live targets)."""
    return (
        None if queue is None else _string(queue, where + "queue"),
        None if channel is None else _choice(channel, where + "channel", CHANNELS),
        None if priority is None else _choice(priority, where + "priority", PRIORITIES),
    )


def _target_rule(entry: Any, index: int) -> TargetRule:
    where = f"targets[{index}]."
    entry = _table(entry, f"targets[{index}]")
    _reject_unknown(entry, SELECTOR_KEYS + TARGET_KEYS, where)
    queue, channel, priority = check_selector(
        entry.get("queue"), entry.get("channel"), entry.get("priority"), where
    )
    settings = {k: v for k, v in entry.items() if k not in SELECTOR_KEYS}
    if not settings:
        raise ConfigError(
            f"targets[{index}]: sets nothing; give at least one of {', '.join(TARGET_KEYS)}"
        )
    return TargetRule(queue, channel, priority, _targets_settings(settings, where))


_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def _clock_time(value: Any, key: str) -> int:
    """'06:00' -> minutes after local midnight (00:00 to 24:00)."""
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None or (match.group(1) == "24" and match.group(2) != "00"):
        raise ConfigError(f"{key}: expected a local time like '06:00', got {value!r}")
    return int(match.group(1)) * 60 + int(match.group(2))


def _ranges(value: Any, key: str) -> tuple[tuple[int, int], ...]:
    """'08:00-12:00,13:00-17:00' -> ((480, 720), (780, 1020)); an end at or before its
    start runs into the next day ('22:00-06:00' -> (1320, 1800))."""
    text = _string(value, key)
    out: list[tuple[int, int]] = []
    for part in text.split(","):
        start_text, dash, end_text = part.strip().partition("-")
        if not dash:
            raise ConfigError(f"{key}: expected ranges like '09:00-17:00', got {text!r}")
        start = _clock_time(start_text.strip(), key)
        end = _clock_time(end_text.strip(), key)
        if start == 24 * 60:
            raise ConfigError(f"{key}: a range cannot start at 24:00")
        if end <= start:
            end += 24 * 60
        out.append((start, end))
    out.sort()
    for (_, end), (start, _) in itertools.pairwise(out):
        if start < end:
            raise ConfigError(f"{key}: ranges overlap in {text!r}")
    return tuple(out)


CALENDAR_KEYS = ("timezone", *WEEKDAYS, "holidays")


def _calendars(table: Mapping[str, Any]) -> tuple[CalendarSettings, ...]:
    out = []
    for name, entry in table.items():
        where = f"calendars.{name}"
        entry = _table(entry, where)
        _reject_unknown(entry, CALENDAR_KEYS, f"{where}.")
        timezone = _string(entry.get("timezone", "UTC"), f"{where}.timezone")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{where}.timezone: unknown time zone {timezone!r}") from None
        week = tuple(
            _ranges(entry[day], f"{where}.{day}") if day in entry else () for day in WEEKDAYS
        )
        if not any(week):
            raise ConfigError(
                f"{where}: no open hours; give at least one weekday, e.g. monday = '09:00-17:00'"
            )
        holidays = entry.get("holidays", [])
        if not isinstance(holidays, list):
            raise ConfigError(f"{where}.holidays: expected a list of dates like '2026-12-25'")
        days = []
        for day in holidays:
            try:
                days.append(date.fromisoformat(day).isoformat())
            except (TypeError, ValueError):
                raise ConfigError(
                    f"{where}.holidays: {day!r} is not a date like '2026-12-25'"
                ) from None
        out.append(CalendarSettings(name, timezone, week, tuple(days)))
    return tuple(out)


def _check_calendars(
    calendars: tuple[CalendarSettings, ...],
    defaults: Mapping[str, Any],
    rules: tuple[TargetRule, ...],
) -> None:
    """Every `calendar` a target names is defined in [calendars]."""
    known = {c.name for c in calendars}
    named = [("defaults.calendar", defaults.get("calendar"))] + [
        (f"targets[{i}].calendar", rule.settings.get("calendar")) for i, rule in enumerate(rules)
    ]
    for key, name in named:
        if name is not None and name not in known:
            have = ", ".join(sorted(known)) or "none defined"
            raise ConfigError(f"{key}: unknown calendar {name!r} (calendars: {have})")


def _windows(value: Any, bucket_seconds: int) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(
            f"windows: expected a non-empty list like ['5m', '1h', 'today'], got {value!r}"
        )
    seen: list[str] = []
    for item in value:
        if item in seen:
            raise ConfigError(f"windows: {item!r} is listed twice")
        if item != "today":
            seconds = parse_duration(item, "windows")
            if seconds % bucket_seconds:
                raise ConfigError(
                    f"windows: {item!r} is not a multiple of "
                    f"engine.bucket_seconds ({bucket_seconds})"
                )
            if seconds > 86400:
                raise ConfigError(
                    f"windows: {item!r} is longer than 1d; use 'today' for a daily view"
                )
        seen.append(item)
    return tuple(seen)


_STAFFING_KEYS = (
    "arrival_window",
    "handle_window",
    "shrinkage",
    "max_occupancy",
    "default_aht_seconds",
)


def _staffing(table: Mapping[str, Any], bucket_seconds: int) -> StaffingSettings:
    _reject_unknown(table, _STAFFING_KEYS, "staffing.")
    base = StaffingSettings()
    windows = {}
    for key in ("arrival_window", "handle_window"):
        if key in table:
            seconds = parse_duration(table[key], f"staffing.{key}")
            if seconds % bucket_seconds or seconds > 86400:
                raise ConfigError(
                    f"staffing.{key}: must be at most 1d and a multiple of "
                    f"engine.bucket_seconds ({bucket_seconds})"
                )
            windows[key] = seconds
    return StaffingSettings(
        arrival_window_seconds=windows.get("arrival_window", base.arrival_window_seconds),
        handle_window_seconds=windows.get("handle_window", base.handle_window_seconds),
        shrinkage=_number(
            table["shrinkage"], "staffing.shrinkage", low=0, high=1, high_inclusive=False
        )
        if "shrinkage" in table
        else base.shrinkage,
        max_occupancy=_number(
            table["max_occupancy"], "staffing.max_occupancy", low=0, high=1, low_inclusive=False
        )
        if "max_occupancy" in table
        else base.max_occupancy,
        default_aht_seconds=_number(
            table["default_aht_seconds"], "staffing.default_aht_seconds", low=0, low_inclusive=False
        )
        if "default_aht_seconds" in table
        else base.default_aht_seconds,
    )


_ENGINE_DURATIONS = {
    "closed_contact_retention": "closed_contact_retention_seconds",
    "orphan_hold": "orphan_hold_seconds",
}
_ENGINE_INTEGERS = (
    "max_queue_channels",
    "dedup_capacity",
    "max_closed_contacts",
    "max_parked_events",
)


def _engine(table: Mapping[str, Any]) -> EngineSettings:
    known = ("bucket_seconds", *_ENGINE_INTEGERS, *_ENGINE_DURATIONS)
    _reject_unknown(table, known, "engine.")
    values: dict[str, Any] = {}
    if "bucket_seconds" in table:
        seconds = _integer(table["bucket_seconds"], "engine.bucket_seconds", low=1)
        if seconds > 10 or 60 % seconds:
            raise ConfigError(
                "engine.bucket_seconds: must divide 60 and be at most 10 (metrics.md)"
            )
        values["bucket_seconds"] = seconds
    for key in _ENGINE_INTEGERS:
        if key in table:
            values[key] = _integer(table[key], f"engine.{key}", low=1)
    for key, attr in _ENGINE_DURATIONS.items():
        if key in table:
            values[attr] = parse_duration(table[key], f"engine.{key}")
    return EngineSettings(**values)


SERVER_KEYS = ("host", "port", "token", "token_file", "open_metrics", "stale_after")


def _server(table: Mapping[str, Any]) -> ServerSettings:
    _reject_unknown(table, SERVER_KEYS, "server.")
    base = ServerSettings()
    host = _string(table["host"], "server.host") if "host" in table else base.host
    port = _integer(table["port"], "server.port", low=0) if "port" in table else base.port
    if port > 65535:
        raise ConfigError(f"server.port: {port} is not a TCP port (0-65535)")
    token, token_file = _secret(table, "token", "server.")
    open_metrics = table.get("open_metrics", base.open_metrics)
    if not isinstance(open_metrics, bool):
        raise ConfigError("server.open_metrics: expected true or false")
    stale = table.get("stale_after", "60s")
    stale_after = float(parse_duration(stale, "server.stale_after"))
    return ServerSettings(host, port, token, token_file, open_metrics, stale_after)


def _secret(table: Mapping[str, Any], key: str, where: str) -> tuple[str | None, str | None]:
    """A secret given as `key` (usually from the environment) or in the first line of the
    file `key_file`; returns (secret, file)."""
    secret = _string(table[key], where + key) if key in table else None
    path = _string(table[key + "_file"], f"{where}{key}_file") if key + "_file" in table else None
    if secret is None and path is not None:
        try:
            secret = Path(path).read_text(encoding="utf-8").split("\n", 1)[0].strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}{key}_file: cannot read {path!r}: {exc}") from None
        if not secret:
            raise ConfigError(f"{where}{key}_file: {path!r} holds no secret")
    return secret, path


RECEIVE_SECRETS = ("twilio_auth_token", "zendesk_secret", "connect_secret")
RECEIVE_MAPS = ("twilio_activities", "zendesk_groups", "connect_queues")
RECEIVE_KEYS = (
    "host",
    "port",
    "tls_cert",
    "tls_key",
    "max_body_bytes",
    "read_timeout",
    "ack_timeout",
    "public_url",
    *RECEIVE_SECRETS,
    *(key + "_file" for key in RECEIVE_SECRETS),
    *RECEIVE_MAPS,
)


def _receive(table: Mapping[str, Any]) -> ReceiveSettings:
    _reject_unknown(table, RECEIVE_KEYS, "receive.")
    base = ReceiveSettings()
    host = _string(table["host"], "receive.host") if "host" in table else base.host
    port = _integer(table["port"], "receive.port", low=0) if "port" in table else base.port
    if port > 65535:
        raise ConfigError(f"receive.port: {port} is not a TCP port (0-65535)")
    cert = _string(table["tls_cert"], "receive.tls_cert") if "tls_cert" in table else None
    key = _string(table["tls_key"], "receive.tls_key") if "tls_key" in table else None
    if (cert is None) != (key is None):
        raise ConfigError("receive.tls_cert and receive.tls_key: give both or neither")
    max_body = base.max_body_bytes
    if "max_body_bytes" in table:
        max_body = _integer(table["max_body_bytes"], "receive.max_body_bytes", low=1024)
    public_url = None
    if "public_url" in table:
        public_url = _string(table["public_url"], "receive.public_url").rstrip("/")
        if urlsplit(public_url).scheme not in ("http", "https"):
            raise ConfigError(
                f"receive.public_url: {public_url!r} is not an http(s) URL "
                "(the base URL the vendors call, e.g. https://hooks.example.com)"
            )
    secrets = {name: _secret(table, name, "receive.")[0] for name in RECEIVE_SECRETS}
    maps: dict[str, tuple[tuple[str, str], ...]] = {}
    for name in RECEIVE_MAPS:
        entries = _table(table.get(name, {}), f"receive.{name}")
        maps[name] = tuple((str(k), _string(v, f"receive.{name}.{k}")) for k, v in entries.items())
    return ReceiveSettings(
        host=host,
        port=port,
        tls_cert=cert,
        tls_key=key,
        max_body_bytes=max_body,
        read_timeout_seconds=float(
            parse_duration(table.get("read_timeout", "10s"), "receive.read_timeout")
        ),
        ack_timeout_seconds=float(
            parse_duration(table.get("ack_timeout", "10s"), "receive.ack_timeout")
        ),
        public_url=public_url,
        twilio_auth_token=secrets["twilio_auth_token"],
        zendesk_secret=secrets["zendesk_secret"],
        connect_secret=secrets["connect_secret"],
        twilio_activities=maps["twilio_activities"],
        zendesk_groups=maps["zendesk_groups"],
        connect_queues=maps["connect_queues"],
    )


def _agents(table: Mapping[str, Any]) -> AgentSettings:
    _reject_unknown(table, ("reasons", "amber_after", "red_after"), "agents.")
    base = AgentSettings()
    reasons = table.get("reasons", list(base.reasons))
    if not isinstance(reasons, list) or not all(
        isinstance(r, str) and 0 < len(r) <= 64 for r in reasons
    ):
        raise ConfigError("agents.reasons: expected a list of reason names (1-64 characters)")
    if len(reasons) > 50:
        raise ConfigError(
            f"agents.reasons: at most 50 reasons (labels stay bounded), got {len(reasons)}"
        )
    thresholds = {}
    for key, default in (("amber_after", base.amber_seconds), ("red_after", base.red_seconds)):
        given = _table(table.get(key, {}), f"agents.{key}")
        _reject_unknown(given, AGENT_STATES, f"agents.{key}.")
        values = dict(default)
        for state, text in given.items():
            values[state] = float(parse_duration(text, f"agents.{key}.{state}"))
        thresholds[key] = tuple(sorted(values.items()))
    return AgentSettings(tuple(reasons), thresholds["amber_after"], thresholds["red_after"])


_KAFKA_KEYS = tuple(KafkaSettings.__dataclass_fields__)
_REDIS_KEYS = tuple(RedisSettings.__dataclass_fields__)
REDIS_SCHEMES = ("redis://", "rediss://")


def redacted_url(url: str | None) -> str:
    """A URL without its user and password, fit for messages and logs."""
    if url is None:
        return "(not set)"
    scheme, sep, rest = url.partition("://")
    _, at, host = rest.rpartition("@")
    return f"{scheme}{sep}***@{host}" if at else url


def _redis(table: Mapping[str, Any]) -> RedisSettings:
    _reject_unknown(table, _REDIS_KEYS, "redis.")
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = f"redis.{key}"
        if key.endswith("_seconds"):
            values[key] = _positive_seconds(value, name)
        else:
            values[key] = _string(value, name)
    redis = RedisSettings(**values)
    if redis.url is not None:
        if not redis.url.startswith(REDIS_SCHEMES):
            raise ConfigError(
                f"redis.url: {redacted_url(redis.url)!r} must start with redis:// "
                "(or rediss:// for TLS)"
            )
        try:
            urlsplit(redis.url).port  # noqa: B018 (raises on a malformed host:port)
        except ValueError:
            raise ConfigError(
                f"redis.url: {redacted_url(redis.url)!r} is not a valid URL (a password "
                "with / or @ must be percent-encoded, or given in FLOORWATCH_REDIS__PASSWORD)"
            ) from None
    if redis.board_ttl_seconds <= redis.board_seconds:
        raise ConfigError(
            f"redis.board_ttl_seconds: {redis.board_ttl_seconds:g} must be longer than "
            f"redis.board_seconds ({redis.board_seconds:g}), or live workers would blink out"
        )
    return redis


def _kafka(table: Mapping[str, Any]) -> KafkaSettings:
    _reject_unknown(table, _KAFKA_KEYS, "kafka.")
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = f"kafka.{key}"
        if key == "partitions":
            values[key] = _integer(value, name, low=1)
        elif key == "security_protocol":
            values[key] = _choice(value, name, SECURITY_PROTOCOLS)
        elif key == "sasl_mechanism":
            values[key] = _choice(value, name, SASL_MECHANISMS)
        else:
            values[key] = _string(value, name)
    kafka = KafkaSettings(**values)
    if kafka.security_protocol.startswith("SASL") and not (
        kafka.sasl_mechanism and kafka.sasl_username and kafka.sasl_password
    ):
        raise ConfigError(
            f"kafka.security_protocol: {kafka.security_protocol} needs kafka.sasl_mechanism, "
            "kafka.sasl_username and the password in FLOORWATCH_KAFKA__SASL_PASSWORD"
        )
    return kafka


def _worker(table: Mapping[str, Any]) -> WorkerSettings:
    _reject_unknown(table, _WORKER_KEYS, "worker.")
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = f"worker.{key}"
        if key == "store":
            values[key] = _choice(value, name, STORES)
        elif key == "store_path":
            values[key] = _string(value, name)
        elif key == "batch_size":
            values[key] = _integer(value, name, low=1)
        elif key == "session_timeout_seconds":
            values[key] = _positive_seconds(value, name)
            if values[key] < MIN_SESSION_TIMEOUT_SECONDS:
                raise ConfigError(
                    f"{name}: at least {MIN_SESSION_TIMEOUT_SECONDS:g} s (the broker's default "
                    f"group.min.session.timeout.ms), got {value!r}"
                )
        else:
            values[key] = _positive_seconds(value, name)
    return WorkerSettings(**values)


def _positive_seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 60:
        raise ConfigError(f"{name}: expected seconds between 0 and 60, got {value!r}")
    return float(value)


_WORKER_KEYS = tuple(WorkerSettings.__dataclass_fields__)
MIN_SESSION_TIMEOUT_SECONDS = 6.0

TOP_LEVEL_KEYS = (
    "timezone",
    "windows",
    "defaults",
    "targets",
    "staffing",
    "engine",
    "server",
    "kafka",
    "worker",
    "redis",
    "calendars",
    "day_starts_at",
    "agents",
    "receive",
)


def settings_from_mapping(data: Mapping[str, Any]) -> Settings:
    """Validate a parsed configuration (file plus overrides) into Settings."""
    _reject_unknown(data, TOP_LEVEL_KEYS, "")
    timezone = _string(data.get("timezone", "UTC"), "timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"timezone: unknown time zone {timezone!r} (use an IANA name like 'Europe/Berlin')"
        ) from None
    engine = _engine(_table(data.get("engine", {}), "engine"))
    windows = _windows(data.get("windows", list(Settings().windows)), engine.bucket_seconds)
    defaults_table = _table(data.get("defaults", {}), "defaults")
    _reject_unknown(defaults_table, TARGET_KEYS, "defaults.")
    defaults = merged_targets(TargetSettings(), _targets_settings(defaults_table, "defaults."))
    rules: tuple[TargetRule, ...] = ()
    if "targets" in data:
        if not isinstance(data["targets"], list):
            raise ConfigError("targets: expected an array of tables ([[targets]])")
        rules = tuple(_target_rule(entry, i) for i, entry in enumerate(data["targets"]))
    calendars = _calendars(_table(data.get("calendars", {}), "calendars"))
    _check_calendars(calendars, defaults_table, rules)
    staffing = _staffing(_table(data.get("staffing", {}), "staffing"), engine.bucket_seconds)
    server = _server(_table(data.get("server", {}), "server"))
    agents = _agents(_table(data.get("agents", {}), "agents"))
    kafka = _kafka(_table(data.get("kafka", {}), "kafka"))
    worker = _worker(_table(data.get("worker", {}), "worker"))
    redis = _redis(_table(data.get("redis", {}), "redis"))
    receive = _receive(_table(data.get("receive", {}), "receive"))
    return Settings(
        timezone=timezone,
        windows=windows,
        defaults=defaults,
        targets=rules,
        staffing=staffing,
        engine=engine,
        server=server,
        kafka=kafka,
        worker=worker,
        redis=redis,
        agents=agents,
        receive=receive,
        calendars=calendars,
        day_starts_at_minutes=_clock_time(data.get("day_starts_at", "00:00"), "day_starts_at"),
        builtin_targets=tuple(_target_rule(entry, i) for i, entry in enumerate(BUILTIN_TARGETS)),
        default_keys=frozenset(defaults_table),
    )


def _env_key_paths() -> dict[str, tuple[str, ...]]:
    """FLOORWATCH_* variable -> key path. Nested keys use a double underscore."""
    paths: dict[str, tuple[str, ...]] = {
        "TIMEZONE": ("timezone",),
        "WINDOWS": ("windows",),
    }
    sections = {
        "defaults": TARGET_KEYS,
        "staffing": _STAFFING_KEYS,
        "engine": ("bucket_seconds", *_ENGINE_INTEGERS, *_ENGINE_DURATIONS),
        "server": SERVER_KEYS,
        "kafka": _KAFKA_KEYS,
        "worker": _WORKER_KEYS,
        "redis": _REDIS_KEYS,
        "receive": tuple(key for key in RECEIVE_KEYS if key not in RECEIVE_MAPS),
    }
    for section, keys in sections.items():
        for key in keys:
            paths[f"{section.upper()}__{key.upper()}"] = (section, key)
    return paths


ENV_KEY_PATHS = _env_key_paths()
# Variables read elsewhere (not configuration keys of the TOML file).
# Not settings: the file's path, the build switch (setup.py), devtools/kafka/broker.sh's
# variables and the tests' choice of broker (tests/support/kafka_broker.py), which the commands
# they start inherit.
ENV_OTHER = (
    "CONFIG",
    "PURE_PYTHON",
    "CACHE",
    "MAVEN_REPO",
    "KAFKA_DIR",
    "KAFKA_BOOTSTRAP",
    "KAFKA",
    "KAFKA_IMAGE",
    "FREESWITCH__PASSWORD",  # read by the FreeSWITCH source (streams/runtimes/esl.py)
)


# Taken as written, never parsed.
SECRET_KEYS = ("token", "password", "sasl_password", *RECEIVE_SECRETS)


def _env_value(raw: str, path: tuple[str, ...]) -> Any:
    if path == ("windows",):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if path[-1] in SECRET_KEYS:
        return raw
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _env_hint(suffix: str) -> str:
    """The closest known variables (difflib), else how the names are made."""
    scored = sorted(
        ((difflib.SequenceMatcher(None, suffix, known).ratio(), known) for known in ENV_KEY_PATHS),
        reverse=True,
    )
    best = scored[0][0]
    close = [ENV_PREFIX + known for ratio, known in scored if ratio >= max(0.6, best - 0.05)]
    if close:
        return f"did you mean {' or '.join(close[:3])}?"
    return (
        f"settings are {ENV_PREFIX}<SECTION>__<KEY> (e.g. {ENV_PREFIX}SERVER__PORT for "
        f"[server] port), {ENV_PREFIX}TIMEZONE and {ENV_PREFIX}WINDOWS"
    )


def _env_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """The configuration keys the FLOORWATCH_* variables set -> the variable
    ('server.port' -> 'FLOORWATCH_SERVER__PORT')."""
    return {
        ".".join(ENV_KEY_PATHS[name[len(ENV_PREFIX) :]]): name
        for name in environ
        if name.startswith(ENV_PREFIX) and name[len(ENV_PREFIX) :] in ENV_KEY_PATHS
    }


def apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Overlay FLOORWATCH_* variables on a parsed file; unknown variables are errors."""
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        suffix = name[len(ENV_PREFIX) :]
        if suffix in ENV_OTHER:
            continue
        path = ENV_KEY_PATHS.get(suffix)
        if path is None:
            raise ConfigError(f"environment variable {name}: unknown setting; {_env_hint(suffix)}")
        value = _env_value(raw, path)
        if len(path) == 1:
            merged[path[0]] = value
        else:
            section = merged.setdefault(path[0], {})
            if not isinstance(section, dict):
                raise ConfigError(f"{path[0]}: expected a table, got {type(section).__name__}")
            section[path[1]] = value
    return merged


def load_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Load the configuration the CLI contract describes.

    `path` None means `$FLOORWATCH_CONFIG`, else `floorwatch.toml` if present, else defaults.
    """
    environ = os.environ if environ is None else environ
    if path is None:
        path = environ.get(ENV_PREFIX + "CONFIG")
    if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        path = DEFAULT_CONFIG_FILE
    data = {} if path is None else _read_file(path)
    try:
        return settings_from_mapping(apply_env(data, environ))
    except ConfigError as exc:
        raise ConfigError(_where(str(exc), path, _env_variables(environ))) from None


def _read_file(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path}: is a directory; give a TOML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
            f"offset {exc.start}); save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be read: {exc.strerror}") from None


def _where(message: str, path: str | Path | None, variables: Mapping[str, str]) -> str:
    """A validation error with where the bad key comes from: the variable that set it,
    else the file (messages start with the key: 'targets[0].team: ...')."""
    if message.startswith("environment variable "):
        return message
    key = message.split(": ", 1)[0]
    if key in variables:
        return f"environment variable {variables[key]}: {message}"
    return message if path is None else f"{path}: {message}"
