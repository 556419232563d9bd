"""The facts stage 1 hands to stage 2, as a protocol of method calls.

In one process the sink is the `QueueBoard` itself (no allocation per fact); in the
distributed runtime a sink can serialise the calls onto a topic keyed by queue and
replay them into a `QueueBoard` on the other side. Times are event times (epoch s);
durations are seconds and never negative.
"""

from __future__ import annotations

from typing import Protocol


class FactSink(Protocol):
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
    ) -> None: ...

    def left(self, queue: str, channel: str, contact_id: str, ts: float) -> None: ...

    def answered(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        priority: str,
        wait: float,
        first_response: float | None,
    ) -> None: ...

    def abandoned(
        self, queue: str, channel: str, contact_id: str, ts: float, priority: str, wait: float
    ) -> None: ...

    def responded(
        self, queue: str, channel: str, contact_id: str, ts: float, first_response: float | None
    ) -> None: ...

    def closed(self, queue: str, channel: str, contact_id: str, ts: float) -> None: ...

    def handled(
        self,
        queue: str,
        channel: str,
        ts: float,
        handle: float,
        hold: float | None,
        after_contact_work: float | None,
    ) -> None: ...

    def resolved(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        resolution: float,
        first_contact: bool,
    ) -> None: ...

    def reopened(
        self,
        queue: str,
        channel: str,
        contact_id: str,
        ts: float,
        first_entry: float,
        priority: str,
    ) -> None: ...

    def surveyed(
        self,
        queue: str,
        channel: str,
        ts: float,
        csat: int | None,
        ces: int | None,
        nps: int | None,
    ) -> None: ...
