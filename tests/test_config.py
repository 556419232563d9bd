"""Configuration: defaults, target resolution, validation messages, environment overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from streams.config import load_settings, settings_from_mapping
from streams.core.settings import ConfigError


def error_of(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(data)
    return str(caught.value)


def test_built_in_defaults_follow_industry_practice() -> None:
    settings = settings_from_mapping({})
    voice = settings.targets_for("billing", "voice", "normal")
    chat = settings.targets_for("support", "chat", "normal")
    email = settings.targets_for("billing", "email", "normal")
    assert (voice.answer_within_seconds, voice.service_level_target) == (20, 0.80)
    assert (chat.answer_within_seconds, chat.first_response_within_seconds) == (30, 120)
    assert email.first_response_within_seconds == 14400
    assert voice.resolution_within_seconds == 86400
    assert settings.windows == ("5m", "15m", "1h", "today")
    assert settings.timezone == "UTC"


def test_most_specific_target_wins_and_keys_merge() -> None:
    settings = settings_from_mapping(
        {
            "defaults": {"answer_within_seconds": 20},
            "targets": [
                {"queue": "vip", "priority": "urgent", "answer_within_seconds": 5},
                {"queue": "vip", "answer_within_seconds": 10, "service_level_target": 0.9},
                {"channel": "voice", "answer_within_seconds": 15},
            ],
        }
    )
    urgent = settings.targets_for("vip", "voice", "urgent")
    assert urgent.answer_within_seconds == 5  # queue+priority (2 selectors) beats queue (1)
    assert urgent.service_level_target == 0.9  # merged from the less specific vip rule
    # One selector each: a queue rule beats a channel rule, wherever it stands in the file.
    assert settings.targets_for("vip", "voice", "normal").answer_within_seconds == 10
    assert settings.targets_for("vip", "chat", "normal").answer_within_seconds == 10
    assert settings.targets_for("other", "voice", "normal").answer_within_seconds == 15
    assert settings.targets_for("other", "chat", "normal").answer_within_seconds == 20


def test_same_selectors_apply_in_file_order() -> None:
    settings = settings_from_mapping(
        {
            "targets": [
                {"channel": "chat", "answer_within_seconds": 40},
                {"channel": "chat", "answer_within_seconds": 45},
            ]
        }
    )
    assert settings.targets_for("q", "chat", "low").answer_within_seconds == 45


def test_built_in_targets_stay_beside_unrelated_file_targets() -> None:
    """Built-in channel targets (chat 30 s / 120 s, email 4 h) are the lowest layer: a
    [[targets]] entry about something else does not drop them."""
    settings = settings_from_mapping({"targets": [{"queue": "vip", "team": "t1"}]})
    chat = settings.targets_for("support", "chat", "normal")
    assert (chat.answer_within_seconds, chat.first_response_within_seconds) == (30, 120)
    assert settings.targets_for("billing", "email", "normal").first_response_within_seconds == 14400
    vip_chat = settings.targets_for("vip", "chat", "normal")
    assert (vip_chat.team, vip_chat.answer_within_seconds) == ("t1", 30)
    assert settings.targets_for("vip", "voice", "normal").answer_within_seconds == 20


def test_file_defaults_beat_the_built_in_channel_targets() -> None:
    """A key set in [defaults] applies to every channel; the built-ins keep the keys the
    user did not set, and the user's own [[targets]] still beat [defaults]."""
    settings = settings_from_mapping({"defaults": {"first_response_within_seconds": 3600}})
    email = settings.targets_for("billing", "email", "normal")
    chat = settings.targets_for("support", "chat", "urgent")
    assert email.first_response_within_seconds == 3600
    assert (chat.first_response_within_seconds, chat.answer_within_seconds) == (3600, 30)
    settings = settings_from_mapping(
        {
            "defaults": {"first_response_within_seconds": 3600, "answer_within_seconds": 15},
            "targets": [{"channel": "email", "first_response_within_seconds": 7200}],
        }
    )
    assert settings.targets_for("billing", "email", "normal").first_response_within_seconds == 7200
    chat = settings.targets_for("support", "chat", "normal")
    assert (chat.first_response_within_seconds, chat.answer_within_seconds) == (3600, 15)


