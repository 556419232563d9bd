"""FreeSWITCH mod_callcenter events (event socket, `event plain CUSTOM callcenter::info`) to
contract events (pure): each CC-Action in the terms of the queue_log connector, whose call
and agent model it shares. Headers as mod_callcenter.c emits them; tables in
docs/connectors.md."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import orjson

from streams.connectors.asterisk import TALKING, AsteriskOptions, QueueLogConnector
from streams.connectors.base import Mapped, decode_text, short_hash
from streams.core.contract import MAX_MESSAGE_BYTES
from streams.core.intake import Rejection

SUBCLASS = "callcenter::info"
# CC-Cancel-Reason of member-queue-end with CC-Cause Cancel (MEMBER_CANCEL_REASON_CHART):
# NONE or BREAK_OUT when the caller hung up (BREAK_OUT: the core broke the wait), the
# rest are exits in queue_log terms.
CANCELS = {
    "NONE": "ABANDON",
    "BREAK_OUT": "ABANDON",
    "TIMEOUT": "EXITWITHTIMEOUT",
    "NO_AGENT_TIMEOUT": "EXITEMPTY",
    "EXIT_WITH_KEY": "EXITWITHKEY",
}
# bridge-agent-fail causes that are not the agent's miss: another agent won the race
# (ring-all) or the caller went away while it rang.
NOT_MISSED = frozenset(("LOSE_RACE", "ORIGINATOR_CANCEL"))
ACTIONS_IGNORED = {
    "members-count": "members_count",
    "agent-add": "agent_settings",
    "agent-del": "agent_settings",
    "agent-contact-change": "agent_settings",
    "agent-max-no-answer": "agent_settings",
}
STATUS_BREAK = "On Break"
STATUS_LOGGED_OUT = "Logged Out"
STATE_IDLE = "Idle"


def parse_plain(body: bytes) -> dict[str, str]:
    """An event in the event socket's plain format: `Name: url-encoded value` lines."""
    headers: dict[str, str] = {}
    for line in decode_text(body).split("\n"):
        name, sep, value = line.partition(": ")
        if sep:
            headers[name] = unquote(value.rstrip("\r"))
    return headers


def parse_json(record: bytes) -> dict[str, str] | None:
    """An event in the event socket's JSON format (`event json`, one object per line)."""
    try:
        data = orjson.loads(record)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    return {str(k): str(v) for k, v in data.items()}


