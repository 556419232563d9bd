"""Webhook receiver benchmark: `floorwatch receive` producing to a local Kafka broker.

    .venv/bin/python benchmarks/receive_bench.py [--rate 2000] [--seconds 20]

Starts a native single-node broker of its own (or uses FLOORWATCH_KAFKA_BOOTSTRAP) and a
`floorwatch receive` process, then sends signed Zendesk ticket webhooks from this process
(aiohttp, keep-alive connections):
  1. open loop at --rate requests/s for --seconds: the rate achieved, the acknowledgement
     time of each request (p50, p99, max: from its send to its 200), and any non-200;
  2. closed loop (64 requests in flight, as fast as it goes): the most it takes.
The sender shares the machine's cores with the receiver and the broker.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
from aiohttp import ClientSession, TCPConnector
from results import OUT, machine, save

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tests.support
SECRET = "benchmark-signing-secret"


def bodies(count: int) -> list[tuple[bytes, dict[str, str]]]:
    """Signed `ticket.created` webhooks of distinct tickets (Zendesk's event schema)."""
    out = []
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for n in range(count):
        body = orjson.dumps(
            {
                "type": "zen:event-type:ticket.created",
                "account_id": 1,
                "id": f"bench-{n}",
                "time": stamp,
                "subject": f"zen:ticket:{n}",
                "detail": {
                    "id": str(n),
                    "group_id": str(n % 50),
                    "priority": "NORMAL",
                    "status": "NEW",
                    "via": {"channel": "email"},
                },
                "event": {},
            }
        )
        digest = hmac.new(SECRET.encode(), stamp.encode() + body, hashlib.sha256).digest()
        headers = {
            "Content-Type": "application/json",
            "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        }
        out.append((body, headers))
    return out


async def open_loop(url: str, rate: float, seconds: float) -> dict[str, object]:
    requests = bodies(int(rate * seconds))
    latencies: list[float] = []
    failed = 0

    async with ClientSession(connector=TCPConnector(limit=256)) as session:

        async def send(body: bytes, headers: dict[str, str]) -> None:
            nonlocal failed
            sent = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    failed += 1
            latencies.append(time.perf_counter() - sent)

        start = time.perf_counter()
        tasks = []
        for i, (body, headers) in enumerate(requests):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(body, headers)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": len(requests),
        "achieved_per_s": round(len(requests) / elapsed),
        "ack_ms_p50": round(statistics.median(latencies) * 1000, 1),
        "ack_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "ack_ms_max": round(latencies[-1] * 1000, 1),
        "not_200": failed,
    }


async def closed_loop(url: str, count: int, in_flight: int) -> dict[str, object]:
    requests = bodies(count)
    queue = iter(requests)
    async with ClientSession(connector=TCPConnector(limit=in_flight)) as session:

        async def worker() -> None:
            for body, headers in queue:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        elapsed = time.perf_counter() - start
    return {"requests": count, "in_flight": in_flight, "per_s": round(count / elapsed)}


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """User and system CPU time of this process (the sender) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    from tests.support.kafka_broker import start_broker

    external = os.environ.get("FLOORWATCH_KAFKA_BOOTSTRAP")
    broker = start_broker(OUT / "kafka") if not external else None
    bootstrap = external or (broker.bootstrap if broker else "")
    tag = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "FLOORWATCH_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "FLOORWATCH_KAFKA__TOPIC": f"bench-{tag}",
        "FLOORWATCH_KAFKA__DLQ_TOPIC": f"bench-dlq-{tag}",
        "FLOORWATCH_RECEIVE__ZENDESK_SECRET": SECRET,
        "FLOORWATCH_RECEIVE__PORT": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-P", "-m", "streams", "receive", "--log-level", "warning"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        url = next(word for word in line.split() if "/hooks/zendesk" in word).rstrip(",")
        asyncio.run(closed_loop(url, 2000, 16))  # warm-up: connections, metadata
        before, sender = cpu_seconds(process.pid), own_cpu_seconds()
        steady = asyncio.run(open_loop(url, args.rate, args.seconds))
        steady["sender_cpu_us_per_request"] = round(
            (own_cpu_seconds() - sender) / int(steady["requests"]) * 1e6  # type: ignore[call-overload]
        )
        steady["receiver_cpu_us_per_request"] = round(
            (cpu_seconds(process.pid) - before) / int(steady["requests"]) * 1e6  # type: ignore[call-overload]
        )
        before = cpu_seconds(process.pid)
        most = asyncio.run(closed_loop(url, 20000, 64))
        most["receiver_cpu_us_per_request"] = round(
            (cpu_seconds(process.pid) - before) / 20000 * 1e6
        )
    finally:
        process.terminate()
        process.wait(30)
        if broker is not None:
            broker.stop()
    result = {
        "machine": machine(),
        "open_loop": steady,
        "closed_loop": most,
    }
    save("receive_bench.json", result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
