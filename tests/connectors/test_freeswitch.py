"""The FreeSWITCH mod_callcenter connector against event bodies written by hand from
mod_callcenter.c (signalwire/freeswitch, src/mod/applications/mod_callcenter): the headers
each CC-Action carries there, with `CC-Cancel-Reason` as the source emits it (the
documentation says CC-Cause-Reason), in the event socket's plain format (switch_event.c,
switch_event_serialize: `Name: url-encoded value` lines, then a blank line). FreeSWITCH
cannot run here; expectations are worked out by hand beside each case."""

from __future__ import annotations

from typing import Any

import orjson

from streams.connectors import AsteriskOptions, FreeSwitchConnector
from streams.core.intake import Rejection

T = 1795338000  # 2026-11-22T09:00:00Z
MS = 1000
CORE = "b2b0b7c4-5d6e-4b1e-9a8a-1c2d3e4f5a6b"
CALLER = "7f4de0f6-3f2a-4c1b-8e57-0a9d2b3c4d51"
QUEUE = "support@default"
LABEL = "support:40default"  # "@" is not in the contract's pattern: escaped, reversibly


def frame(seq: int, at: int, **cc: str) -> bytes:
    """A CUSTOM callcenter::info event as mod_event_socket sends it in plain format."""
    headers = {
        "Event-Name": "CUSTOM",
        "Core-UUID": CORE,
        "FreeSWITCH-Hostname": "pbx1",
        "FreeSWITCH-Switchname": "pbx1",
        "FreeSWITCH-IPv4": "10.0.0.5",
        "Event-Date-Local": "2026-11-22%2009%3A00%3A00",
        "Event-Date-GMT": "Sun,%2022%20Nov%202026%2009%3A00%3A00%20GMT",
        "Event-Date-Timestamp": f"{at}000123",  # microseconds
        "Event-Calling-File": "mod_callcenter.c",
        "Event-Calling-Function": "cc_member_thread",
        "Event-Calling-Line-Number": "2101",
        "Event-Sequence": str(seq),
        "Event-Subclass": "callcenter%3A%3Ainfo",
    }
    headers.update({k.replace("_", "-"): v for k, v in cc.items()})
    return "".join(f"{name}: {value}\n" for name, value in headers.items()).encode() + b"\n"


def member(action: str, seq: int, at: int, caller: str = CALLER, **more: str) -> bytes:
    return frame(
        seq,
        at,
        CC_Queue="support%40default",
        CC_Action=action,
        CC_Member_UUID="e1a2b3c4-0000-4000-8000-000000000001",
        CC_Member_Session_UUID=caller,
        CC_Member_CID_Name="Jane%20Doe",
        CC_Member_CID_Number="0151000001",
        **more,
    )


def agent_event(action: str, seq: int, at: int, agent: str, **more: str) -> bytes:
    return frame(seq, at, CC_Agent=agent, CC_Action=action, **more)


def plain(item: dict[str, Any] | Rejection) -> Any:
    if isinstance(item, Rejection):
        return (item.reason, item.detail)
    return {k: v for k, v in item.items() if k != "event_id"}


def state(at: int, agent: str, state_: str, queues: list[str], reason: str | None = None) -> dict:
    event = {
        "type": "agent.state",
        "occurred_at": at * MS,
        "agent_id": agent,
        "state": state_,
        "queues": queues,
    }
    if reason is not None:
        event["reason"] = reason
    return event


def contact(type_: str, at: int, caller: str = CALLER, **fields: Any) -> dict:
    return {"type": type_, "occurred_at": at * MS, "contact_id": caller, **fields}


def mapped(*frames: bytes, options: AsteriskOptions | None = None) -> list[Any]:
    connector = FreeSwitchConnector(options)
    out: list[Any] = []
    for body in frames:
        out += connector.feed(body)
    return [plain(item) for item in out + connector.flush()]