def test_defaults_from_the_environment_beat_the_built_ins_too() -> None:
    environ = {"FLOORWATCH_DEFAULTS__FIRST_RESPONSE_WITHIN_SECONDS": "600"}
    email = load_settings(None, environ).targets_for("q", "email", "normal")
    assert email.first_response_within_seconds == 600


def test_file_rules_with_fewer_selectors_than_a_channel_beat_the_built_ins() -> None:
    """A rule for every contact, or for one priority, is the user's: the built-in value of
    that key gives way to it where the rule applies, and stays where it does not."""
    settings = settings_from_mapping(
        {
            "targets": [
                {"priority": "urgent", "answer_within_seconds": 10},
                {"first_response_within_seconds": 900},
            ]
        }
    )
    urgent = settings.targets_for("support", "chat", "urgent")
    assert (urgent.answer_within_seconds, urgent.first_response_within_seconds) == (10, 900)
    assert settings.targets_for("support", "chat", "normal").answer_within_seconds == 30
    assert settings.targets_for("billing", "email", "low").first_response_within_seconds == 900


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"colour": "red"}, "colour: unknown key"),
        ({"defaults": {"answer_within": 20}}, "defaults.answer_within: unknown key"),
        (
            {"defaults": {"answer_within_seconds": "20"}},
            "defaults.answer_within_seconds: expected a number",
        ),
        (
            {"defaults": {"answer_within_seconds": 0}},
            "defaults.answer_within_seconds: 0 is out of range",
        ),
        (
            {"defaults": {"service_level_target": 0}},
            "defaults.service_level_target: 0 is out of range",
        ),
        (
            {"defaults": {"service_level_formula": "magic"}},
            "defaults.service_level_formula: 'magic' is not one of standard, abandons_met, "
            "answered_only",
        ),
        ({"defaults": {"at_risk_fraction": 1}}, "defaults.at_risk_fraction: 1 is out of range"),
        (
            {"defaults": {"short_abandon_seconds": -1}},
            "defaults.short_abandon_seconds: -1 is out of range",
        ),
        ({"defaults": {"answer_within_seconds": True}}, "expected a number, got bool"),
        (
            {"targets": [{"channel": "fax", "answer_within_seconds": 5}]},
            "targets[0].channel: 'fax' is not one of",
        ),
        ({"targets": [{"queue": "q"}]}, "targets[0]: sets nothing"),
        ({"targets": [{"queue": "q", "colour": 1}]}, "targets[0].colour: unknown key"),
        ({"targets": {"queue": "q"}}, "targets: expected an array of tables"),
        ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone 'Mars/Olympus'"),
        ({"windows": ["5m", "5m"]}, "windows: '5m' is listed twice"),
        ({"windows": ["5 minutes"]}, "windows: expected a positive duration"),
        ({"windows": ["15s"]}, "windows: '15s' is not a multiple of engine.bucket_seconds (10)"),
        ({"windows": []}, "windows: expected a non-empty list"),
        ({"staffing": {"shrinkage": 1}}, "staffing.shrinkage: 1 is out of range"),
        (
            {"staffing": {"arrival_window": "0m"}},
            "staffing.arrival_window: expected a positive duration",
        ),
        (
            {"engine": {"bucket_seconds": 15}},
            "engine.bucket_seconds: must divide 60 and be at most 10",
        ),
        ({"engine": {"max_queue_channels": 0}}, "engine.max_queue_channels: 0 must be at least 1"),
        ({"engine": {"dedup_capacity": 1.5}}, "engine.dedup_capacity: expected an integer"),
        ({"defaults": 5}, "defaults: expected a table"),
        ({"worker": {"store": "leveldb"}}, "worker.store: 'leveldb' is not one of rocksdb, memory"),
        ({"worker": {"batch_size": 0}}, "worker.batch_size: 0 must be at least 1"),
        ({"worker": {"tick_seconds": 0}}, "worker.tick_seconds: expected seconds between 0 and 60"),
        (
            {"worker": {"session_timeout_seconds": 3}},
            "worker.session_timeout_seconds: at least 6 s (the broker's default",
        ),
        ({"worker": {"queue": "x"}}, "worker.queue: unknown key"),
        (
            {"redis": {"url": "http://cache:6379"}},
            "redis.url: 'http://cache:6379' must start with redis:// (or rediss:// for TLS)",
        ),
        (
            {"redis": {"board_ttl_seconds": 1, "board_seconds": 2}},
            "redis.board_ttl_seconds: 1 must be longer than redis.board_seconds (2)",
        ),
        ({"redis": {"poll_seconds": 0}}, "redis.poll_seconds: expected seconds between 0 and 60"),
    ],
)
def test_invalid_values_are_named(data: dict, message: str) -> None:
    assert message in error_of(data)