class FreeSwitchConnector(QueueLogConnector):
    """mod_callcenter's CUSTOM callcenter::info events to contract events. The caller's
    channel (CC-Member-Session-UUID) is the contact, CC-Agent the agent; agents' status
    (Logged Out, Available, On Break) and state (Idle) are kept per agent; event ids come
    from Core-UUID and Event-Sequence, FreeSWITCH's own ids of each event."""

    name = "freeswitch"

    def __init__(self, options: AsteriskOptions | None = None) -> None:
        super().__init__(options)
        self.agents_fs: dict[str, list[str]] = {}  # agent -> [status, state]

    def snapshot(self) -> dict[str, Any]:
        value = super().snapshot()
        value["agents_fs"] = self.agents_fs
        return value

    def restore(self, value: dict[str, Any]) -> None:
        super().restore(value)
        self.agents_fs = {a: list(v) for a, v in value.get("agents_fs", {}).items()}

    def feed(self, record: bytes) -> Mapped:
        if len(record) > MAX_MESSAGE_BYTES:
            return [Rejection("too_large", f"event of {len(record)} bytes exceeds 65536")]
        h = parse_json(record) if record[:1] == b"{" else parse_plain(record)
        if h is None:
            return [Rejection("invalid_json", "an `event json` line that is not a JSON object")]
        if h.get("Event-Subclass") != SUBCLASS:
            return self.ignore("not_callcenter")
        stamp = h.get("Event-Date-Timestamp", "")
        if not stamp.isdigit():
            return [
                Rejection(
                    "invalid_timestamp",
                    f"Event-Date-Timestamp {stamp[:40]!r}: not microseconds since 1970",
                )
            ]
        ts = int(stamp) / 1_000_000
        sequence = h.get("Event-Sequence", "")
        core = h.get("Core-UUID", "")
        if sequence.isdigit() and core:
            base = f"fs-{core[:40]}-{sequence}"
        else:
            base = f"fs-{int(ts)}-{short_hash(record)}"
        action = h.get("CC-Action", "")
        queue = h.get("CC-Queue", "")
        agent = h.get("CC-Agent", "")
        callid = h.get("CC-Member-Session-UUID", "")
        if action in ("member-queue-start", "member-queue-resume"):
            return self._dispatch(ts, base, callid, queue, "NONE", "ENTERQUEUE", [])
        if action == "bridge-agent-start":
            return self._dispatch(ts, base, callid, queue, agent, "CONNECT", [])
        if action == "bridge-agent-end":
            return self._dispatch(ts, base, callid, queue, agent, "COMPLETEAGENT", [])
        if action == "bridge-agent-fail":
            if h.get("CC-Hangup-Cause", "") in NOT_MISSED:
                return self._dispatch(ts, base, callid, queue, agent, "RINGCANCELED", [])
            ring = _seconds(h.get("CC-Agent-Aborted-Time"), h.get("CC-Agent-Called-Time"))
            data = [str(int(ring * 1000))] if ring is not None else []
            return self._dispatch(ts, base, callid, queue, agent, "RINGNOANSWER", data)
        if action == "member-queue-end":
            return self._queue_end(ts, base, callid, queue, h)
        if action == "agent-offering":
            return self._offering(ts, base, queue, agent)
        if action in ("agent-status-change", "agent-state-change"):
            return self._agent(ts, base, agent, h, action)
        if action in ACTIONS_IGNORED:
            return self.ignore(ACTIONS_IGNORED[action])
        if action.startswith("agent-") and action.endswith("-get"):
            return self.ignore("agent_settings")
        return [
            Rejection(
                "unknown_type",
                f"CC-Action {action[:40]!r} is not one Floorwatch maps or ignores "
                "(docs/connectors.md)",
            )
        ]

    def _queue_end(
        self, ts: float, base: str, callid: str, queue: str, h: dict[str, str]
    ) -> Mapped:
        cause = h.get("CC-Cause", "")
        if cause == "Terminated":  # after bridge-agent-end: the call is over already
            out = self._release(ts, False) if self.timers else []
            call = self.calls.get(callid)
            if call is not None and call.agent is not None and call.state == TALKING:
                return out + self._dispatch(
                    ts, base, callid, queue, call.agent, "COMPLETECALLER", []
                )
            return out
        if cause != "Cancel":
            return [Rejection("invalid_value", f"member-queue-end: CC-Cause {cause[:40]!r}")]
        # The source code's header; the documentation's CC-Cause-Reason is accepted too.
        reason = h.get("CC-Cancel-Reason", h.get("CC-Cause-Reason", "NONE"))
        event = CANCELS.get(reason)
        if event is None:
            return [
                Rejection("invalid_value", f"member-queue-end: CC-Cancel-Reason {reason[:40]!r}")
            ]
        return self._dispatch(ts, base, callid, queue, "NONE", event, [])

    def _offering(self, ts: float, base: str, queue: str, agent: str) -> Mapped:
        """The agent is rung: nothing for the contact; the agent is known in the queue."""
        out = self._release(ts, False) if self.timers else []
        name = self._member(agent)
        if name is None or not queue:
            out.append(Rejection("missing_field", "agent-offering without CC-Agent or CC-Queue"))
            return out
        member = self._join(name, queue)
        self._agent_state(out, base, int(ts * 1000), name, member)
        return out

    def _agent(self, ts: float, base: str, agent: str, h: dict[str, str], action: str) -> Mapped:
        out = self._release(ts, False) if self.timers else []
        name = self._member(agent)
        if name is None:
            out.append(Rejection("missing_field", f"{action} without CC-Agent"))
            return out
        known = self.agents_fs.setdefault(name, ["", ""])
        if action == "agent-status-change":
            known[0] = h.get("CC-Agent-Status", "")
        else:
            known[1] = h.get("CC-Agent-State", "")
        status, state = known
        member = self._known(name)
        member.logged_off = True if status == STATUS_LOGGED_OUT else (False if status else None)
        if status == STATUS_BREAK:
            member.hold = STATUS_BREAK
        elif state == STATE_IDLE:
            member.hold = STATE_IDLE
        else:
            member.hold = None
        self._agent_state(out, base, int(ts * 1000), name, member, force=True)
        return out


def _seconds(later: str | None, earlier: str | None) -> float | None:
    if not later or not earlier or not later.isdigit() or not earlier.isdigit():
        return None
    return max(0.0, float(int(later) - int(earlier)))
