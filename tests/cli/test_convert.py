"""`floorwatch convert` and `replay --format asterisk` through the real command line, on
the hand-written queue_log of tests/connectors/fixtures (values worked out there)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.helpers import Metrics

pytestmark = pytest.mark.slow

DAY = Path(__file__).resolve().parent.parent / "connectors" / "fixtures" / "day.queue_log"


def floorwatch(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=60,
    )


def test_convert_prints_contract_json_lines_and_counts_what_it_left_out(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.jsonl"
    done = floorwatch(
        "convert", "--format", "asterisk", "--wrapup", "billing=10", "--rejects-out",
        str(rejects), str(DAY),
    )  # fmt: skip
    assert done.returncode == 0
    events = [json.loads(line) for line in done.stdout.splitlines()]
    # The first lines: QUEUESTART ignored; alice added to billing, then to sales.
    assert [(e["type"], e.get("agent_id"), e.get("queues")) for e in events[:2]] == [
        ("agent.state", "alice", ["billing"]),
        ("agent.state", "alice", ["billing", "sales"]),
    ]
    kinds: dict[str, int] = {}
    for event in events:
        kinds[event["type"]] = kinds.get(event["type"], 0) + 1
    # 10 queue entries (.1 .3 .4 .4 .6 .8 .8 .9 .10 .18), 5 answers, 4 abandons (.3 .6,
    # .8 empty, .9 key), 4 ends and 4 wrap-ups (.1 .4 .10 .18), 4 misses.
    assert {k: v for k, v in kinds.items() if k != "agent.state"} == {
        "contact.queued": 10,
        "contact.answered": 5,
        "contact.abandoned": 4,
        "contact.ended": 4,
        "contact.wrapped": 4,
        "contact.missed": 4,
    }
    assert done.stderr.decode().splitlines() == [
        "floorwatch convert: rejected 4 record(s): invalid_timestamp 1, missing_field 1, "
        "unknown_contact 1, unknown_type 1",
        "floorwatch convert: ignored 4 asterisk record(s) by design: configreload 1, "
        "no_queue 1, outbound 1, queuestart 1",
    ]
    kept = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["reason"], r["raw"]) for r in kept] == [
        (39, "missing_field", "this is not a queue_log line"),
        (40, "unknown_contact", "1795338705|1795338999.99|billing|bob|CONNECT|5|1795338705.15|1"),
        (41, "unknown_type", "1795338706|1795338706.16|billing|NONE|FROBNICATE|"),
        (42, "invalid_timestamp", "yesterday|1795338707.17|billing|NONE|ENTERQUEUE||0151000017|1"),
    ]


def test_converted_events_replay_to_the_same_numbers(tmp_path: Path) -> None:
    """convert, then replay the contract JSON Lines = replay --format asterisk."""
    converted = floorwatch("convert", "--format", "asterisk", "--wrapup", "billing=10", str(DAY))
    contract = tmp_path / "day.jsonl"
    contract.write_bytes(converted.stdout)
    direct = floorwatch("replay", "--format", "asterisk", "--wrapup", "billing=10", str(DAY))
    via_json = floorwatch("replay", str(contract))
    assert direct.returncode == via_json.returncode == 0
    mine, theirs = Metrics(direct.stdout.decode()), Metrics(via_json.stdout.decode())
    queue_samples = {k: v for k, v in mine.samples.items() if "queue" in dict(k[1])}
    assert queue_samples == {k: v for k, v in theirs.samples.items() if "queue" in dict(k[1])}
    assert queue_samples[("contactcenter_contacts_offered_total", frozenset(
        {("queue", "billing"), ("channel", "voice")}
    ))] == 6  # fmt: skip
    assert direct.stderr.decode().splitlines() == [
        "floorwatch replay: rejected 4 event(s): invalid_timestamp 1, missing_field 1, "
        "unknown_contact 1, unknown_type 1",
        "floorwatch replay: ignored 4 asterisk record(s) by design: configreload 1, "
        "no_queue 1, outbound 1, queuestart 1",
    ]


def test_convert_checks_contract_json_lines() -> None:
    good = b'{"event_id":"e1","type":"contact.queued","occurred_at":1795338000000,'
    good += b'"contact_id":"c1","queue":"q","channel":"voice"}'
    done = floorwatch("convert", "-", stdin=good + b"\n{not json\n\n")
    assert done.returncode == 0
    assert done.stdout == good + b"\n"
    assert done.stderr == b"floorwatch convert: rejected 1 record(s): invalid_json 1\n"
