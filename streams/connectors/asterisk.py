"""Asterisk `queue_log` lines to contract events: calls, members, pauses, wrap-up (pure).

Layout `epoch|callid|queue|member|event|data...` (docs.asterisk.org, Queue Logs; what
apps/app_queue.c writes). Every mapping rule is a table in docs/connectors.md.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from streams.connectors.base import (
    Connector,
    Mapped,
    bounded,
    decode_text,
    queue_label,
    short_hash,
)
from streams.core.contract import MAX_MESSAGE_BYTES
from streams.core.intake import Rejection

EXIT_POLICIES = ("abandoned", "flowout")
# Exits that are not the caller's own choice, with the option that says how they count.
EXIT_KINDS = {
    "EXITWITHTIMEOUT": "timeout",
    "EXITEMPTY": "empty",
    "EXITWITHKEY": "key",
    "WITHDRAW": "withdraw",
}
TRANSFERS = frozenset(("TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"))
COMPLETES = frozenset(("COMPLETEAGENT", "COMPLETECALLER"))
# Lines that are read and deliberately not mapped, with the reason they are counted under.
IGNORED = {
    "QUEUESTART": "queuestart",
    "CONFIGRELOAD": "configreload",
    "RINGCANCELED": "ring_canceled",
    "PENALTY": "member_settings",
    "RINGINUSE": "member_settings",
    "DID": "call_info",
    "INFO": "call_info",
    "JOINEMPTY": "not_joined",
    "JOINUNAVAIL": "not_joined",
    "FULL": "not_joined",
}
MEMBER_EVENTS = frozenset(
    (
        "ADDMEMBER",
        "REMOVEMEMBER",
        "PAUSE",
        "UNPAUSE",
        "PAUSEALL",
        "UNPAUSEALL",
        "AGENTLOGIN",
        "AGENTLOGOFF",
        "AGENTCALLBACKLOGIN",
        "AGENTCALLBACKLOGOFF",
    )
)
CALL_EVENTS = frozenset(
    (
        "ENTERQUEUE",
        "CONNECT",
        "ABANDON",
        "RINGNOANSWER",
        "AGENTDUMP",
        "SYSCOMPAT",
        *EXIT_KINDS,
        *TRANSFERS,
        *COMPLETES,
    )
)
# Member events Asterisk writes with the queue NONE (they concern every queue).
NO_QUEUE_EVENTS = frozenset(
    (
        "PAUSEALL",
        "UNPAUSEALL",
        "AGENTLOGIN",
        "AGENTLOGOFF",
        "AGENTCALLBACKLOGIN",
        "AGENTCALLBACKLOGOFF",
    )
)
NONE = "NONE"
MAX_REASON = 64

# Call states.
WAITING, TALKING, LEFT, DONE = range(4)
# Timer kinds, in the order they are released at the same instant: a wrap-up that ends
# at T is over before a line at T; a pending exit is decided only after the lines at T.
WRAP_END, EXIT_DUE = 0, 1


@dataclass(frozen=True)
class AsteriskOptions:
    """How the queue_log connector reads one site's log: wrap-up seconds per queue (Asterisk
    writes no wrap-up event; `wrapuptime` of queues.conf), how exits that are not the
    caller's choice count, how long a call that left a queue may take to enter the next
    one and still count as moved, and member aliases (interface -> agent id)."""

    wrapup_seconds: float = 0.0
    wrapup_by_queue: Mapping[str, float] = field(default_factory=dict)
    exits: Mapping[str, str] = field(default_factory=dict)  # kind -> abandoned | flowout
    requeue_within_seconds: float = 5.0
    members: Mapping[str, str] = field(default_factory=dict)
    call_retention_seconds: float = 3600.0  # a finished call is forgotten after this

    def wrapup(self, queue: str) -> float:
        return self.wrapup_by_queue.get(queue, self.wrapup_seconds)

    def exit_policy(self, kind: str) -> str:
        return self.exits.get(kind, DEFAULT_EXITS[kind])


# Timeouts and empty-queue exits count as abandoned by default (the caller was not
# served, and the standard service level must see it); an exit with a key is the caller's
# choice; a withdrawal is the system's deliberate hand-off, apart as a flow-out.
DEFAULT_EXITS = {"timeout": "abandoned", "empty": "abandoned", "key": "abandoned"}
DEFAULT_EXITS["withdraw"] = "flowout"
DEFAULT_EXITS["syscompat"] = "flowout"


class _Call:
    __slots__ = ("agent", "contact_id", "exit", "last", "queue", "state", "token", "wrapped_at")

    def __init__(self, contact_id: str, queue: str) -> None:
        self.contact_id = contact_id
        self.queue = queue  # the vendor's name
        self.state = WAITING
        self.agent: str | None = None  # the member on the call (TALKING), or who left it
        self.token = 0  # moves on with every queue entry: stale timers are skipped
        # A call that left its queue (LEFT): [kind or "transfer", at, event id base].
        self.exit: list[Any] | None = None
        self.wrapped_at: float | None = None  # transfer: the agent's wrap-up already over
        self.last = 0.0

    def dump(self) -> list[Any]:
        return [
            self.contact_id,
            self.queue,
            self.state,
            self.agent,
            self.token,
            self.exit,
            self.wrapped_at,
            self.last,
        ]

    @staticmethod
    def load(value: list[Any]) -> _Call:
        call = _Call(value[0], value[1])
        call.state, call.agent, call.token, call.exit, call.wrapped_at, call.last = value[2:]
        return call


class _Member:
    __slots__ = ("call", "emitted", "hold", "logged_off", "queues", "reason", "wrap")

    def __init__(self) -> None:
        self.queues: dict[str, bool] = {}  # vendor queue -> paused
        self.reason: str | None = None  # of the last pause
        self.call: str | None = None  # callid while on a call
        self.wrap: list[Any] | None = None  # [due, callid, token] during wrap-up
        # True after a logoff, False after an agent login, None when the log said neither.
        self.logged_off: bool | None = None
        self.hold: str | None = None  # away in every queue, with this reason (FreeSWITCH)
        self.emitted: list[Any] | None = None  # [state, queues, reason] last sent

    def dump(self) -> list[Any]:
        return [
            list(self.queues.items()),
            self.reason,
            self.call,
            self.wrap,
            self.logged_off,
            self.emitted,
            self.hold,
        ]

    @staticmethod
    def load(value: list[Any]) -> _Member:
        member = _Member()
        member.queues = {q: bool(p) for q, p in value[0]}
        member.reason, member.call, member.wrap, member.logged_off, member.emitted = value[1:6]
        member.hold = value[6]
        return member


class QueueLogConnector(Connector):
    """Asterisk `queue_log` lines to contract events. Keeps each call's queue entry and
    each member's memberships, pauses, call and wrap-up, so that agent states follow them;
    wrap-up ends and undecided exits are timers released by later lines (`advance` in live
    mode, `flush` at the end). Event ids derive from the line's text (a re-read is a
    duplicate); events a timer releases derive from the line that armed it."""

    name = "asterisk"

    def __init__(self, options: AsteriskOptions | None = None) -> None:
        super().__init__()
        self.options = options or AsteriskOptions()
        self.calls: dict[str, _Call] = {}
        self.members: dict[str, _Member] = {}
        self.timers: list[tuple[float, int, int, str, int]] = []  # due, kind, seq, key, token
        self.seq = 0
        self.recent: deque[tuple[float, str]] = deque()  # (last line time, callid)
        self._labels: dict[str, str] = {}

    # ------------------------------------------------------------------ state

    def snapshot(self) -> dict[str, Any]:
        value = super().snapshot()
        value.update(
            calls={cid: call.dump() for cid, call in self.calls.items()},
            members={name: m.dump() for name, m in self.members.items()},
            timers=[list(t) for t in self.timers],
            seq=self.seq,
            recent=[list(r) for r in self.recent],
        )
        return value

    def restore(self, value: dict[str, Any]) -> None:
        super().restore(value)
        self.calls = {cid: _Call.load(v) for cid, v in value["calls"].items()}
        self.members = {name: _Member.load(v) for name, v in value["members"].items()}
        self.timers = [(t[0], t[1], t[2], t[3], t[4]) for t in value["timers"]]
        heapq.heapify(self.timers)
        self.seq = value["seq"]
        self.recent = deque((r[0], r[1]) for r in value["recent"])

    # ------------------------------------------------------------------ input

    def feed(self, record: bytes) -> Mapped:
        if len(record) > MAX_MESSAGE_BYTES:
            return [Rejection("too_large", f"queue_log line of {len(record)} bytes exceeds 65536")]
        text = decode_text(record).rstrip("\r\n")
        fields = text.split("|")
        if len(fields) < 5:
            return [
                Rejection(
                    "missing_field",
                    f"not a queue_log line: {len(fields)} field(s) where "
                    "epoch|callid|queue|member|event are required",
                )
            ]
        epoch, callid, queue, member, event = fields[:5]
        try:
            ts = float(int(epoch))
        except ValueError:
            return [
                Rejection(
                    "invalid_timestamp",
                    f"queue_log epoch {epoch[:40]!r}: not whole seconds since 1970",
                )
            ]
        if ts < 0:
            return [Rejection("out_of_range", "queue_log epoch before 1970")]
        base = f"ast-{int(ts)}-{short_hash(record)}"
        return self._dispatch(ts, base, callid, queue, member, event, fields[5:])

    def _dispatch(
        self,
        ts: float,
        base: str,
        callid: str,
        queue: str,
        member: str,
        event: str,
        data: list[str],
    ) -> Mapped:
        """One record in queue_log terms (other connectors translate theirs to these):
        timers due by its time first, then the event; `base` starts its events' ids."""
        out: Mapped = self._release(ts, False) if self.timers else []
        if self.recent and self.recent[0][0] < ts - self.options.call_retention_seconds:
            self._sweep(ts)
        if event in CALL_EVENTS:
            if queue == NONE or not queue:
                return self._ignored(out, "no_queue")
            if not callid or callid == NONE:
                out.append(Rejection("missing_field", f"{event} without a call id (callid field)"))
                return out
            self._call_event(out, ts, base, callid, queue, self._member(member), event, data)
        elif event in MEMBER_EVENTS:
            if (queue == NONE or not queue) and event not in NO_QUEUE_EVENTS:
                return self._ignored(out, "no_queue")
            agent = self._member(member)
            if agent is None:
                out.append(Rejection("missing_field", f"{event} without a member (agent field)"))
                return out
            self._member_event(out, ts, base, queue, agent, event, data)
        elif event in IGNORED:
            return self._ignored(out, IGNORED[event])
        elif event.startswith("OUT"):
            return self._ignored(out, "outbound")
        else:
            out.append(
                Rejection(
                    "unknown_type",
                    f"queue_log event {event[:40]!r} is not one Floorwatch maps or ignores "
                    "(docs/connectors.md)",
                )
            )
        return out

    def advance(self, now: float) -> Mapped:
        return self._release(now, False) if self.timers else []

    def flush(self) -> Mapped:
        return self._release(float("inf"), True) if self.timers else []

    def _ignored(self, out: Mapped, reason: str) -> Mapped:
        self.ignore(reason)
        return out

    def _member(self, name: str) -> str | None:
        if not name or name == NONE:
            return None
        return bounded(self.options.members.get(name, name))

    def _label(self, queue: str) -> str:
        label = self._labels.get(queue)
        if label is None:
            label = self._labels[queue] = queue_label(queue)
        return label

    # ------------------------------------------------------------------ calls

    def _call_event(
        self,
        out: Mapped,
        ts: float,
        base: str,
        callid: str,
        queue: str,
        agent: str | None,
        event: str,
        data: list[str],
    ) -> None:
        call = self.calls.get(callid)
        if event == "ENTERQUEUE":
            self._enter(out, ts, base, callid, call, queue)
            return
        if call is None:
            out.append(
                Rejection(
                    "unknown_contact",
                    f"{event} for call {callid[:64]} that entered no queue earlier in this log",
                )
            )
            return
        call.last = ts
        self.recent.append((ts, callid))
        ms = int(ts * 1000)
        if event == "CONNECT":
            if agent is None:
                out.append(Rejection("missing_field", "CONNECT without a member (agent field)"))
                return
            member = self._join(agent, call.queue)
            if member.wrap is not None:  # taken out of wrap-up by this call
                self._end_wrap(out, agent, member, ts)
            member.call = callid
            if member.logged_off:
                member.logged_off = None  # evidently there
            call.state = TALKING
            call.agent = agent
            self._agent_state(out, base + "-0", ms, agent, member)
            out.append(
                {
                    "event_id": base + "-1",
                    "type": "contact.answered",
                    "occurred_at": ms,
                    "contact_id": call.contact_id,
                    "agent_id": agent,
                }
            )
        elif event in ("RINGNOANSWER", "AGENTDUMP"):
            if agent is None:
                out.append(Rejection("missing_field", f"{event} without a member (agent field)"))
                return
            member = self._join(agent, call.queue)
            missed: dict[str, Any] = {
                "event_id": base,
                "type": "contact.missed",
                "occurred_at": ms,
                "contact_id": call.contact_id,
                "agent_id": agent,
            }
            if event == "RINGNOANSWER" and data:
                ring = _number(data[0])
                if ring is not None:
                    missed["ring_seconds"] = ring / 1000.0  # written in milliseconds
            self._agent_state(out, base + "-0", ms, agent, member)
            out.append(missed)
        elif event == "ABANDON":
            call.state = DONE
            out.append(
                {
                    "event_id": base,
                    "type": "contact.abandoned",
                    "occurred_at": ms,
                    "contact_id": call.contact_id,
                }
            )
        elif event in EXIT_KINDS or event == "SYSCOMPAT":
            kind = EXIT_KINDS.get(event, "syscompat")
            self._leave(call, callid, kind, ts, base)
        elif event in COMPLETES:
            call.state = DONE
            call.exit = None
            call.wrapped_at = None
            out.append(
                {
                    "event_id": base,
                    "type": "contact.ended",
                    "occurred_at": ms,
                    "contact_id": call.contact_id,
                }
            )
            self._hang_up(out, ts, base, call, callid, agent, ended=True)
        else:  # a transfer: decided when the call enters a queue again, or not
            self._leave(call, callid, "transfer", ts, base)
            self._hang_up(out, ts, base, call, callid, agent, ended=False)

    def _enter(
        self, out: Mapped, ts: float, base: str, callid: str, call: _Call | None, queue: str
    ) -> None:
        if call is None:
            call = self.calls[callid] = _Call(bounded(callid), queue)
        else:
            if call.state == TALKING and call.agent is not None:  # its end was not logged
                member = self.members.get(call.agent)
                if member is not None and member.call == callid:
                    member.call = None
                    self._agent_state(out, base + "-a", int(ts * 1000), call.agent, member)
            call.queue = queue
            call.state = WAITING
            call.exit = None
            call.wrapped_at = None
            call.token += 1
        call.last = ts
        self.recent.append((ts, callid))
        out.append(
            {
                "event_id": base,
                "type": "contact.queued",
                "occurred_at": int(ts * 1000),
                "contact_id": call.contact_id,
                "queue": self._label(queue),
                "channel": "voice",
            }
        )

    def _leave(self, call: _Call, callid: str, kind: str, ts: float, base: str) -> None:
        """The call left its queue without an answer or a hang-up (or was transferred):
        a move if it enters a queue within `requeue_within_seconds`, else decided then."""
        call.state = LEFT
        call.exit = [kind, ts, base]
        call.wrapped_at = None
        self._timer(ts + self.options.requeue_within_seconds, EXIT_DUE, callid, call.token)

    def _hang_up(
        self,
        out: Mapped,
        ts: float,
        base: str,
        call: _Call,
        callid: str,
        agent: str | None,
        *,
        ended: bool,
    ) -> None:
        """The member's part of the call is over: wrap-up (the queue's `wrapuptime`), or
        available at once; the contact is wrapped when the wrap-up ends."""
        name = agent or call.agent
        ms = int(ts * 1000)
        if name is None:
            if ended:  # no member to wrap up: the contact is wrapped at once
                call.wrapped_at = ts
                out.append(_wrapped(base + "-w", ms, call.contact_id))
            return
        member = self._join(name, call.queue)
        if member.call == callid:
            member.call = None
        wrapup = self.options.wrapup(call.queue)
        if member.wrap is not None:
            self._end_wrap(out, name, member, ts)
        if wrapup > 0:
            member.wrap = [ts + wrapup, callid, call.token, base]
            self._timer(ts + wrapup, WRAP_END, name, call.token)
        else:
            call.wrapped_at = ts
            if ended:
                out.append(_wrapped(base + "-w", ms, call.contact_id))
        self._agent_state(out, base + "-a", ms, name, member)

    def _end_wrap(self, out: Mapped, name: str, member: _Member, ts: float) -> None:
        """The member's wrap-up ends at `ts` (its time, or a new call before it)."""
        wrap = member.wrap
        assert wrap is not None
        member.wrap = None
        _, callid, token, base = wrap
        call = self.calls.get(callid)
        if call is None or call.token != token:
            return  # forgotten, or in a queue again (moved)
        if call.state == LEFT:  # transferred: wrapped too if no queue takes it
            call.wrapped_at = ts
        elif call.state == DONE and call.wrapped_at is None:
            call.wrapped_at = ts
            out.append(_wrapped(base + "-w", int(ts * 1000), call.contact_id))

    def _decide_exit(self, out: Mapped, call: _Call) -> None:
        """No queue took the call within `requeue_within_seconds` after it left one."""
        assert call.exit is not None
        kind, at, base = call.exit
        ms = int(at * 1000)
        call.state = DONE
        if kind == "transfer":  # to somewhere that is not a queue: the call ended for us
            out.append(
                {
                    "event_id": base + "-x",
                    "type": "contact.ended",
                    "occurred_at": ms,
                    "contact_id": call.contact_id,
                }
            )
            if call.wrapped_at is not None:
                out.append(_wrapped(base + "-w", int(call.wrapped_at * 1000), call.contact_id))
            call.exit = None
            return
        call.exit = None
        call.wrapped_at = -1.0  # nothing to wrap up
        flowout = self.options.exit_policy(kind) == "flowout"
        out.append(
            {
                "event_id": base + "-x",
                "type": "contact.ended" if flowout else "contact.abandoned",
                "occurred_at": ms,
                "contact_id": call.contact_id,
                "reason": kind,
            }
        )

    # ------------------------------------------------------------------ timers

    def _timer(self, due: float, kind: int, key: str, token: int) -> None:
        self.seq += 1
        heapq.heappush(self.timers, (due, kind, self.seq, key, token))

    def _release(self, until: float, everything: bool) -> Mapped:
        """Timers due by `until`: wrap-ups ending at `until` too, exits only before it."""
        out: Mapped = []
        timers = self.timers
        while timers:
            due, kind, _, key, token = timers[0]
            if not everything and (due > until or (due == until and kind == EXIT_DUE)):
                break
            heapq.heappop(timers)
            if kind == WRAP_END:
                member = self.members.get(key)
                if member is not None and member.wrap is not None and member.wrap[0] == due:
                    base = member.wrap[3]
                    self._end_wrap(out, key, member, due)
                    self._agent_state(out, base + "-wa", int(due * 1000), key, member)
            else:
                call = self.calls.get(key)
                if (
                    call is not None
                    and call.token == token
                    and call.state == LEFT
                    and call.exit is not None
                ):
                    self._decide_exit(out, call)
        return out

    def _sweep(self, ts: float) -> None:
        """Forget calls finished `call_retention_seconds` ago (a call id is never reused;
        a line about a forgotten call is rejected as unknown_contact)."""
        horizon = ts - self.options.call_retention_seconds
        recent = self.recent
        while recent and recent[0][0] < horizon:
            last, callid = recent.popleft()
            call = self.calls.get(callid)
            if call is not None and call.last == last and call.state == DONE:
                del self.calls[callid]

    # ------------------------------------------------------------------ members

    def _known(self, name: str) -> _Member:
        """The member, known from now on (in no queue yet)."""
        member = self.members.get(name)
        if member is None:
            member = self.members[name] = _Member()
        return member

    def _join(self, name: str, queue: str) -> _Member:
        """The member, known in `queue` (static members of queues.conf log no ADDMEMBER)."""
        member = self.members.get(name)
        if member is None:
            member = self.members[name] = _Member()
        if queue not in member.queues:
            member.queues[queue] = False
        return member

    def _member_event(
        self, out: Mapped, ts: float, base: str, queue: str, name: str, event: str, data: list[str]
    ) -> None:
        member = self.members.get(name)
        if member is None:
            member = self.members[name] = _Member()
        first = (data[0] if data else "").strip()
        if event == "ADDMEMBER":
            member.queues[queue] = first.upper() == "PAUSED"
        elif event == "REMOVEMEMBER":
            member.queues.pop(queue, None)
        elif event in ("PAUSE", "UNPAUSE"):
            member.queues[queue] = event == "PAUSE"
            if event == "PAUSE":
                member.reason = _reason(first)
        elif event in ("PAUSEALL", "UNPAUSEALL"):
            paused = event == "PAUSEALL"
            for name_ in member.queues:
                member.queues[name_] = paused
            if paused:
                member.reason = _reason(first)
        elif event in ("AGENTLOGIN", "AGENTCALLBACKLOGIN"):
            member.logged_off = False
        else:  # AGENTLOGOFF, AGENTCALLBACKLOGOFF
            member.logged_off = True
        self._agent_state(out, base, int(ts * 1000), name, member, force=True)

    def _agent_state(
        self, out: Mapped, event_id: str, ms: int, name: str, member: _Member, force: bool = False
    ) -> None:
        """Send the member's state when it changed: a call or wrap-up first, then the
        pause of every queue (away), else available in the queues it is not paused in."""
        queues = member.queues
        reason = None
        served: list[str]
        if member.logged_off or (not queues and member.logged_off is None):
            state, served = "offline", []
        elif member.call is not None:
            state, served = "on_contact", list(queues)
        elif member.wrap is not None:
            state, served = "after_contact_work", list(queues)
        elif member.hold is not None:
            state, served, reason = "away", list(queues), member.hold
        elif not queues:  # an agent logged in, in no queue the log has named yet
            state, served = "available", []
        elif all(queues.values()):
            state, served, reason = "away", list(queues), member.reason
        else:
            state, served = "available", [q for q, paused in queues.items() if not paused]
        labels = [self._label(q) for q in served]
        now = [state, labels, reason]
        if now == member.emitted:
            return
        if member.emitted is None and state == "offline" and not force:
            return
        member.emitted = now
        event: dict[str, Any] = {
            "event_id": event_id,
            "type": "agent.state",
            "occurred_at": ms,
            "agent_id": name,
            "state": state,
            "queues": labels,
        }
        if reason is not None:
            event["reason"] = reason
        out.append(event)


def _wrapped(event_id: str, ms: int, contact_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "contact.wrapped",
        "occurred_at": ms,
        "contact_id": contact_id,
    }


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 and value == value and value != float("inf") else None


def _reason(text: str) -> str | None:
    return text[:MAX_REASON] if text else None
