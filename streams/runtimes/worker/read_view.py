"""A worker's owned partitions seen as one engine, for /metrics and the board."""

from __future__ import annotations

from streams.core.agents import QueueAgentBoard
from streams.core.clock import Clock
from streams.core.contact_stage import ContactStage
from streams.core.pipeline import PipelineStats
from streams.core.queue_stage import QueueStage
from streams.core.queues import QueueBoard
from streams.core.settings import Settings
from streams.core.targets import TargetBook


class WorkerView:
    """The queue stage's board (the queues of the facts partitions this worker owns) plus
    the contact stage's counts, read by /metrics and the board like one engine."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        pipeline: PipelineStats,
        queue_stage: QueueStage,
        partitions: dict[int, ContactStage],
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.pipeline = pipeline
        self.queue_stage = queue_stage
        self.partitions = partitions

    @property
    def targets(self) -> TargetBook:
        return self.queue_stage.targets

    @property
    def queues(self) -> QueueBoard:
        return self.queue_stage.board

    @property
    def agents(self) -> QueueAgentBoard:
        return self.queue_stage.board.agents

    @property
    def parked_count(self) -> int:
        return sum(p.parked_count for p in self.partitions.values())

    @property
    def contacts_tracked(self) -> int:
        return sum(p.tracked_count for p in self.partitions.values())

    def advance(self, now: float) -> None:
        self.queue_stage.tick(now)