def test_a_call_offered_missed_answered_and_ended_with_wrap_up() -> None:
    """Ring-all: bob rings 15 s without answer (NO_ANSWER), then alice answers at t+30;
    the bridge ends at t+150 (member-queue-end Terminated follows); wrap-up 10 s."""
    at = T + 150
    frames = [
        agent_event("agent-status-change", 100, T, "alice", CC_Agent_Status="Available"),
        agent_event("agent-state-change", 101, T, "alice", CC_Agent_State="Waiting"),
        member("member-queue-start", 102, T + 10),
        frame(103, T + 11, CC_Queue="support%40default", CC_Action="agent-offering",
              CC_Agent="bob", CC_Agent_Type="callback", CC_Agent_System="single_box",
              CC_Member_UUID="e1a2", CC_Member_Session_UUID=CALLER,
              CC_Member_CID_Name="Jane%20Doe", CC_Member_CID_Number="0151000001",
              CC_Member_DNIS="_undef_"),
        frame(104, T + 26, CC_Queue="support%40default", CC_Action="bridge-agent-fail",
              CC_Hangup_Cause="NO_ANSWER", CC_Agent="bob", CC_Agent_System="single_box",
              CC_Agent_Called_Time=str(T + 11), CC_Agent_Aborted_Time=str(T + 26),
              CC_Member_UUID="e1a2", CC_Member_Session_UUID=CALLER,
              CC_Member_Joined_Time=str(T + 10)),
        frame(105, T + 30, CC_Queue="support%40default", CC_Action="bridge-agent-start",
              CC_Agent="alice", CC_Agent_System="single_box", CC_Agent_UUID="a9",
              CC_Agent_Called_Time=str(T + 26), CC_Agent_Answered_Time=str(T + 30),
              CC_Member_Joined_Time=str(T + 10), CC_Member_UUID="e1a2",
              CC_Member_Session_UUID=CALLER),
        agent_event("agent-state-change", 106, T + 30, "alice",
                    CC_Agent_State="In%20a%20queue%20call"),
        frame(107, at, CC_Queue="support%40default", CC_Action="bridge-agent-end",
              CC_Hangup_Cause="NORMAL_CLEARING", CC_Agent="alice", CC_Agent_Bridged="true",
              CC_Bridge_Terminated_Time=str(at), CC_Member_Session_UUID=CALLER),
        member("member-queue-end", 108, at, CC_Hangup_Cause="NORMAL_CLEARING",
               CC_Cause="Terminated", CC_Agent="alice"),
        agent_event("agent-state-change", 109, at, "alice", CC_Agent_State="Waiting"),
    ]  # fmt: skip
    assert mapped(*frames, options=AsteriskOptions(wrapup_seconds=10)) == [
        state(T, "alice", "available", []),  # logged in, its queues not named yet
        contact("contact.queued", T + 10, queue=LABEL, channel="voice"),
        state(T + 11, "bob", "available", [LABEL]),
        contact("contact.missed", T + 26, agent_id="bob", ring_seconds=15.0),
        state(T + 30, "alice", "on_contact", [LABEL]),
        contact("contact.answered", T + 30, agent_id="alice"),
        contact("contact.ended", at),
        state(at, "alice", "after_contact_work", [LABEL]),
        contact("contact.wrapped", at + 10),
        state(at + 10, "alice", "available", [LABEL]),
    ]


def test_cancel_reasons_as_the_source_names_them() -> None:
    """member-queue-end with CC-Cause Cancel: BREAK_OUT (the caller hung up: the core broke
    the wait) is abandoned; TIMEOUT, NO_AGENT_TIMEOUT and EXIT_WITH_KEY are exits that
    count as abandoned by default, with their reason; the docs' CC-Cause-Reason works."""
    callers = [f"c-{i}" for i in range(5)]
    frames = [member("member-queue-start", 200 + i, T + 10 * i, c) for i, c in enumerate(callers)]
    frames += [
        member("member-queue-end", 300, T + 100, callers[0], CC_Cause="Cancel",
               CC_Cancel_Reason="BREAK_OUT"),
        member("member-queue-end", 301, T + 110, callers[1], CC_Cause="Cancel",
               CC_Cancel_Reason="TIMEOUT"),
        member("member-queue-end", 302, T + 120, callers[2], CC_Cause="Cancel",
               CC_Cancel_Reason="NO_AGENT_TIMEOUT"),
        member("member-queue-end", 303, T + 130, callers[3], CC_Cause="Cancel",
               CC_Cancel_Reason="EXIT_WITH_KEY"),
        member("member-queue-end", 304, T + 140, callers[4], CC_Cause="Cancel",
               CC_Cause_Reason="NONE"),
    ]  # fmt: skip
    out = mapped(*frames)
    assert [e for e in out if e["type"] != "contact.queued"] == [
        contact("contact.abandoned", T + 100, callers[0]),
        contact("contact.abandoned", T + 110, callers[1], reason="timeout"),
        contact("contact.abandoned", T + 120, callers[2], reason="empty"),
        # decided when the next event passes 130 + 5: the one at t+140, before its own
        contact("contact.abandoned", T + 130, callers[3], reason="key"),
        contact("contact.abandoned", T + 140, callers[4]),
    ]


