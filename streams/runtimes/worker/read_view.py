"""A worker's owned partitions seen as one engine, for /metrics and the board."""

from __future__ import annotations

from streams.core.agents import QueueAgentBoard
from streams.core.clock import Clock
from streams.core.contact_stage import ContactPartition
from streams.core.pipeline import PipelineStats
from streams.core.queue_stage import QueueSide
from streams.core.queues import QueueBoard
from streams.core.settings import Settings
from streams.core.targets import TargetBook


class WorkerView:
    """Stage 2's board (the queues of owned facts partitions) plus stage 1's counts."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        pipeline: PipelineStats,
        side: QueueSide,
        partitions: dict[int, ContactPartition],
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.pipeline = pipeline
        self.side = side
        self.partitions = partitions

    @property
    def targets(self) -> TargetBook:
        return self.side.targets

    @property
    def queues(self) -> QueueBoard:
        return self.side.board

    @property
    def agents(self) -> QueueAgentBoard:
        return self.side.board.agents

    @property
    def parked_count(self) -> int:
        return sum(p.parked_count for p in self.partitions.values())

    @property
    def contacts_tracked(self) -> int:
        return sum(p.tracked_count for p in self.partitions.values())

    def advance(self, now: float) -> None:
        self.side.tick(now)
