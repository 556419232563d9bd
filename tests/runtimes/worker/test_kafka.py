"""`floorwatch worker` against a real Kafka broker.

The reference is the replay engine (the code behind `floorwatch replay`) fed the same
events. Test days lie two days back, so every SLA due time has passed for both clocks
(the replay's event time and the workers' wall clock), and each partition ends with an
agent event two hours after the day, so every partition's event time passes every
contact stage timer; series that change with the second they are read (longest wait,
occupancy) are left out. Events are produced before the workers start: a worker that
has caught up moves its SLA clocks to the wall clock, so two-day-old events produced
after that are late data (their contacts breach at once), not a replay.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support.kafka_broker import (
    Broker,
    restart_native_broker,
    stop_native_broker,
)
from tests.support.live import wait_for
from tests.support.worker_cluster import (
    PARTITIONS,
    Cluster,
    converge,
    day_events,
    keyed,
    label,
    queue_series,
    reference,
)

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
LAG = "contactcenter_consumer_lag_messages"
KAFKA_UP = "contactcenter_kafka_up"


@pytest.fixture
def cluster(kafka_broker: Broker, tmp_path: Path):  # type: ignore[no-untyped-def]
    made = Cluster(kafka_broker.bootstrap, tmp_path)
    yield made
    made.stop()


def test_two_workers_equal_replay(cluster: Cluster) -> None:
    events = day_events(seed=31)
    expected = reference(events)
    assert any(
        s.startswith("contactcenter_sla_breaches_total") and v > 0 for s, v in expected.items()
    )
    cluster.produce(keyed(events))
    cluster.start("a")
    cluster.start("b")
    converge(cluster, expected)
    assert cluster.processed() == len(events)  # each event applied once across the workers


def test_kill_minus_nine_and_restart_equal_uninterrupted(cluster: Cluster) -> None:
    events = day_events(seed=32)
    expected = reference(events)
    cluster.produce(keyed(events))
    worker = cluster.start("a")
    wait_for(lambda: cluster.processed() > len(events) // 4, 60, "the worker to be mid-stream")
    worker.kill()
    assert cluster.processed() == 0  # gone: nothing served until the restart
    cluster.start("a")
    converge(cluster, expected)


def test_duplicates_of_events_applied_before_a_restart_are_dropped(cluster: Cluster) -> None:
    """A producer retrying while the worker restarts sends again events the worker had
    applied and committed: each is dropped and counted as a duplicate, as one
    uninterrupted run does, not counted a second time (a second offered contact, close
    or survey)."""
    events = day_events(seed=35)
    cluster.produce(keyed(events))
    worker = cluster.start("a")
    wait_for(lambda: cluster.committed() == len(events), 90, "every event committed", 0.5)
    worker.kill()
    retried = events[::5]
    cluster.produce(keyed(retried))
    restarted = cluster.start("a")
    topic = cluster.kafka.topic  # the input (the facts topic has lag series too)

    def caught_up() -> bool:
        metrics = restarted.metrics().items()
        lags = [v for s, v in metrics if s.startswith(LAG) and label(s, "topic") == topic]
        return len(lags) == PARTITIONS and not any(lags)

    wait_for(caught_up, 60, "the restarted worker to apply every message", 0.5)
    converge(cluster, reference(events + retried))
    duplicates = restarted.metrics().get("contactcenter_events_duplicate_total")
    assert duplicates == len(retried)


def test_kill_minus_nine_the_other_worker_takes_over(cluster: Cluster) -> None:
    """The survivor restores the dead worker's partitions from the changelogs (a store of
    its own) once the dead one's session times out, and counts nothing twice."""
    events = day_events(seed=34)
    expected = reference(events)
    cluster.produce(keyed(events))
    cluster.start("a")
    dying = cluster.start("b")
    wait_for(lambda: cluster.processed() > len(events) // 4, 60, "the workers to be mid-stream")
    dying.kill()
    converge(cluster, expected)
    assert set(cluster.scrape_all()) == {"a"}


def test_two_workers_one_leaves_and_comes_back(cluster: Cluster) -> None:
    events = day_events(seed=33)
    expected = reference(events)
    cluster.produce(keyed(events))
    cluster.start("a")
    leaving = cluster.start("b")
    wait_for(lambda: cluster.processed() > len(events) // 4, 60, "the workers to be mid-stream")
    cluster.union()  # asserts that no series is served by both workers
    leaving.stop()
    assert leaving.process.returncode == 0  # a clean stop, well within its deadline
    wait_for(
        lambda: len(cluster.union()) > 0 and cluster.workers["a"].ready(),
        60,
        "worker a to take every partition",
    )
    cluster.start("b")
    converge(cluster, expected)  # every scrape on the way checks for doubly served series
    assert {name for name, m in cluster.scrape_all().items() if queue_series(m)} == {"a", "b"}


BAD_MESSAGES = [
    (b"c-bad-1", b"{not json"),
    (b"c-bad-2", b'{"event_id":"x1","type":"contact.queued","occurred_at":"2026-11-20T10:00:00Z"}'),
    (
        b"c-bad-3",
        b'{"event_id":"x2","type":"contact.teleported","occurred_at":1795000000000,'
        b'"contact_id":"c-bad-3"}',
    ),
    (None, b"[1, 2, 3]"),
    (
        b"c-bad-5",
        b'{"event_id":"x3","type":"survey.responded","occurred_at":"yesterday",'
        b'"contact_id":"c-bad-5","csat":4}',
    ),
    (  # valid, but its contact never queues: parked, then an orphan
        b"c-bad-6",
        b'{"event_id":"x4","type":"contact.answered","occurred_at":1795000000000,'
        b'"contact_id":"c-bad-6","agent_id":"a-6"}',
    ),
]
BAD_REASONS = [
    "invalid_json",
    "missing_field",
    "unknown_type",
    "not_an_object",
    "invalid_timestamp",
    "unknown_contact",
]


def read_topic(cluster: Cluster, topic: str, count: int) -> list:  # type: ignore[type-arg]
    from aiokafka import AIOKafkaConsumer

    from streams.kafka_client import client_options

    async def run() -> list:  # type: ignore[type-arg]
        consumer = AIOKafkaConsumer(
            topic,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            **client_options(cluster.kafka),
        )
        await consumer.start()
        records = []
        try:
            deadline = time.monotonic() + 60
            while len(records) < count and time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records += batch
        finally:
            await consumer.stop()
        return records

    return asyncio.run(run())


def test_dead_letters_keep_key_bytes_reason_and_source(cluster: Cluster) -> None:
    events = day_events(seed=34, contacts=150)
    mixed = keyed(events)
    for i, bad in enumerate(BAD_MESSAGES):  # spread among valid neighbours
        mixed.insert(len(mixed) * (i + 1) // (len(BAD_MESSAGES) + 1), bad)
    cluster.produce(mixed)
    cluster.start("a")
    converge(cluster, reference(events))
    dead = read_topic(cluster, cluster.kafka.dlq_topic, len(BAD_MESSAGES))
    assert len(dead) == len(BAD_MESSAGES)
    source = {}
    for record in read_topic(cluster, cluster.kafka.topic, len(mixed)):
        source[(record.partition, record.offset)] = (record.key, record.value)
    found = {}
    for record in dead:
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["source_topic"] == cluster.kafka.topic
        origin = (int(headers["source_partition"]), int(headers["source_offset"]))
        assert source[origin] == (record.key, record.value)  # original key and bytes
        found[(record.key, record.value)] = headers["reason"]
    assert found == dict(zip(BAD_MESSAGES, BAD_REASONS, strict=True))
    metrics = cluster.workers["a"].metrics()
    assert metrics["contactcenter_dead_letters_total"] == len(BAD_MESSAGES)
    for reason in BAD_REASONS:
        assert metrics[f'contactcenter_events_rejected_total{{reason="{reason}"}}'] == 1


def logged_or_held_back(log: Path, template: str) -> int:
    """Records of one message template in a worker's log: those written, plus those
    held back as the rate-limit summaries count them."""
    pattern = re.escape(template).replace("%s", ".*")
    count = 0
    for line in log.read_bytes().splitlines():
        if line.startswith(b"{"):
            entry = json.loads(line)
            if entry.get("suppressed") and repr(template) in entry["msg"]:
                count += entry["suppressed"]
            elif re.fullmatch(pattern, entry["msg"]):
                count += 1
    return count


def log_kinds(lines: list[bytes]) -> Counter[tuple[str, str, str]]:
    """JSON log lines per kind: logger, level and message with its numbers blanked (a
    message template's values are mostly node ids, offsets, ports and counts)."""
    kinds: Counter[tuple[str, str, str]] = Counter()
    for line in lines:
        if line.startswith(b"{"):
            entry = json.loads(line)
            kinds[(entry["logger"], entry["level"], re.sub(r"\d+", "#", entry["msg"]))] += 1
    return kinds


def test_broker_down_for_35_seconds_and_back(own_broker: tuple[Broker, Cluster]) -> None:
    """Nothing lost or counted twice; few log lines over the outage (the Kafka clients
    retry every few milliseconds, and each retry logged); contactcenter_kafka_up 0
    while the broker is away."""
    broker, cluster = own_broker
    events = day_events(seed=35)
    expected = reference(events)
    cluster.produce(keyed(events))
    worker = cluster.start("a")
    wait_for(lambda: cluster.processed() > len(events) // 4, 60, "mid-stream")
    assert worker.metrics()[KAFKA_UP] == 1.0
    logged = worker.log.stat().st_size
    stop_native_broker(broker)
    stopped = time.monotonic()
    wait_for(lambda: worker.metrics().get(KAFKA_UP) == 0.0, 20, "kafka_up 0", 0.5)
    time.sleep(max(0.0, 35 - (time.monotonic() - stopped)))  # the outage under test
    assert worker.alive()
    outage = worker.log.read_bytes()[logged:].splitlines()
    restart_native_broker(broker)
    down_seconds = time.monotonic() - stopped
    wait_for(lambda: worker.metrics().get(KAFKA_UP) == 1.0, 30, "kafka_up 1 again", 0.5)
    converge(cluster, expected, timeout=150)
    assert worker.alive()  # recovered by itself, no restart
    kinds = log_kinds(outage)
    assert max(kinds.values()) <= 10, kinds.most_common(3)
    assert sum(kinds.values()) <= 200, kinds.most_common(3)
    worker.stop()  # the counts of the records held back come at exit, at the latest
    tries = logged_or_held_back(worker.log, "Unable connect to node with id %s: %s")
    assert 0 < tries <= 100 * down_seconds  # paced retries, not a busy loop (5,000/s)


def test_stopped_while_the_broker_is_down_exits_by_its_deadline_and_loses_nothing(
    own_broker: tuple[Broker, Cluster],
) -> None:
    """Stopping waits for the broker (leaving the group, the last commit): a minute and
    more when it is gone. Past `stop_timeout_seconds` the worker exits at once, with
    status 1; started again on the same store, it loses and repeats nothing."""
    broker, cluster = own_broker
    cluster.env["FLOORWATCH_WORKER__STOP_TIMEOUT_SECONDS"] = "5"
    events = day_events(seed=36)
    expected = reference(events)
    cluster.produce(keyed(events))
    worker = cluster.start("a")
    wait_for(lambda: cluster.processed() > 0, 60, "first events applied")
    stop_native_broker(broker)
    worker.process.send_signal(signal.SIGTERM)
    wait_for(lambda: not worker.alive(), 20, "exit within the 5-s deadline")
    worker.stop()  # closes its log
    assert worker.process.returncode == 1
    assert "worker not stopped 5 s after the signal" in worker.log.read_text()
    restart_native_broker(broker)
    cluster.start("a")  # the same store
    converge(cluster, expected, timeout=150)
