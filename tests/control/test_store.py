"""Live targets against a real Redis: the CLI, the audit trail, validation, password and
TLS, and a worker-side follower that keeps the last targets while Redis is down."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from streams.cli.main import main
from streams.config import settings_from_mapping
from streams.control.follower import TargetFollower
from streams.control.overrides import Selector
from streams.control.status import RedisStatus
from streams.control.store import RedisPlane
from streams.core.settings import RedisSettings
from streams.core.targets import TargetBook
from tests.conftest import require_tool
from tests.support.redis_server import RedisServer, make_tls, running_redis

pytestmark = pytest.mark.redis


@pytest.fixture
def env(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> RedisServer:
    monkeypatch.setenv("FLOORWATCH_REDIS__URL", redis_server.url)
    monkeypatch.delenv("FLOORWATCH_CONFIG", raising=False)
    return redis_server


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_set_get_list_unset_history(env: RedisServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "targets", "set", "--queue", "support", "--channel", "voice", "--by", "alice",
        "answer_within_seconds=30", "service_level_target=0.9",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines() == [
        "queue=support channel=voice: answer_within_seconds (file) -> 30",
        "queue=support channel=voice: service_level_target (file) -> 0.9",
    ]
    code, out, _ = run(
        capsys, "targets", "get", "--queue", "support", "--channel", "voice", "--json"
    )
    resolved = json.loads(out)
    assert resolved["answer_within_seconds"] == {
        "value": 30,
        "from": "live: queue=support channel=voice",
    }
    assert resolved["short_abandon_seconds"] == {"value": 5.0, "from": "default"}
    # The built-in chat targets are the lowest layer; a live rule for chat beats them.
    run(capsys, "targets", "set", "--channel", "chat", "--by", "bob", "answer_within_seconds=60")
    _, out, _ = run(capsys, "targets", "get", "--queue", "sales", "--channel", "chat", "--json")
    assert json.loads(out)["answer_within_seconds"] == {"value": 60, "from": "live: channel=chat"}
    assert json.loads(out)["first_response_within_seconds"] == {
        "value": 120,
        "from": "built-in: channel=chat",
    }
    _, out, _ = run(capsys, "targets", "list", "--json")
    listed = json.loads(out)
    assert listed["version"] == 2
    assert listed["overrides"] == [
        {
            "queue": None,
            "channel": "chat",
            "priority": None,
            "targets": {"answer_within_seconds": 60},
        },
        {
            "queue": "support",
            "channel": "voice",
            "priority": None,
            "targets": {"answer_within_seconds": 30, "service_level_target": 0.9},
        },
    ]
    code, out, _ = run(
        capsys, "targets", "unset", "--queue", "support", "--channel", "voice", "--by", "carol",
        "service_level_target",
    )  # fmt: skip
    assert (code, out) == (0, "queue=support channel=voice: service_level_target 0.9 -> (file)\n")
    _, out, _ = run(capsys, "targets", "history", "--json")
    trail = [
        (e["who"], e["queue"], e["channel"], e["key"], e["old"], e["new"]) for e in json.loads(out)
    ]
    assert trail == [  # newest first
        ("carol", "support", "voice", "service_level_target", 0.9, None),
        ("bob", None, "chat", "answer_within_seconds", None, 60),
        ("alice", "support", "voice", "service_level_target", None, 0.9),
        ("alice", "support", "voice", "answer_within_seconds", None, 30),
    ]
    _, out, _ = run(capsys, "targets", "set", "--channel", "chat", "answer_within_seconds=60")
    assert out == "channel=chat: nothing changed\n"


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["answer_within_seconds=-5"], "answer_within_seconds: -5 is out of range (0, ∞)"),
        (["service_level_target=1.5"], "service_level_target: 1.5 is out of range (0, 1]"),
        (["service_level_formula=best"], "'best' is not one of standard, abandons_met"),
        (["wait=3"], "wait: unknown target key"),
        (["answer_within_seconds"], "expected KEY=VALUE"),
    ],
)
def test_invalid_values_are_rejected_with_the_reason(
    env: RedisServer, capsys: pytest.CaptureFixture[str], argv: list[str], reason: str
) -> None:
    code, out, err = run(capsys, "targets", "set", "--queue", "support", *argv)
    assert code == 2
    assert reason in err
    assert out == ""
    _, out, _ = run(capsys, "targets", "history", "--json")
    assert json.loads(out) == []  # nothing stored


def test_concurrent_changes_are_all_kept(redis_server: RedisServer) -> None:
    """Each change is a WATCHed transaction: racing supervisors lose nothing."""
    selector = Selector("support", "voice")

    async def race() -> tuple[tuple[int, str], dict, int]:
        planes = [RedisPlane(RedisSettings(url=redis_server.url)) for _ in range(8)]
        keys = ["answer_within_seconds", "short_abandon_seconds"]
        await asyncio.gather(
            *(
                plane.change(selector, {keys[i % 2]: float(10 + i)}, (), f"user{i}")
                for i, plane in enumerate(planes)
            )
        )
        version, overrides = await planes[0].live_targets()
        history = await planes[0].history(100)
        for plane in planes:
            await plane.close()
        return version, overrides, len(history)

    version, overrides, audited = asyncio.run(race())
    assert version[0] == 8 and audited == 8
    assert set(overrides[selector]) == {"answer_within_seconds", "short_abandon_seconds"}


def test_follower_applies_changes_and_keeps_them_while_redis_is_down(
    native_redis: RedisServer,
) -> None:
    base = settings_from_mapping({"redis": {"url": native_redis.url, "poll_seconds": 0.05}})
    book = TargetBook(base)
    status = RedisStatus()
    selector = Selector(channel="voice")

    def voice_answer() -> float:
        return book.get("support", "voice", "normal").answer_within_seconds

    async def wait_until(condition: Callable[[], object]) -> None:
        async with asyncio.timeout(10):
            while not condition():
                await asyncio.sleep(0.01)

    async def scenario() -> None:
        plane = RedisPlane(base.redis)
        following = TargetFollower(plane, book, base, status)
        follower = asyncio.create_task(following.run())
        await wait_until(lambda: status.up)
        assert voice_answer() == 20.0
        writer = RedisPlane(base.redis)
        await writer.change(selector, {"answer_within_seconds": 45.0}, (), "test")
        await wait_until(lambda: voice_answer() == 45.0)
        assert book.get("support", "chat", "normal").answer_within_seconds == 30.0  # file rule
        await writer.close()
        native_redis.stop()
        await wait_until(lambda: status.up is False)
        assert next(status.collect()).samples[0].value == 0.0
        assert voice_answer() == 45.0  # kept
        native_redis.start_again()  # empty: no live targets any more
        await wait_until(lambda: status.up)
        await wait_until(lambda: voice_answer() == 20.0)
        assert next(status.collect()).samples[0].value == 1.0
        writer = RedisPlane(base.redis)
        await writer.change(selector, {"answer_within_seconds": 50.0}, (), "test")
        await wait_until(lambda: voice_answer() == 50.0)
        follower.cancel()
        await writer.close()
        # Redis restarts empty and takes one change before the follower looks again:
        # version 1 again, as the follower last saw, but a new epoch.
        seen = following.seen
        native_redis.stop()
        native_redis.start_again()
        writer = RedisPlane(base.redis)
        await writer.change(selector, {"answer_within_seconds": 55.0}, (), "test")
        assert (await writer.version())[0] == seen[0] == 1
        await writer.close()
        async with asyncio.timeout(10):  # its first call meets the connection Redis closed
            while voice_answer() != 55.0:
                await following.check()
        await plane.close()

    asyncio.run(scenario())


def test_password_and_tls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = make_tls(require_tool("openssl", "openssl"), tmp_path / "tls")
    with running_redis(tmp_path / "redis", password="s3cret-for-tests", tls=tls) as server:
        assert server.url.startswith("rediss://")
        monkeypatch.setenv("FLOORWATCH_REDIS__URL", server.url)
        monkeypatch.setenv("FLOORWATCH_REDIS__SSL_CAFILE", str(tls.ca))
        code, _, err = run(capsys, "targets", "list")
        assert code == 3
        assert "AuthenticationError" in err and "s3cret" not in err
        monkeypatch.setenv("FLOORWATCH_REDIS__PASSWORD", "s3cret-for-tests")
        code, out, _ = run(
            capsys, "targets", "set", "--channel", "email", "first_response_within_seconds=7200"
        )
        assert (code, out) == (0, "channel=email: first_response_within_seconds (file) -> 7200\n")
        monkeypatch.delenv("FLOORWATCH_REDIS__SSL_CAFILE")
        code, _, err = run(capsys, "targets", "list")  # the server's CA is not trusted
        assert code == 3 and "SSL" in err.upper()


def test_without_redis_the_command_says_what_to_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLOORWATCH_REDIS__URL", raising=False)
    code, _, err = run(capsys, "targets", "list")
    assert code == 2
    assert "set [redis] url" in err and "FLOORWATCH_REDIS__URL" in err


def test_unreadable_live_targets_are_skipped_and_the_follower_goes_on(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Entries written by hand or by another release: each bad one is skipped (logged),
    the valid ones apply, nothing stops."""
    base = settings_from_mapping({"redis": {"url": redis_server.url}})
    client = redis_server.client()
    client.hset(
        "floorwatch:targets",
        mapping={
            Selector("a").encode(): b'{"answer_within_seconds": 40}',
            Selector("b").encode(): b"{not json",
            Selector("c").encode(): b'{"answer_within_seconds": -1}',
            Selector("d").encode(): b'{"wait": 3}',
            Selector("e").encode(): b'{"answer_within_seconds": "30"}',
            b'["f", "fax", null]': b'{"answer_within_seconds": 15}',
            b"not a selector": b'{"answer_within_seconds": 15}',
        },
    )
    client.set("floorwatch:targets:version", b"many")
    client.close()
    book = TargetBook(base)
    status = RedisStatus()

    async def check() -> None:
        plane = RedisPlane(base.redis)
        await TargetFollower(plane, book, base, status).check()
        await plane.close()

    with caplog.at_level(logging.WARNING, logger="floorwatch.redis"):
        asyncio.run(check())
    assert status.up is True
    assert book.get("a", "voice", "normal").answer_within_seconds == 40.0
    for queue in "bcde":
        assert book.get(queue, "voice", "normal").answer_within_seconds == 20.0
    assert book.get("f", "fax", "normal").answer_within_seconds == 20.0
    skipped = {
        record.field  # type: ignore[attr-defined]
        for record in caplog.records
        if record.getMessage() == "invalid live target skipped"
    }
    bad = {Selector(q).encode() for q in "bcde"}
    assert skipped == bad | {'["f", "fax", null]', "not a selector"}
