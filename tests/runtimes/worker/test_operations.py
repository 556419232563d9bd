"""What operators see of a worker against a real broker: probes from process start, and
lag for both topics it consumes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.kafka_broker import Broker
from tests.support.live import wait_for
from tests.support.worker_cluster import (
    PARTITIONS,
    Cluster,
    Worker,
    converge,
    day_events,
    keyed,
    label,
    reference,
)

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
LAG = "contactcenter_consumer_lag_messages"


@pytest.fixture
def cluster(kafka_broker: Broker, tmp_path: Path):  # type: ignore[no-untyped-def]
    made = Cluster(kafka_broker.bootstrap, tmp_path)
    yield made
    made.stop()


def test_probes_answer_while_the_worker_waits_to_join_the_group(cluster: Cluster) -> None:
    """A killed member holds its partitions until its session times out (20 s here), so
    a new member's first join waits that long: its probes answer meanwhile, /readyz
    with 503 and why."""
    cluster.env["FLOORWATCH_WORKER__SESSION_TIMEOUT_SECONDS"] = "20"
    cluster.produce(keyed(day_events(seed=37, contacts=100)))
    cluster.start("a").kill()
    killed = time.monotonic()
    b = cluster.start("b", wait_ready=False)
    wait_for(lambda: b.get("/healthz")[0] == 200, 10, "/healthz of the joining worker")
    assert b.get("/readyz") == (503, b"not ready: joining the consumer group\n")
    assert b.get("/metrics")[0] == 200
    assert time.monotonic() - killed < 13  # the session (20 s, heartbeat 6.7 s) not over
    wait_for(b.ready, 60, "b ready once a's session is over")


def lags(worker: Worker) -> dict[tuple[str | None, int], float]:
    return {
        (label(s, "topic"), int(label(s, "partition") or -1)): v
        for s, v in worker.metrics().items()
        if s.startswith(LAG)
    }


def test_lag_covers_the_facts_topic_too(cluster: Cluster) -> None:
    """Lag per owned partition of both topics, never more than what a standard tool
    counts (end offset - committed offset, read around the scrape), since the worker
    counts from what it applied, which is at or past what it committed; 0 everywhere
    once the worker has applied everything (the standard count of the facts topic stays
    a few progress marks above 0)."""
    events = day_events(seed=38, contacts=150)
    cluster.produce(keyed(events))
    worker = cluster.start("a")
    converge(cluster, reference(events))
    kafka = cluster.kafka
    _, committed = cluster.offsets(kafka.facts_topic)
    found = lags(worker)
    ends, _ = cluster.offsets(kafka.facts_topic)
    topics = (kafka.topic, kafka.facts_topic)
    assert set(found) == {(t, p) for t in topics for p in range(PARTITIONS)}
    for p in range(PARTITIONS):
        assert 0 <= found[(kafka.facts_topic, p)] <= ends[p] - committed[p]
    wait_for(lambda: not any(lags(worker).values()), 10, "lag 0 on both topics")
