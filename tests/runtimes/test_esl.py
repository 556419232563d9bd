"""The FreeSWITCH event socket source against a stand-in: FreeSWITCH cannot run here, so a
small server inside this test speaks the inbound protocol as mod_event_socket.c does
(Content-Type: auth/request; `auth` answered `+OK accepted` or `-ERR invalid` and a
disconnect notice; `event plain ...` answered `+OK event listener enabled plain`; events
as `Content-Length`/`text/event-plain` frames) and plays mod_callcenter events written by
hand from mod_callcenter.c. It drops the connection midway, as a FreeSWITCH restart does."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from streams.runtimes.esl import EslSource, parse_address
from tests.support.helpers import Metrics
from tests.support.live import LiveFloorwatch, wait_for

DISCONNECT = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


def body(seq: int, at: float, **cc: str) -> bytes:
    headers = {
        "Event-Name": "CUSTOM",
        "Core-UUID": "b2b0b7c4-5d6e-4b1e-9a8a-1c2d3e4f5a6b",
        "FreeSWITCH-Hostname": "pbx1",
        "Event-Date-Timestamp": str(int(at * 1_000_000)),
        "Event-Calling-File": "mod_callcenter.c",
        "Event-Sequence": str(seq),
        "Event-Subclass": "callcenter%3A%3Ainfo",
    }
    headers.update({k.replace("_", "-"): v for k, v in cc.items()})
    return "".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n"


def calls(now: float) -> list[bytes]:
    """Two callers in sales@default: one answered by alice (status Available) after 1 s and
    talking 3 s, one who hangs up after 1 s of waiting (CC-Cancel-Reason BREAK_OUT); the
    second half comes after the drop."""
    q = {"CC_Queue": "sales%40default"}
    return [
        body(1, now, CC_Agent="alice", CC_Action="agent-status-change",
             CC_Agent_Status="Available"),
        body(2, now, CC_Action="member-queue-start", CC_Member_Session_UUID="caller-1", **q),
        body(3, now, CC_Action="agent-offering", CC_Agent="alice",
             CC_Member_Session_UUID="caller-1", **q),
        body(4, now + 1, CC_Action="bridge-agent-start", CC_Agent="alice",
             CC_Member_Session_UUID="caller-1", CC_Agent_Answered_Time=str(int(now + 1)), **q),
        # -- the connection drops here --
        body(5, now + 2, CC_Action="member-queue-start", CC_Member_Session_UUID="caller-2", **q),
        body(6, now + 3, CC_Action="member-queue-end", CC_Member_Session_UUID="caller-2",
             CC_Cause="Cancel", CC_Cancel_Reason="BREAK_OUT", **q),
        body(7, now + 4, CC_Action="bridge-agent-end", CC_Agent="alice",
             CC_Hangup_Cause="NORMAL_CLEARING", CC_Member_Session_UUID="caller-1", **q),
        body(8, now + 4, CC_Action="member-queue-end", CC_Member_Session_UUID="caller-1",
             CC_Cause="Terminated", CC_Agent="alice", **q),
    ]  # fmt: skip


class StandIn:
    """mod_event_socket's inbound side for one test: each connection gets the next list
    of frames; the connection is closed after its list unless it is the last one."""

    def __init__(self, password: str, sessions: list[list[bytes]]) -> None:
        self.password = password
        self.sessions = sessions
        self.accepted = 0
        self.refused = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.server.settimeout(0.1)
        while not self.done.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            with conn:
                self._session(conn)

    def _read(self, conn: socket.socket) -> bytes:
        data = b""
        while not data.endswith(b"\n\n"):
            chunk = conn.recv(1)
            if not chunk:
                return data
            data += chunk
        return data

    def _session(self, conn: socket.socket) -> None:
        conn.sendall(b"Content-Type: auth/request\n\n")
        if self._read(conn) != f"auth {self.password}\n\n".encode():
            self.refused += 1
            conn.sendall(b"Content-Type: command/reply\nReply-Text: -ERR invalid\n\n")
            conn.sendall(
                b"Content-Type: text/disconnect-notice\nContent-Length: %d\n\n%s"
                % (len(DISCONNECT), DISCONNECT)
            )
            return
        conn.sendall(b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
        if self._read(conn) != b"event plain CUSTOM callcenter::info\n\n":
            return
        conn.sendall(
            b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n"
        )
        index = min(self.accepted, len(self.sessions) - 1)
        self.accepted += 1
        for event in self.sessions[index]:
            conn.sendall(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(event))
            conn.sendall(event)
        if index == len(self.sessions) - 1:
            self.done.wait(60)  # the last session stays open until the test ends

    def close(self) -> None:
        self.done.set()
        self.thread.join(10)
        self.server.close()


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
