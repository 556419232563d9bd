"""A worker pair with Redis (real Kafka broker, real redis-server) answering the
cluster-wide lists: each worker's /api/v1/agents, /api/v1/contacts and
/api/v1/staffing/moves hold the agents and contacts of both workers, with the shapes one
process gives for the same events."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.config import settings_from_mapping
from streams.core.clock import WallClock
from streams.core.engine import Engine
from streams.read.agents import agents_snapshot
from streams.read.contacts import ContactFilter, contact_rows
from streams.read.moves import moves_snapshot
from tests.support.helpers import iso
from tests.support.kafka_broker import Broker
from tests.support.live import wait_for
from tests.support.redis_server import RedisServer
from tests.support.worker_cluster import PARTITIONS, Cluster, Worker, kafka_partition, keyed

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.slow]

# Time-relative fields: one process and a worker read them at different instants.
BOARD_TTL_SECONDS = 5.0  # the default [redis] board_ttl_seconds
MOVING = {"now", "seconds_to_due", "age_seconds", "seconds_in_state", "seconds"}


@pytest.fixture
def cluster(kafka_broker: Broker, native_redis: RedisServer, tmp_path: Path) -> Iterator[Cluster]:
    made = Cluster(kafka_broker.bootstrap, tmp_path, redis_url=native_redis.url)
    yield made
    made.stop()


def one_per_partition(prefix: str) -> list[str]:
    """Keys `prefix-N`, one in each input partition (in partition order): whatever two
    workers share the partitions, each holds two of them."""
    found: dict[int, str] = {}
    n = 0
    while len(found) < PARTITIONS:
        found.setdefault(kafka_partition(f"{prefix}-{n}"), f"{prefix}-{n}")
        n += 1
    return [found[p] for p in range(PARTITIONS)]


def floor_events(t: float) -> tuple[list[dict], dict[str, str]]:
    """Four agents, one per partition: ann (available, q1 q2, since t-600), bob (on four
    chats of q2), cat (away, lunch, q1), dan (available, q2, since t-700). Four chats in
    q2, one per partition, queued at t-3000+i, answered by bob 10 s later (the answer
    target is 30 s): their first reply (120 s) breached at t-2880+i. A call v in q1 queued
    at t-120, never answered: its answer (20 s) breached at t-100. An email m in q3 queued
    at t-12000: its first reply (4 h) is due at t+2400, at risk (at most 25 % left)."""
    ann, bob, cat, dan = one_per_partition("agent")
    names = {"ann": ann, "bob": bob, "cat": cat, "dan": dan}
    chats = one_per_partition("chat")
    out: list[dict] = []

    def add(kind: str, at: float, **fields: Any) -> None:
        out.append({"event_id": f"e{len(out)}", "type": kind, "occurred_at": iso(at), **fields})

    add("agent.state", t - 3100, agent_id=bob, state="available", queues=["q2"], team="t1")
    for i, chat in enumerate(chats):
        add("contact.queued", t - 3000 + i, contact_id=chat, queue="q2", channel="chat", team="t1")
        add("contact.answered", t - 2990 + i, contact_id=chat, agent_id=bob)
    add("agent.state", t - 2990, agent_id=bob, state="on_contact")
    add("agent.state", t - 700, agent_id=dan, state="available", queues=["q2"], team="t1")
    add("agent.state", t - 600, agent_id=ann, state="available", queues=["q1", "q2"], team="t1")
    add("contact.queued", t - 120, contact_id="v", queue="q1", channel="voice", team="t1")
    add("agent.state", t - 100, agent_id=cat, state="away", reason="lunch", queues=["q1"])
    add("contact.queued", t - 12000, contact_id="m", queue="q3", channel="email", team="t2")
    return out, names


def shape(value: Any) -> Any:
    """A list's JSON without the fields that move with the instant it is read."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if k not in MOVING}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return value


def answers(worker: Worker, path: str, expected: Any) -> bool:
    """Whether a worker's list is `expected` but for the fields that move."""
    return bool(shape(worker.json(path)[1]) == expected)