def test_agent_status_and_state() -> None:
    frames = [
        frame(400, T, CC_Queue="support%40default", CC_Action="agent-offering", CC_Agent="carol",
              CC_Member_Session_UUID=CALLER),
        agent_event("agent-status-change", 401, T + 5, "carol", CC_Agent_Status="On%20Break"),
        agent_event("agent-status-change", 402, T + 60, "carol", CC_Agent_Status="Available"),
        agent_event("agent-state-change", 403, T + 61, "carol", CC_Agent_State="Idle"),
        agent_event("agent-state-change", 404, T + 90, "carol", CC_Agent_State="Waiting"),
        agent_event("agent-status-change", 405, T + 99, "carol", CC_Agent_Status="Logged%20Out"),
    ]  # fmt: skip
    assert mapped(*frames) == [
        state(T, "carol", "available", [LABEL]),
        state(T + 5, "carol", "away", [LABEL], reason="On Break"),
        state(T + 60, "carol", "available", [LABEL]),
        state(T + 61, "carol", "away", [LABEL], reason="Idle"),
        state(T + 90, "carol", "available", [LABEL]),
        state(T + 99, "carol", "offline", []),
    ]


def test_ids_are_freeswitchs_own_and_other_events_are_counted_or_rejected() -> None:
    connector = FreeSwitchConnector()
    (event,) = connector.feed(member("member-queue-start", 4711, T))
    assert isinstance(event, dict)
    assert event["event_id"] == f"fs-{CORE}-4711"
    heartbeat = b"Event-Name: HEARTBEAT\nCore-UUID: x\nEvent-Date-Timestamp: 1\n\n"
    assert connector.feed(heartbeat) == []
    assert connector.feed(frame(5, T, CC_Action="members-count", CC_Queue="q", CC_Count="3")) == []
    lost = frame(6, T, CC_Queue="q", CC_Action="bridge-agent-start", CC_Agent="a",
                 CC_Member_Session_UUID="never-queued")  # fmt: skip
    rejected = [plain(r) for r in connector.feed(lost)]
    assert rejected == [
        (
            "unknown_contact",
            "CONNECT for call never-queued that entered no queue earlier in this log",
        )
    ]
    odd = frame(7, T, CC_Action="member-teleport", CC_Queue="q")
    assert [plain(r) for r in connector.feed(odd)] == [
        ("unknown_type", "CC-Action 'member-teleport' is not one Floorwatch maps or ignores "
         "(docs/connectors.md)")
    ]  # fmt: skip
    no_time = b"Event-Subclass: callcenter%3A%3Ainfo\nCC-Action: agent-add\n\n"
    assert [plain(r) for r in connector.feed(no_time)] == [
        ("invalid_timestamp", "Event-Date-Timestamp '': not microseconds since 1970")
    ]
    assert connector.ignored == {"not_callcenter": 1, "members_count": 1}


def test_event_json_lines_map_like_plain_frames() -> None:
    """`event json` (and a capture of it, one object per line) is read too."""
    body = member("member-queue-start", 9, T)
    headers = dict(line.split(": ", 1) for line in body.decode().splitlines() if ": " in line)
    from urllib.parse import unquote

    as_json = orjson.dumps({k: unquote(v) for k, v in headers.items()})
    assert mapped(as_json) == mapped(body)
