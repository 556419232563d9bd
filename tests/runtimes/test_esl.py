"""The FreeSWITCH event socket source against a stand-in: FreeSWITCH cannot run here, so a
small server inside this test speaks the inbound protocol as mod_event_socket.c does
(Content-Type: auth/request; `auth` answered `+OK accepted` or `-ERR invalid` and a
disconnect notice; `event plain ...` answered `+OK event listener enabled plain`; events
as `Content-Length`/`text/event-plain` frames) and plays mod_callcenter events written by
hand from mod_callcenter.c. It drops the connection midway, as a FreeSWITCH restart does."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import pytest

from streams.runtimes.esl import EslSource, parse_address
from tests.support.esl_stand_in import StandIn, calls
from tests.support.helpers import Metrics
from tests.support.live import LiveFloorwatch, wait_for


@pytest.fixture
def now() -> float:
    return time.time()


@pytest.fixture
def stand_in(now: float) -> Iterator[StandIn]:
    frames = calls(now)
    server = StandIn("s3cret", [frames[:4], frames[4:]])
    yield server
    server.close()


def test_the_source_authenticates_subscribes_and_reconnects(stand_in: StandIn) -> None:
    notes: list[str] = []

    async def collect() -> list[bytes]:
        source = EslSource("127.0.0.1", stand_in.port, "s3cret", retry_seconds=0.05,
                           idle_seconds=0.05, note=notes.append)  # fmt: skip
        got = []
        async for item in source.lines():
            if item:
                got.append(item)
            if len(got) == 8:
                return got
        return got

    got = asyncio.run(asyncio.wait_for(collect(), 30))
    assert got == calls_seen(stand_in)
    where = f"127.0.0.1:{stand_in.port}"
    assert notes[:3] == [
        f"FreeSWITCH event socket {where}: connected, subscribed",
        f"FreeSWITCH event socket {where}: closed by FreeSWITCH",
        f"FreeSWITCH event socket {where}: connected, subscribed",
    ]


def calls_seen(server: StandIn) -> list[bytes]:
    return [event for session in server.sessions for event in session]


def test_a_refused_password_is_said_and_retried_with_back_off() -> None:
    server = StandIn("right", [[]])
    notes: list[str] = []

    async def attempts() -> None:
        source = EslSource("127.0.0.1", server.port, "wrong", retry_seconds=0.05,
                           idle_seconds=0.05, note=notes.append)  # fmt: skip
        async for _ in source.lines():
            if server.refused >= 3:
                return

    try:
        asyncio.run(asyncio.wait_for(attempts(), 30))
    finally:
        server.close()
    where = f"127.0.0.1:{server.port}"
    assert notes[:3] == [
        f"FreeSWITCH event socket {where}: password refused (-ERR invalid); set "
        f"FLOORWATCH_FREESWITCH__PASSWORD; again in {delay:g} s"
        for delay in (0.05, 0.1, 0.2)
    ]


def test_addresses() -> None:
    assert parse_address("freeswitch://pbx.example:8022") == ("pbx.example", 8022)
    assert parse_address("freeswitch://10.0.0.5") == ("10.0.0.5", 8021)
    with pytest.raises(ValueError, match="give freeswitch://HOST:PORT"):
        parse_address("esl://pbx:8021")


@pytest.mark.slow
def test_run_shows_the_calls_of_the_event_socket_across_a_drop(stand_in: StandIn) -> None:
    os.environ["FLOORWATCH_FREESWITCH__PASSWORD"] = "s3cret"
    try:
        live = LiveFloorwatch(
            "--source", f"freeswitch://127.0.0.1:{stand_in.port}", "--format", "freeswitch"
        )
    finally:
        del os.environ["FLOORWATCH_FREESWITCH__PASSWORD"]
    try:
        labels = {"queue": "sales:40default", "channel": "voice"}

        def metrics() -> Metrics:
            return Metrics(live.get("/metrics")[1].decode())

        # caller-2 hung up after 1 s: a short abandon (under 5 s)
        wait_for(
            lambda: metrics().get("contactcenter_contacts_short_abandoned_total", **labels) == 1,
            30,
            "the events after the reconnection",
        )
        m = metrics()
        assert m.get("contactcenter_contacts_offered_total", **labels) == 2
        assert m.get("contactcenter_contacts_answered_total", **labels) == 1
        assert m.get("contactcenter_contacts_abandoned_total", **labels) == 0
        window = {**labels, "window": "5m"}
        assert m.get("contactcenter_handle_seconds_average", **window) == 3  # no wrap-up
        assert stand_in.accepted == 2
        wait_for(
            lambda: (
                metrics().get("contactcenter_agents", queue="sales:40default", state="available")
                == 1
            ),
            30,
            "alice available after the call",
        )
    finally:
        assert live.stop() == 0
