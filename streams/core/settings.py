"""Settings the core runs on: plain frozen dataclasses, resolved target rules.

Loading and validating them (TOML, environment) is `streams.config`'s job; the core
only reads them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

FORMULAS = ("standard", "abandons_met", "answered_only")


class ConfigError(ValueError):
    """A configuration problem; the message names the key (and the file, when it came
    from one) and what is wrong."""


_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, key: str) -> int:
    """'15m' -> 900. Durations are whole seconds, minutes, hours or days."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or int(match.group(1)) == 0:
        raise ConfigError(
            f"{key}: expected a positive duration like '30s', '15m', '1h' or '7d', got {text!r}"
        )
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@dataclass(frozen=True)
class TargetSettings:
    """Service-level and SLA targets that apply to one queue x channel x priority,
    resolved from `[defaults]`, the `[[targets]]` rules and live overrides."""

    answer_within_seconds: float = 20.0
    service_level_target: float = 0.80
    service_level_formula: str = "standard"
    short_abandon_seconds: float = 5.0
    first_response_within_seconds: float = 3600.0
    resolution_within_seconds: float = 86400.0
    at_risk_fraction: float = 0.25
    team: str | None = None
    calendar: str | None = None  # a [calendars.NAME]: SLA targets count business seconds


TARGET_KEYS = tuple(TargetSettings.__dataclass_fields__)
SELECTOR_KEYS = ("queue", "channel", "priority")


@dataclass(frozen=True)
class TargetRule:
    """One `[[targets]]` entry: the selectors it matches (queue, channel, priority; None
    matches any) and the target keys it sets."""

    queue: str | None
    channel: str | None
    priority: str | None
    settings: Mapping[str, Any]

    def matches(self, queue: str, channel: str, priority: str) -> bool:
        return (
            (self.queue is None or self.queue == queue)
            and (self.channel is None or self.channel == channel)
            and (self.priority is None or self.priority == priority)
        )

    @property
    def specificity(self) -> tuple[int, bool, bool, bool]:
        """More selectors is more specific; on a tie queue > channel > priority."""
        given = (self.queue is not None, self.channel is not None, self.priority is not None)
        return (sum(given), *given)


@dataclass(frozen=True)
class StaffingSettings:
    """Real-time staffing (Erlang C): the windows that estimate arrivals and handle time,
    shrinkage, the occupancy cap, and the handle time assumed before any contact ended."""

    arrival_window_seconds: int = 900
    handle_window_seconds: int = 3600
    shrinkage: float = 0.0
    max_occupancy: float = 0.85
    default_aht_seconds: float = 300.0  # until a contact of the queue completed


@dataclass(frozen=True)
class EngineSettings:
    """Bounds that keep memory finite (queue x channels, remembered ids and contacts,
    parked events) and the bucket size of every window; all have safe defaults."""

    bucket_seconds: int = 10
    max_queue_channels: int = 1000
    dedup_capacity: int = 1_000_000
    closed_contact_retention_seconds: int = 3 * 86400
    max_closed_contacts: int = 200_000
    orphan_hold_seconds: int = 60
    max_parked_events: int = 10_000


@dataclass(frozen=True)
class ServerSettings:
    """Where and how `floorwatch run` (and a worker) serves HTTP: the wallboard, the API
    and `/metrics`, on loopback unless told otherwise; the access token (from the
    environment or a file, never logged), and when the board calls its data stale."""

    host: str = "127.0.0.1"
    port: int = 9641
    token: str | None = field(default=None, repr=False)  # FLOORWATCH_SERVER__TOKEN
    token_file: str | None = None  # a file holding the token (its first line)
    open_metrics: bool = True  # /metrics, /healthz, /readyz answer without the token
    stale_after_seconds: float = 60.0  # no event for this long: the board says stale


@dataclass(frozen=True)
class ReceiveSettings:
    """`floorwatch receive` (and `run --source http://`): where vendors' webhooks arrive,
    TLS, the body size and read limits, how long a request waits for the broker, and each
    connector's secret (environment or file, never logged) and name maps. A connector
    without its secret is not served."""

    host: str = "127.0.0.1"
    port: int = 9643
    tls_cert: str | None = None
    tls_key: str | None = None
    max_body_bytes: int = 1 << 20
    read_timeout_seconds: float = 10.0  # a client slower than this to send its body: 408
    ack_timeout_seconds: float = 10.0  # the broker slower than this to acknowledge: 503
    public_url: str | None = None  # the base URL vendors call (Twilio signs the full URL)
    twilio_auth_token: str | None = field(default=None, repr=False)
    zendesk_secret: str | None = field(default=None, repr=False)
    connect_secret: str | None = field(default=None, repr=False)
    twilio_activities: tuple[tuple[str, str], ...] = ()  # activity name -> state[:reason]
    zendesk_groups: tuple[tuple[str, str], ...] = ()  # group id -> queue name
    connect_queues: tuple[tuple[str, str], ...] = ()  # queue ARN or id -> queue name


@dataclass(frozen=True)
class AgentSettings:
    """The floor's view of agents: the reasons counted by name in
    `contactcenter_agents_by_reason` (a bounded list; others count as "other"), and how
    long an agent may stay in a state before the wallboard turns amber, then red."""

    reasons: tuple[str, ...] = ("break", "lunch", "training", "meeting", "coaching")
    amber_seconds: tuple[tuple[str, float], ...] = (
        ("away", 900.0),
        ("after_contact_work", 120.0),
    )
    red_seconds: tuple[tuple[str, float], ...] = (
        ("away", 1800.0),
        ("after_contact_work", 300.0),
    )


SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class KafkaSettings:
    """Kafka connection and topics. Passwords belong in the environment
    (FLOORWATCH_KAFKA__SASL_PASSWORD), not in a file under version control."""

    bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = "contact-events"
    dlq_topic: str = "contact-events-dlq"
    facts_topic: str = "floorwatch-facts"  # contact stage -> queue stage, partitioned by queue
    partitions: int = 6
    consumer_group: str = "floorwatch"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None


@dataclass(frozen=True)
class RedisSettings:
    """Redis, the control and serving plane: live targets and the cluster board. Off
    unless `url` is set (redis://, or rediss:// for TLS). The password belongs in
    FLOORWATCH_REDIS__PASSWORD (or the URL from the environment), not in a file."""

    url: str | None = None
    password: str | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    key_prefix: str = "floorwatch"  # several clusters may share one Redis
    poll_seconds: float = 0.5  # how often live targets are checked for a change
    board_seconds: float = 1.0  # how often a worker writes its part of the board
    board_ttl_seconds: float = 5.0  # a dead worker's part of the board expires after this


STORES = ("rocksdb", "memory")


@dataclass(frozen=True)
class WorkerSettings:
    """`floorwatch worker`: where Tables live, how many records a fetch applies as one
    batch, how often state is written and clocks tick, and the stop deadline."""

    store: str = "rocksdb"  # "memory" keeps Tables in RAM (tests); changelogs stay in Kafka
    store_path: str = "floorwatch-data"
    batch_size: int = 5000  # records per fetch (max.poll.records), applied as one batch
    checkpoint_seconds: float = 1.0  # queue stage writes changed queues at most this often
    tick_seconds: float = 0.5  # partition clocks advance at least this often
    session_timeout_seconds: float = 10.0  # a silent worker's partitions move after this
    stop_timeout_seconds: float = 20.0  # SIGTERM/SIGINT: exit at once if not stopped by then


@dataclass(frozen=True)
class CalendarSettings:
    """One `[calendars.NAME]` table: the time zone, the open ranges of each weekday
    (Monday first; minutes from local midnight, an end past 1440 runs into the next day)
    and the holidays (ISO dates, whole local days closed)."""

    name: str
    timezone: str
    week: tuple[tuple[tuple[int, int], ...], ...]
    holidays: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """Everything a Floorwatch process runs on, as loaded by `streams.config`: time zone,
    windows, targets and their rules, staffing, engine bounds, server, Kafka, worker and
    Redis settings. `targets_for` resolves the targets of one queue x channel x priority."""

    timezone: str = "UTC"
    windows: tuple[str, ...] = ("5m", "15m", "1h", "today")
    defaults: TargetSettings = field(default_factory=TargetSettings)
    targets: tuple[TargetRule, ...] = ()
    staffing: StaffingSettings = field(default_factory=StaffingSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    agents: AgentSettings = field(default_factory=AgentSettings)
    receive: ReceiveSettings = field(default_factory=ReceiveSettings)
    calendars: tuple[CalendarSettings, ...] = ()
    day_starts_at_minutes: int = 0  # the floor's day (the `today` window) starts here
    # Built-in per-channel targets: the lowest layer, below every key the user sets.
    builtin_targets: tuple[TargetRule, ...] = ()
    default_keys: frozenset[str] = frozenset()  # keys [defaults] sets explicitly

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def window_seconds(self) -> dict[str, int | None]:
        """Window name -> trailing length in seconds (None for `today`)."""
        return {w: None if w == "today" else parse_duration(w, "windows") for w in self.windows}

    def targets_for(self, queue: str, channel: str, priority: str) -> TargetSettings:
        """Resolve targets key by key: defaults, then matching rules from least to most specific.

        Specificity: the number of selectors; on a tie a rule naming the queue beats one
        naming the channel, which beats one naming the priority; rules with the same
        selectors apply in file order (the later wins).
        """
        values = self.builtin_values(queue, channel, priority)
        for _, rule in self.rules_for(queue, channel, priority):
            values.update(rule.settings)
        return merged_targets(self.defaults, values) if values else self.defaults

    def builtin_values(self, queue: str, channel: str, priority: str) -> dict[str, Any]:
        """The built-in targets that apply: those of matching built-in rules, less the keys
        set in [defaults] (every rule of the user's beats them too)."""
        values: dict[str, Any] = {}
        for rule in self.builtin_targets:
            if rule.matches(queue, channel, priority):
                for key, value in rule.settings.items():
                    if key not in self.default_keys:
                        values[key] = value
        return values

    def rules_for(self, queue: str, channel: str, priority: str) -> list[tuple[int, TargetRule]]:
        """The rules matching one queue x channel x priority, with their index in
        `targets`, in the order `targets_for` applies them (a stable sort: file order on
        equal specificity)."""
        matching = [
            (index, rule)
            for index, rule in enumerate(self.targets)
            if rule.matches(queue, channel, priority)
        ]
        return sorted(matching, key=lambda item: item[1].specificity)


def merged_targets(base: TargetSettings, values: Mapping[str, Any]) -> TargetSettings:
    merged = {k: getattr(base, k) for k in TARGET_KEYS}
    merged.update(values)
    return TargetSettings(**merged)
