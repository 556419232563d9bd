"""Workers with Redis (real Kafka broker, real redis-server): live targets reach every
worker, the board spans the cluster, and Redis going away costs nothing but the board."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kafka_broker import Broker
from tests.support.live import wait_for
from tests.support.redis_server import RedisServer
from tests.support.worker_cluster import (
    Cluster,
    Worker,
    converge,
    day_events,
    keyed,
    label,
    owned_queues,
    reference,
)

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.slow]

BOARD_TTL_SECONDS = 5.0  # the default [redis] board_ttl_seconds
TARGET = "contactcenter_service_level_target_ratio"


@pytest.fixture
def cluster(kafka_broker: Broker, native_redis: RedisServer, tmp_path: Path) -> Iterator[Cluster]:
    made = Cluster(kafka_broker.bootstrap, tmp_path, redis_url=native_redis.url)
    yield made
    made.stop()


def pairs(expected: dict[str, float]) -> set[tuple[str, str]]:
    """Every queue x channel of a set of series."""
    found = {(label(s, "queue"), label(s, "channel")) for s in expected}
    return {(q, c) for q, c in found if q is not None and c is not None}


def board_pairs(worker: Worker) -> set[tuple[str, str]] | None:
    status, board = worker.board()
    if status != 200:
        return None
    return {(tile["queue"], tile["channel"]) for tile in board["queues"]}


def floorwatch(cluster: Cluster, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams", *argv],
        env={**os.environ, **cluster.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def target_values(cluster: Cluster) -> dict[str, list[float]]:
    return {
        name: [v for s, v in metrics.items() if s.startswith(TARGET)]
        for name, metrics in cluster.scrape_all().items()
    }


def test_targets_reach_every_worker_and_the_board_spans_the_cluster(cluster: Cluster) -> None:
    events = day_events(seed=35)
    expected = reference(events)
    everything = pairs(expected)
    cluster.produce(keyed(events))
    a, b = cluster.start("a"), cluster.start("b")
    converge(cluster, expected)
    assert all(owned_queues(cluster.scrape_all()).values())  # each worker owns queues
    for worker in (a, b):  # either worker's board lists every queue of both
        wait_for(lambda w=worker: board_pairs(w) == everything, 10, "the cluster board")
    assert all(vs and set(vs) == {0.8} for vs in target_values(cluster).values())

    floorwatch(cluster, "targets", "set", "--by", "test", "service_level_target=0.5")
    changed = time.monotonic()
    wait_for(
        lambda: all(vs and set(vs) == {0.5} for vs in target_values(cluster).values()),
        10,
        "both workers to export the new target",
    )
    assert time.monotonic() - changed <= 1.0  # the contract: applied within 1 s
    versions = [m.get("contactcenter_live_targets_version") for m in cluster.scrape_all().values()]
    assert versions == [1.0, 1.0]
    history = floorwatch(cluster, "targets", "history").stdout
    assert "test  every queue: service_level_target (file) -> 0.5" in history

    gone = set().union(*owned_queues({"b": b.metrics()}).values())
    served_by_b = {(q, c) for q, c in everything if q in gone}
    b.kill()
    killed = time.monotonic()
    wait_for(
        lambda: (now := board_pairs(a)) is not None and not now & served_by_b,
        BOARD_TTL_SECONDS + 5,
        "the dead worker's queues to leave the board",
    )
    assert time.monotonic() - killed <= BOARD_TTL_SECONDS + 1.0
    wait_for(lambda: board_pairs(a) == everything, 90, "a to take b's partitions over")


def test_redis_down_and_back_mid_stream(cluster: Cluster, native_redis: RedisServer) -> None:
    events = day_events(seed=36, contacts=1500)
    expected = reference(events)
    cluster.produce(keyed(events))
    worker = cluster.start("a")
    wait_for(lambda: board_pairs(worker), 20, "the board")
    native_redis.stop()
    _, board = wait_for(
        lambda: (answer := worker.board())[0] == 503 and answer, 10, "the board to say 503"
    )
    assert "Redis is unreachable" in board["error"]
    assert "comes back by itself" in board["error"]
    wait_for(lambda: worker.metrics().get("contactcenter_redis_up") == 0.0, 10, "redis_up 0")
    converge(cluster, expected)  # processing went on: nothing lost, nothing twice
    native_redis.start_again()
    wait_for(lambda: board_pairs(worker) == pairs(expected), 15, "the board to come back")
    assert worker.metrics().get("contactcenter_redis_up") == 1.0
    assert worker.alive()
