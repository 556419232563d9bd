"""`simulate --format asterisk`: the same traffic as a queue_log, and the agreement of
`simulate | replay` with `simulate --format asterisk | replay --format asterisk`.

They agree exactly once the contract stream is reduced to what a queue_log can say
(docs/connectors.md, "Simulated queue_log"): every time cut to whole seconds (Asterisk
writes time(NULL)); no priority, team, hold_seconds, resolutions, responses or surveys;
an agent who goes offline is in no queue (a member removed from its queues). The scenario
has no wrap-up, because the simulator draws one per call and Asterisk has one per queue.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.core.intake import parse_timestamp
from tests.support.helpers import Metrics

pytestmark = pytest.mark.slow

SCENARIO = """
name = "pbx"
timezone = "UTC"

[channels.voice]
patience_seconds = 150
handle_seconds = { mean = 240, sigma = 0.5 }
after_contact_work_seconds = { mean = 0, sigma = 0 }
hold_share = 0.3
survey_share = 0.2

[[queues]]
name = "billing"
channel = "voice"
team = "tier1"
priority = { normal = 0.8, high = 0.2 }
transfer_share = 0.1
transfer_to = ["sales"]
arrivals.rate = 50

[[queues]]
name = "sales"
channel = "voice"
arrivals.rate = 30
overflow = { after_seconds = 60, to = "billing" }

[[agents]]
name = "a"
count = 5
skills = ["billing", "sales"]
shifts = [[8, 20]]
breaks = [{ after_hours = 1, minutes = 15 }, { after_hours = 3, minutes = 30 }]

[[agents]]
name = "b"
count = 3
skills = ["sales"]
shifts = [[9, 12]]
"""
START = "2026-11-22T08:00:00Z"
RUN = ("--seed", "4", "--start", START, "--duration", "6h")
DROPPED_TYPES = {"contact.resolved", "contact.responded", "survey.responded", "contact.reopened"}


def floorwatch(*args: str, cwd: Path) -> bytes:
    done = subprocess.run(
        [sys.executable, "-m", "streams", *args],
        capture_output=True,
        check=True,
        timeout=300,
        cwd=cwd,
    )
    return done.stdout


def what_a_queue_log_says(event: dict[str, Any]) -> dict[str, Any] | None:
    """The contract event reduced to what the queue_log carries (None: nothing)."""
    if event["type"] in DROPPED_TYPES:
        return None
    out = {k: v for k, v in event.items() if k not in ("priority", "team", "hold_seconds")}
    ms = round(parse_timestamp(event["occurred_at"]) * 1000)
    out["occurred_at"] = ms // 1000 * 1000
    if out["type"] == "agent.state" and out["state"] == "offline":
        out["queues"] = []
    return out


def queue_series(text: bytes) -> dict[tuple[str, frozenset], float]:
    metrics = Metrics(text.decode())
    return {key: value for key, value in metrics.samples.items() if dict(key[1]).get("queue")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    work = tmp_path_factory.mktemp("pbx")
    (work / "pbx.toml").write_text(SCENARIO)
    contract = floorwatch("simulate", "--scenario", "pbx.toml", *RUN, cwd=work)
    queue_log = floorwatch(
        "simulate", "--scenario", "pbx.toml", "--format", "asterisk", *RUN, cwd=work
    )
    (work / "events.jsonl").write_bytes(contract)
    (work / "queue_log").write_bytes(queue_log)
    reduced = [what_a_queue_log_says(orjson.loads(line)) for line in contract.splitlines()]
    (work / "reduced.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in reduced if e))
    return {
        "queue_log": queue_log,
        "json": floorwatch("replay", "events.jsonl", cwd=work),
        "reduced": floorwatch("replay", "reduced.jsonl", cwd=work),
        "asterisk": floorwatch("replay", "--format", "asterisk", "queue_log", cwd=work),
    }


def test_the_queue_log_has_every_kind_of_line_the_traffic_needs(runs: dict[str, bytes]) -> None:
    kinds = {line.split(b"|")[4].decode() for line in runs["queue_log"].splitlines()}
    assert kinds == {
        "QUEUESTART",
        "ADDMEMBER",
        "REMOVEMEMBER",  # group b's shift ends at 12:00
        "PAUSEALL",
        "PAUSE",
        "UNPAUSEALL",
        "UNPAUSE",
        "ENTERQUEUE",
        "CONNECT",
        "ABANDON",
        "COMPLETEAGENT",
        "COMPLETECALLER",
        "BLINDTRANSFER",  # billing -> sales
        "EXITWITHTIMEOUT",  # sales -> billing after 60 s
    }
    for line in runs["queue_log"].splitlines():
        epoch, _callid, _queue, _member, event, *data = line.decode().split("|")
        assert epoch.isdigit()
        if event == "CONNECT":
            holdtime, bridged, ringtime = data
            assert int(holdtime) >= 0 and bridged.startswith("1795") and ringtime == "0"


def test_asterisk_replay_equals_the_contract_replay_up_to_what_a_queue_log_says(
    runs: dict[str, bytes],
) -> None:
    asterisk, reduced = queue_series(runs["asterisk"]), queue_series(runs["reduced"])
    assert asterisk == reduced
    offered = ("contactcenter_contacts_offered_total", frozenset(
        {("queue", "billing"), ("channel", "voice")}
    ))  # fmt: skip
    assert asterisk[offered] > 250  # 6 h at 50 an hour, plus the overflow from sales


def test_counts_that_whole_seconds_cannot_change_agree_with_the_full_contract_stream(
    runs: dict[str, bytes],
) -> None:
    """Against the unreduced stream: offers, answers, transfers and leavers (abandoned +
    short abandoned) are the same calls; what depends on fractions of a second (answered
    within 20 s, short or not) or on dropped fields (holds, surveys) may differ."""
    asterisk, full = queue_series(runs["asterisk"]), queue_series(runs["json"])
    for name in ("offered", "answered", "transferred"):
        for queue in ("billing", "sales"):
            key = (f"contactcenter_contacts_{name}_total", frozenset(
                {("queue", queue), ("channel", "voice")}
            ))  # fmt: skip
            assert asterisk[key] == full[key], key
    for queue in ("billing", "sales"):
        labels = frozenset({("queue", queue), ("channel", "voice")})
        left = [
            asterisk[(f"contactcenter_contacts_{n}_total", labels)]
            - full[(f"contactcenter_contacts_{n}_total", labels)]
            for n in ("abandoned", "short_abandoned")
        ]
        assert sum(left) == 0
