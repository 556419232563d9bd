"""`floorwatch receive` against a real Kafka broker, read by `floorwatch worker`: webhooks
answered 200 only once stored, 503 while the broker is down; the vendor's retries (and
plain repeats) leave the workers' numbers equal to a replay of each event exactly once;
`floorwatch run --source http://` feeds its own engine. Bodies follow Zendesk's documented
ticket events (created, a staff comment, solved), signed here with the standard library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from streams.config import settings_from_mapping
from streams.connectors import ZendeskConnector
from streams.read.exporter import exposition
from streams.runtimes.replay import replay
from tests.support.helpers import Metrics
from tests.support.kafka_broker import (
    Broker,
    restart_native_broker,
    stop_native_broker,
)
from tests.support.live import wait_for
from tests.support.worker_cluster import Cluster, converge, parse, queue_series

SECRET = "zendesk-signing-secret-for-tests"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ticket_events(ticket: int, start: float) -> list[bytes]:
    """One ticket's webhook bodies: created; a staff public reply 5 minutes later (every
    second ticket); solved 20 minutes later (every third)."""
    detail = {
        "id": str(ticket),
        "created_at": iso(start),
        "group_id": "360001",
        "priority": "NORMAL",
        "via": {"channel": "email"},
    }

    def body(kind: str, at: float, status: str, event: dict) -> bytes:  # type: ignore[type-arg]
        return orjson.dumps(
            {
                "type": f"zen:event-type:ticket.{kind}",
                "account_id": 22129848,
                "id": f"{kind}-{ticket}",
                "time": iso(at),
                "zendesk_event_version": "2022-11-06",
                "subject": f"zen:ticket:{ticket}",
                "detail": {**detail, "status": status, "updated_at": iso(at)},
                "event": event,
            }
        )

    out = [body("created", start, "NEW", {})]
    if ticket % 2 == 0:
        author = {"id": "900", "is_staff": True, "name": "Agent"}
        comment = {"id": str(ticket), "body": "On it", "is_public": True, "author": author}
        out.append(body("comment_added", start + 300, "OPEN", {"comment": comment}))
    if ticket % 3 == 0:
        out.append(
            body(
                "status_changed", start + 1200, "SOLVED", {"current": "SOLVED", "previous": "OPEN"}
            )
        )
    return out


def signed(body: bytes) -> dict[str, str]:
    stamp = iso(time.time())
    digest = hmac.new(SECRET.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


def post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers=signed(body), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def start_listening(
    command: list[str], env: dict[str, str], marker: str
) -> tuple[subprocess.Popen[str], str, list[str]]:
    """Start a floorwatch command; returns it, the hook URL of its `marker` line and the
    lines it wrote until then."""
    process = subprocess.Popen(
        [sys.executable, "-m", "streams", *command],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            url = next(word for word in line.split() if "/hooks/" in word)
            return process, url.rstrip(","), seen
    process.kill()
    raise AssertionError(f"{command[0]} did not start: {''.join(seen)}{process.stderr.read()}")


@pytest.mark.kafka
@pytest.mark.slow
def test_broker_down_503_then_retries_count_exactly_once(
    own_broker: tuple[Broker, Cluster], tmp_path: Path
) -> None:
    broker, cluster = own_broker
    start = time.time() - 3 * 3600
    bodies = [b for ticket in range(1, 21) for b in ticket_events(ticket, start + ticket * 60)]
    env = {
        **os.environ,
        **cluster.env,
        "FLOORWATCH_RECEIVE__ZENDESK_SECRET": SECRET,
        "FLOORWATCH_RECEIVE__PORT": "0",
        "FLOORWATCH_RECEIVE__ACK_TIMEOUT": "2s",
    }
    receiver, url, _ = start_listening(["receive"], env, "listening on")
    try:
        first, during, last = bodies[:10], bodies[10:16], bodies[16:]
        assert [post(url, b) for b in first] == [200] * len(first)
        stop_native_broker(broker)
        assert [post(url, b) for b in during] == [503] * len(during)
        restart_native_broker(broker)
        # The vendor retries what was refused until it is taken, and repeats some it sent.
        for body in during:
            wait_for(lambda body=body: post(url, body) == 200, 60, "a retry taken", 1.0)
        assert [post(url, b) for b in first[:3] + last] == [200] * (3 + len(last))
        with urllib.request.urlopen(url.replace("/hooks/zendesk", "/metrics")) as answer:
            metrics = Metrics(answer.read().decode())
    finally:
        receiver.terminate()
        receiver.wait(30)
    refused = metrics.get(
        "contactcenter_webhooks_total", connector="zendesk", outcome="unavailable"
    )
    assert refused is not None and refused >= len(during)  # and retries refused meanwhile
    path = tmp_path / "accepted.jsonl"
    path.write_bytes(b"\n".join(bodies) + b"\n")  # each accepted event once, in order
    with path.open("rb") as source:
        engine = replay(source, settings_from_mapping({}), mapper=ZendeskConnector())
    engine.queues.advance(time.time())
    expected = queue_series(parse(exposition(engine).decode()))
    offered = 'contactcenter_contacts_offered_total{channel="email",queue="360001"}'
    assert expected[offered] == 20  # 20 tickets, each once
    assert expected['contactcenter_contacts_resolved_total{channel="email",queue="360001"}'] == 6
    cluster.start("a")
    converge(cluster, expected, timeout=120)


def test_run_source_http_feeds_its_own_engine(tmp_path: Path) -> None:
    """`floorwatch run --source http://127.0.0.1:0`: the webhooks go straight into the
    engine; /metrics of the board equals the replay of the same bodies."""
    start = time.time() - 3 * 3600
    bodies = [b for ticket in range(1, 9) for b in ticket_events(ticket, start + ticket * 60)]
    env = {**os.environ, "FLOORWATCH_RECEIVE__ZENDESK_SECRET": SECRET}
    command = ["run", "--port", "0", "--source", "http://127.0.0.1:0"]
    process, url, lines = start_listening(command, env, "webhooks")
    board = next(w for w in lines[0].split() if w.startswith("http://"))
    try:
        assert [post(url, b) for b in bodies] == [200] * len(bodies)
        assert post(url, bodies[0]) == 200  # a repeat: a duplicate, counted once
        with urllib.request.urlopen(url.replace("/hooks/zendesk", "/metrics")) as answer:
            webhooks = Metrics(answer.read().decode())
        with urllib.request.urlopen(board + "metrics") as answer:
            engine_metrics = answer.read().decode()
    finally:
        process.terminate()
        process.wait(30)
    # 8 tickets created, 4 replies (even tickets), 2 solved (3 and 6); and the repeat.
    assert webhooks.get("contactcenter_webhook_events_total", connector="zendesk") == 8 + 4 + 2 + 1
    path = tmp_path / "sent.jsonl"
    path.write_bytes(b"\n".join(bodies) + b"\n")
    with path.open("rb") as source:
        engine = replay(source, settings_from_mapping({}), mapper=ZendeskConnector())
    engine.queues.advance(time.time())
    expected = queue_series(parse(exposition(engine).decode()))
    actual = queue_series(parse(engine_metrics))
    counters = [k for k in expected if "_total{" in k]
    assert {k: actual.get(k) for k in counters} == {k: expected[k] for k in counters}
    assert expected['contactcenter_contacts_offered_total{channel="email",queue="360001"}'] == 8