def test_custom_windows_and_bucket_size() -> None:
    settings = settings_from_mapping({"windows": ["30s", "today"], "engine": {"bucket_seconds": 5}})
    assert settings.window_seconds() == {"30s": 30, "today": None}


def test_toml_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "floorwatch.toml"
    path.write_text(
        'timezone = "Europe/Berlin"\n[defaults]\nanswer_within_seconds = 25\n'
        '[[targets]]\nchannel = "email"\nfirst_response_within_seconds = 7200\n'
    )
    environ = {
        "FLOORWATCH_DEFAULTS__ANSWER_WITHIN_SECONDS": "30",
        "FLOORWATCH_WINDOWS": "5m, today",
        "FLOORWATCH_ENGINE__ORPHAN_HOLD": "2m",
        "HOME": "/ignored",
    }
    settings = load_settings(path, environ)
    assert settings.timezone == "Europe/Berlin"
    assert settings.defaults.answer_within_seconds == 30
    assert settings.windows == ("5m", "today")
    assert settings.engine.orphan_hold_seconds == 120
    assert settings.targets_for("q", "email", "normal").first_response_within_seconds == 7200


def test_worker_settings_from_the_environment() -> None:
    settings = load_settings(
        None,
        {
            "FLOORWATCH_WORKER__STORE_PATH": "/var/lib/floorwatch/w1",
            "FLOORWATCH_WORKER__CHECKPOINT_SECONDS": "0.25",
            "FLOORWATCH_KAFKA__FACTS_TOPIC": "facts",
        },
    )
    assert settings.worker.store_path == "/var/lib/floorwatch/w1"
    assert settings.worker.checkpoint_seconds == 0.25
    assert settings.worker.store == "rocksdb"
    assert settings.kafka.facts_topic == "facts"


def test_environment_values_are_validated_like_the_file() -> None:
    with pytest.raises(ConfigError, match=r"defaults\.service_level_target: 2 is out of range"):
        load_settings(None, {"FLOORWATCH_DEFAULTS__SERVICE_LEVEL_TARGET": "2"})


def test_unknown_environment_variable_is_an_error() -> None:
    with pytest.raises(ConfigError, match="FLOORWATCH_ANSWER_TARGET: unknown setting"):
        load_settings(None, {"FLOORWATCH_ANSWER_TARGET": "20"})


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "FLOORWATCH_KAFKA__TOPC",
            "environment variable FLOORWATCH_KAFKA__TOPC: unknown setting; "
            "did you mean FLOORWATCH_KAFKA__TOPIC?",
        ),
        (
            "FLOORWATCH_SERVER_PORT",
            "environment variable FLOORWATCH_SERVER_PORT: unknown setting; "
            "did you mean FLOORWATCH_SERVER__PORT?",
        ),
        (
            "FLOORWATCH_XYZ",
            "environment variable FLOORWATCH_XYZ: unknown setting; settings are "
            "FLOORWATCH_<SECTION>__<KEY> (e.g. FLOORWATCH_SERVER__PORT for [server] port), "
            "FLOORWATCH_TIMEZONE and FLOORWATCH_WINDOWS",
        ),
    ],
)
def test_unknown_environment_variable_suggests_the_closest_names(name: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, {name: "x"})
    assert str(caught.value) == message


