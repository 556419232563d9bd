"""Agents' activity from contact events (contact stage): today's handled contacts and
handle time, missed offers, replies, and the live contacts each agent is on. Kept per
agent in every contact partition; records of one agent from several partitions merge.
"""

from __future__ import annotations

from typing import Any


class AgentActivity:
    """What the contact events of one partition say about one agent on the floor's day
    starting at `day_start`: contacts handled and their handle time, offers missed,
    replies sent, and the live contacts the agent is on now (contact id -> queue,
    channel, answered at). Counts of another day read as zero (see `counts_on`)."""

    __slots__ = ("current", "day_start", "handle_sum", "handled", "missed", "replies")

    def __init__(self, day_start: float) -> None:
        self.day_start = day_start
        self.handled = 0
        self.handle_sum = 0.0
        self.missed = 0
        self.replies = 0
        self.current: dict[str, tuple[str, str, float]] = {}

    def roll(self, day_start: float) -> None:
        """Start the counts of a new floor's day (live contacts stay)."""
        if day_start != self.day_start:
            self.day_start = day_start
            self.handled = self.missed = self.replies = 0
            self.handle_sum = 0.0

    def counts_on(self, day_start: float) -> tuple[int, float, int, int]:
        """(handled, handle seconds, missed, replies) of the day starting at `day_start`."""
        if day_start != self.day_start:
            return 0, 0.0, 0, 0
        return self.handled, self.handle_sum, self.missed, self.replies

    def snapshot(self) -> list[Any]:
        return [
            self.day_start,
            self.handled,
            self.handle_sum,
            self.missed,
            self.replies,
            [[c, q, ch, since] for c, (q, ch, since) in self.current.items()],
        ]

    @staticmethod
    def restore(value: list[Any]) -> AgentActivity:
        day_start, handled, handle_sum, missed, replies, current = value[:6]
        record = AgentActivity(day_start)
        record.handled = handled
        record.handle_sum = handle_sum
        record.missed = missed
        record.replies = replies
        record.current = {c: (q, ch, since) for c, q, ch, since in current}
        return record