def test_each_worker_answers_the_cluster_wide_lists(
    cluster: Cluster, native_redis: RedisServer
) -> None:
    t = time.time()
    events, names = floor_events(t)
    ann, bob, cat, dan = (names[n] for n in ("ann", "bob", "cat", "dan"))
    chats = one_per_partition("chat")
    cluster.produce(keyed(events))
    workers = [cluster.start("a"), cluster.start("b")]

    client = native_redis.client()
    prefix = cluster.env["FLOORWATCH_REDIS__KEY_PREFIX"]

    def published() -> list[dict]:
        return [orjson.loads(v) for k in client.keys(f"{prefix}:floor:*") if (v := client.get(k))]

    def split() -> bool:
        """Both workers own partitions (b's join rebalanced a's) and publish them."""
        held = [{s[0] for s in p["agents"]["states"]} for p in published()]
        return len(held) == 2 and all(held) and not held[0] & held[1]

    wait_for(split, 90, "both workers to publish their part of the floor")

    def settled(worker: Worker) -> bool:
        status, agents = worker.json("/api/v1/agents?sort=agent")
        _, contacts = worker.json("/api/v1/contacts")
        return status == 200 and agents["total"] == 4 and contacts.get("total") == 6

    for worker in workers:
        wait_for(functools.partial(settled, worker), 30, f"worker {worker.name}'s lists")

    # Both workers hold a part of the floor: the lists join them.
    parts = published()
    held = [{s[0] for s in p["agents"]["states"]} for p in parts]
    assert held[0] | held[1] == {ann, bob, cat, dan} and len(held[0]) == len(held[1]) == 2
    rows = [r for p in parts for r in p["contacts"]["rows"]["breached"] if r["queue"] == "q2"]
    # q2's queue stage sits on one worker; two of the chats' contact sides on the other,
    # so that worker's part cannot name their agent: the list takes bob from bob's live
    # contacts, published by the worker that holds them.
    assert sorted(r["contact_id"] for r in rows) == sorted(chats)
    assert sum(r["agent_id"] is None for r in rows) == 2

    reference = Engine(settings_from_mapping({}), WallClock())
    for event in events:
        reference.ingest(orjson.dumps(event), time.time())

    for worker in workers:
        _, agents = worker.json("/api/v1/agents?sort=agent")
        assert [(a["agent_id"], a["state"]) for a in agents["agents"]] == sorted(
            [(ann, "available"), (bob, "on_contact"), (cat, "away"), (dan, "available")]
        )
        assert agents["by_state"]["available"] == 2 and agents["by_state"]["away"] == 1
        (bob_row,) = [a for a in agents["agents"] if a["agent_id"] == bob]
        assert [c["contact_id"] for c in bob_row["contacts"]] == chats[::-1]  # newest first
        # A part published before a rebalance lives until its TTL: allow for one.
        one = shape(agents_snapshot(reference, sort="agent"))
        wait_for(
            functools.partial(answers, worker, "/api/v1/agents?sort=agent", one),
            2 * BOARD_TTL_SECONDS,
            "the agents list of one process",
        )

        _, listed = worker.json("/api/v1/contacts")
        assert [
            (c["contact_id"], c["state"], c["sla"], c["due_at"], c["agent_id"])
            for c in listed["contacts"]
        ] == [
            *[
                (chat, "breached", "first_response", iso(t - 2880 + i), bob)
                for i, chat in enumerate(chats)
            ],
            ("v", "breached", "answer", iso(t - 100), None),
            ("m", "at_risk", "first_response", iso(t + 2400), None),
        ]
        assert "truncated" not in listed
        one = shape(contact_rows(reference, ContactFilter(), 100))
        wait_for(
            functools.partial(answers, worker, "/api/v1/contacts", one),
            2 * BOARD_TTL_SECONDS,
            "the contacts list of one process",
        )
        _, late = worker.json("/api/v1/contacts?sla=breached&channel=voice")
        assert ([c["contact_id"] for c in late["contacts"]], late["total"]) == (["v"], 1)
        _, chat_only = worker.json("/api/v1/contacts?queue=q2&limit=2")
        assert ([c["contact_id"] for c in chat_only["contacts"]], chat_only["total"]) == (
            chats[:2],
            4,
        )
        _, soon = worker.json("/api/v1/contacts?sla=at_risk&team=t2")
        assert ([c["contact_id"] for c in soon["contacts"]], soon["total"]) == (["m"], 1)

        # q1 has a call and one agent staffed (cat is away): short. q2 has no arrival in
        # its window and three staffed: it gives dan, available longest of those who do
        # not serve q1 yet (ann does).
        _, moves = worker.json("/api/v1/staffing/moves")
        assert [(m["agent_id"], m["from_queue"], m["to_queue"]) for m in moves["moves"]] == [
            (dan, "q2", "q1")
        ]
        q2 = moves["moves"][0]["from"]
        assert [q2["before"][0]["staffed"], q2["after"][0]["staffed"]] == [3, 2]
        expected = moves_snapshot(reference)
        assert [(m["agent_id"], m["to_queue"]) for m in expected["moves"]] == [(dan, "q1")]
        assert moves.keys() == expected.keys()