def test_the_test_and_tool_variables_are_not_settings() -> None:
    """The tests' broker choice and the broker script's variables reach every command the
    tests start (they inherit the environment): they must not stop it."""
    tools = {
        "FLOORWATCH_KAFKA": "native",
        "FLOORWATCH_KAFKA_IMAGE": "apache/kafka:3.9.1",
        "FLOORWATCH_KAFKA_BOOTSTRAP": "127.0.0.1:9092",
        "FLOORWATCH_KAFKA_DIR": "/tmp/kafka",
        "FLOORWATCH_CACHE": "/tmp/cache",
        "FLOORWATCH_MAVEN_REPO": "/tmp/m2",
        "FLOORWATCH_PURE_PYTHON": "1",
    }
    assert load_settings(None, tools) == load_settings(None, {})


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    path.write_text("windows = ['1h']\n")
    assert load_settings(None, {"FLOORWATCH_CONFIG": str(path)}).windows == ("1h",)


def test_file_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file .*missing\.toml: not found"):
        load_settings(tmp_path / "missing.toml", {})
    broken = tmp_path / "broken.toml"
    broken.write_text("[defaults\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, {})


def test_a_file_that_is_not_utf8_is_named_with_the_offending_byte(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('timezone = "Europe/Zürich"\n'.encode("latin-1"))  # ü is 0xfc at 20
    with pytest.raises(ConfigError) as caught:
        load_settings(latin1, {})
    assert str(caught.value) == (
        f"config file {latin1}: not UTF-8 text (byte 0xfc at offset 20); save it as UTF-8"
    )


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, {})
    assert str(caught.value) == f"config file {tmp_path}: is a directory; give a TOML file"


def test_errors_in_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "floorwatch.toml"
    path.write_text("[[targets]]\nchannel = 'chat'\nanswer_within_seconds = 0\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})
    assert str(caught.value) == (
        f"{path}: targets[0].answer_within_seconds: 0 is out of range (0, ∞)"
    )


def test_errors_from_the_environment_name_the_variable(tmp_path: Path) -> None:
    """The file is fine; the variable that overrides it is not."""
    path = tmp_path / "floorwatch.toml"
    path.write_text("[server]\nport = 8000\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {"FLOORWATCH_SERVER__PORT": "-1"})
    assert str(caught.value) == (
        "environment variable FLOORWATCH_SERVER__PORT: server.port: -1 must be at least 0"
    )


@pytest.mark.parametrize(
    ("calendar", "message"),
    [
        ({"timezone": "Europe/Berlin"}, "calendars.office: no open hours"),
        ({"monday": "9-17"}, "calendars.office.monday: expected a local time like '06:00'"),
        ({"monday": "09:00"}, "calendars.office.monday: expected ranges like '09:00-17:00'"),
        ({"monday": "08:00-12:00,11:00-17:00"}, "calendars.office.monday: ranges overlap"),
        ({"monday": "09:00-17:00", "holidays": ["25.12.2026"]}, "is not a date"),
        ({"monday": "09:00-17:00", "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"monday": "09:00-17:00", "sunday_": "x"}, "calendars.office.sunday_: unknown key"),
    ],
)
def test_bad_calendars_are_refused_with_the_key(calendar: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        settings_from_mapping({"calendars": {"office": calendar}})


def test_a_target_naming_an_unknown_calendar_is_refused() -> None:
    data = {
        "calendars": {"office": {"monday": "09:00-17:00"}},
        "targets": [{"channel": "email", "calendar": "ofice"}],
    }
    with pytest.raises(ConfigError, match=r"targets\[0\]\.calendar: unknown calendar 'ofice'"):
        settings_from_mapping(data)


def test_calendars_parse_into_minutes_and_night_ranges() -> None:
    settings = settings_from_mapping(
        {
            "day_starts_at": "06:00",
            "calendars": {
                "night": {"timezone": "Europe/Berlin", "friday": "08:00-12:00,22:00-06:00"}
            },
            "defaults": {"calendar": "night"},
        }
    )
    (night,) = settings.calendars
    assert night.week[4] == ((480, 720), (1320, 1800))  # 22:00 + 8 h runs into Saturday
    assert night.week[0] == ()
    assert settings.day_starts_at_minutes == 360
    assert settings.targets_for("q", "email", "normal").calendar == "night"


def test_the_server_token_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    settings = load_settings(None, {"FLOORWATCH_SERVER__TOKEN": "0123"})
    assert settings.server.token == "0123"  # digits stay a string
    assert "0123" not in repr(settings)
    secret = tmp_path / "token"
    secret.write_text("s3cret\nignored\n")
    settings = settings_from_mapping({"server": {"token_file": str(secret)}})
    assert settings.server.token == "s3cret"
    with pytest.raises(ConfigError, match=r"server\.token_file: cannot read"):
        settings_from_mapping({"server": {"token_file": str(tmp_path / "missing")}})


def test_webhook_secrets_come_from_the_environment_or_files(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        {
            "FLOORWATCH_RECEIVE__TWILIO_AUTH_TOKEN": "0042",
            "FLOORWATCH_RECEIVE__PORT": "0",
            "FLOORWATCH_RECEIVE__ACK_TIMEOUT": "3s",
        },
    )
    receive = settings.receive
    assert (receive.twilio_auth_token, receive.port, receive.ack_timeout_seconds) == ("0042", 0, 3)
    assert "0042" not in repr(settings)
    secret = tmp_path / "zendesk"
    secret.write_text("signing-secret\n")
    receive = settings_from_mapping(
        {
            "receive": {
                "zendesk_secret_file": str(secret),
                "zendesk_groups": {"360001": "billing"},
                "public_url": "https://hooks.example.com/",
            }
        }
    ).receive
    assert receive.zendesk_secret == "signing-secret"
    assert receive.zendesk_groups == (("360001", "billing"),)
    assert receive.public_url == "https://hooks.example.com"
    assert receive.host == "127.0.0.1" and receive.max_body_bytes == 1 << 20


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"tls_cert": "a.pem"}, r"receive\.tls_cert and receive\.tls_key: give both or neither"),
        ({"public_url": "hooks.example.com"}, r"receive\.public_url: 'hooks\.example\.com' is not"),
        ({"connect_secret_file": "/nonexistent/x"}, r"receive\.connect_secret_file: cannot read"),
        ({"max_body_bytes": 10}, r"receive\.max_body_bytes"),
        ({"zendesk_group": {}}, r"receive\.zendesk_group"),
    ],
)
def test_receive_settings_are_checked(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from_mapping({"receive": table})


def test_stale_after_and_agent_thresholds() -> None:
    settings = settings_from_mapping(
        {
            "server": {"stale_after": "2m", "open_metrics": False},
            "agents": {"reasons": ["lunch"], "amber_after": {"away": "10m"}},
        }
    )
    assert settings.server.stale_after_seconds == 120
    assert settings.server.open_metrics is False
    assert settings.agents.reasons == ("lunch",)
    assert dict(settings.agents.amber_seconds) == {"away": 600.0, "after_contact_work": 120.0}
    assert dict(settings.agents.red_seconds) == {"away": 1800.0, "after_contact_work": 300.0}
    with pytest.raises(ConfigError, match=r"agents\.amber_after\.napping: unknown key"):
        settings_from_mapping({"agents": {"amber_after": {"napping": "1m"}}})
