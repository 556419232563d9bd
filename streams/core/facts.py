"""The facts the contact stage hands to the queue stage, as method calls on a `FactSink`."""

from __future__ import annotations


class FactSink:
    """Receiver of facts: the `QueueBoard` itself in one process (no allocation per fact), a
    `FactRecorder` in the distributed runtime. Times are event times (epoch seconds);
    durations are seconds, never negative. A base class rather than a Protocol so that
    compiled code calls the methods directly."""

    def entered(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        first_entry: float,
        priority: str,
        team: str | None,
        met_mask: int,
        breached_mask: int,
    ) -> None:
        raise NotImplementedError

    def left(self, queue: str, channel: str, contact_id: str, ts: float) -> None:
        raise NotImplementedError

    def answered(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        priority: str,
        wait: float,
        first_response: float | None,
    ) -> None:
        raise NotImplementedError

    def abandoned(
        self, queue: str, channel: str, contact_id: str, ts: float, priority: str, wait: float
    ) -> None:
        raise NotImplementedError

    def responded(
        self, queue: str, channel: str, contact_id: str, ts: float, first_response: float | None
    ) -> None:
        raise NotImplementedError

    def closed(self, queue: str, channel: str, contact_id: str, ts: float) -> None:
        raise NotImplementedError

    def missed(self, queue: str, channel: str, ts: float) -> None:
        """An agent was offered the contact and did not take it (it keeps waiting)."""
        raise NotImplementedError

    def handled(
        self,
        queue: str,
        channel: str,
        ts: float,
        handle: float,
        hold: float | None,
        after_contact_work: float | None,
    ) -> None:
        raise NotImplementedError

    def resolved(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        resolution: float,
        first_contact: bool,
    ) -> None:
        raise NotImplementedError

    def reopened(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        first_entry: float,
        priority: str,
    ) -> None:
        raise NotImplementedError

    def surveyed(
        self,
        queue: str,
        channel: str,
        ts: float,
        csat: int | None,
        ces: int | None,
        nps: int | None,
    ) -> None:
        raise NotImplementedError

    def agent_state(self, queue: str, agent_id: str, state: str | None, ts: float) -> None:
        """The agent is in `state` for `queue` from `ts` on (None: it left the queue)."""
        raise NotImplementedError
