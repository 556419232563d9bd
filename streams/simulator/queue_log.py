"""The simulator's voice traffic as an Asterisk `queue_log`: the lines app_queue would write
for the same calls and members, in whole seconds (for demos and the connector's tests).
What a queue_log cannot say (other channels, wrap-up, holds, surveys) is left out."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["QueueLogWriter"]

_WAITING, _TALKING, _DONE = range(3)


class _Call:
    __slots__ = ("agent", "answered", "callid", "entered", "origpos", "queue", "state")

    def __init__(self, callid: str, queue: str, entered: int, origpos: int) -> None:
        self.callid = callid
        self.queue = queue
        self.entered = entered
        self.origpos = origpos
        self.state = _WAITING
        self.agent = ""
        self.answered = entered


class _Member:
    __slots__ = ("paused", "queues")

    def __init__(self) -> None:
        self.queues: list[str] = []
        self.paused = False


class QueueLogWriter:
    """Renders contract events (with their times, in order) as queue_log lines, keeping
    what app_queue keeps: each caller's uniqueid (epoch.sequence), queue positions, the
    members of each queue and their pauses. `voice_queues` maps each agent to the voice
    queues it serves (it is a member of those); `skipped` counts events with no line."""

    def __init__(self, voice_queues: Mapping[str, list[str]]) -> None:
        self.voice_queues = voice_queues
        self.calls: dict[str, _Call] = {}
        self.other: set[str] = set()  # contacts on channels a PBX does not carry
        self.waiting: dict[str, list[str]] = {}  # queue -> contact ids, in order
        self.members: dict[str, _Member] = {}
        self.sequence = 0
        self.skipped = 0
        self.started = False

    def lines(
        self, events: Iterable[tuple[float, dict[str, Any]]]
    ) -> Iterator[tuple[float, bytes]]:
        """(event time, one line with its newline) for each line the events give."""
        for at, event in events:
            epoch = int(at * 1000.0 + 0.5) // 1000  # whole seconds, like time(NULL)
            if not self.started:
                self.started = True
                yield at, _line(epoch, "NONE", "NONE", "NONE", "QUEUESTART", "")
            out = self._render(epoch, event)
            if not out:
                self.skipped += 1
            for line in out:
                yield at, line

    def _render(self, epoch: int, event: dict[str, Any]) -> list[bytes]:
        kind = event["type"]
        if kind == "agent.state":
            return self._agent(epoch, event)
        contact_id = event.get("contact_id", "")
        if contact_id in self.other:
            return []
        if kind == "contact.queued":
            if event["channel"] != "voice":
                self.other.add(contact_id)
                return []
            return self._queued(epoch, contact_id, event["queue"])
        call = self.calls.get(contact_id)
        if call is None:
            return []
        if kind == "contact.answered":
            self._leave(call, contact_id)
            call.state = _TALKING
            call.agent = event["agent_id"]
            call.answered = epoch
            self.sequence += 1
            bridged = f"{epoch}.{self.sequence}"
            data = f"{epoch - call.entered}|{bridged}|0"  # rings are not simulated
            return [_line(epoch, call.callid, call.queue, call.agent, "CONNECT", data)]
        if kind == "contact.abandoned":
            position = self._leave(call, contact_id)
            call.state = _DONE
            data = f"{position}|{call.origpos}|{epoch - call.entered}"
            return [_line(epoch, call.callid, call.queue, "NONE", "ABANDON", data)]
        if kind == "contact.missed":
            ring = round(float(event.get("ring_seconds", 0)) * 1000)
            return [
                _line(epoch, call.callid, call.queue, event["agent_id"], "RINGNOANSWER", str(ring))
            ]
        if kind == "contact.ended" and call.state == _TALKING:
            call.state = _DONE
            # Who hung up first is not in the contract: a stable half of each.
            who = "COMPLETEAGENT" if zlib.crc32(call.callid.encode()) & 1 else "COMPLETECALLER"
            data = f"{call.answered - call.entered}|{epoch - call.answered}|{call.origpos}"
            return [_line(epoch, call.callid, call.queue, call.agent, who, data)]
        return []  # responses, wrap-up, resolutions, surveys: not in a queue_log

    def _queued(self, epoch: int, contact_id: str, queue: str) -> list[bytes]:
        out = []
        call = self.calls.get(contact_id)
        if call is None:
            self.sequence += 1
            call = self.calls[contact_id] = _Call(f"{epoch}.{self.sequence}", queue, epoch, 0)
        elif call.state == _WAITING:  # overflow: the queue's timeout, then the next queue
            position = self._leave(call, contact_id)
            data = f"{position}|{call.origpos}|{epoch - call.entered}"
            out.append(_line(epoch, call.callid, call.queue, "NONE", "EXITWITHTIMEOUT", data))
        elif call.state == _TALKING:  # the agent's blind transfer into another queue
            data = (
                f"{queue}|from-queue|{call.answered - call.entered}|{epoch - call.answered}"
                f"|{call.origpos}"
            )
            out.append(_line(epoch, call.callid, call.queue, call.agent, "BLINDTRANSFER", data))
        waiting = self.waiting.setdefault(queue, [])
        waiting.append(contact_id)
        call.queue, call.entered, call.origpos, call.state = queue, epoch, len(waiting), _WAITING
        caller = f"0151{zlib.crc32(contact_id.encode()) % 10_000_000:07d}"
        data = f"|{caller}|{call.origpos}"
        out.append(_line(epoch, call.callid, queue, "NONE", "ENTERQUEUE", data))
        return out

    def _leave(self, call: _Call, contact_id: str) -> int:
        """The caller's position when leaving its queue (1 = first in line)."""
        waiting = self.waiting.get(call.queue, [])
        try:
            index = waiting.index(contact_id)
        except ValueError:
            return 1
        del waiting[index]
        return index + 1

    def _agent(self, epoch: int, event: dict[str, Any]) -> list[bytes]:
        agent = event["agent_id"]
        queues = self.voice_queues.get(agent)
        if not queues:
            return []
        member = self.members.setdefault(agent, _Member())
        state = event["state"]
        out = []
        if state == "offline":
            for queue in member.queues:
                out.append(_line(epoch, "MANAGER", queue, agent, "REMOVEMEMBER", ""))
            member.queues = []
            member.paused = False
            return out
        for queue in queues:
            if queue not in member.queues:
                member.queues.append(queue)
                out.append(_line(epoch, "MANAGER", queue, agent, "ADDMEMBER", ""))
        if state == "away" and not member.paused:
            member.paused = True
            reason = event.get("reason") or ""
            out.append(_line(epoch, "NONE", "NONE", agent, "PAUSEALL", reason))
            for queue in member.queues:
                out.append(_line(epoch, "NONE", queue, agent, "PAUSE", reason))
        elif state != "away" and member.paused:
            member.paused = False
            out.append(_line(epoch, "NONE", "NONE", agent, "UNPAUSEALL", ""))
            for queue in member.queues:
                out.append(_line(epoch, "NONE", queue, agent, "UNPAUSE", ""))
        return out


def _line(epoch: int, callid: str, queue: str, member: str, event: str, data: str) -> bytes:
    return f"{epoch}|{callid}|{queue}|{member}|{event}|{data}\n".encode()
