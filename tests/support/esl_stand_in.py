"""A stand-in for FreeSWITCH's event socket (mod_event_socket's inbound side), for tests:
FreeSWITCH cannot run here. It speaks the protocol as mod_event_socket.c does and plays
mod_callcenter events written by hand from mod_callcenter.c (`calls`); each connection
gets the next list of frames, as a FreeSWITCH restart would cut them."""

from __future__ import annotations

import socket
import threading

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
