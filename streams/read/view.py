"""What the exporter, the board and the web app read: a running engine of either runtime.

`streams.core.engine.Engine` (embedded mode, replay) and
`streams.runtimes.worker.read_view.WorkerView` (a Faust worker's owned partitions) both
satisfy it.
"""

from __future__ import annotations

from typing import Protocol

from streams.core.agents import QueueAgentBoard
from streams.core.clock import Clock
from streams.core.pipeline import PipelineStats
from streams.core.queues import QueueBoard
from streams.core.settings import Settings
from streams.core.targets import TargetBook


class ReadView(Protocol):
    """What a running engine offers its readers: settings and targets, the queue and agent
    boards, pipeline stats, the clock, and `advance` to bring the clocks to now before
    reading. The exporter, the board and the web app read an engine through it only."""

    @property
    def settings(self) -> Settings: ...
    @property
    def targets(self) -> TargetBook: ...
    @property
    def queues(self) -> QueueBoard: ...
    @property
    def agents(self) -> QueueAgentBoard: ...
    @property
    def pipeline(self) -> PipelineStats: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def parked_count(self) -> int: ...
    @property
    def contacts_tracked(self) -> int: ...

    def advance(self, now: float) -> None:
        """Bring the clocks to `now` before reading."""
