"""`floorwatch dlq stats` through the real command line: a dead-letter topic built by
hand on a real broker (as tests/runtimes/worker/test_dead_letters.py builds one), a
missing topic, an unreachable broker."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.dead_letters import letters_topic
from tests.support.helpers import floorwatch
from tests.support.kafka_broker import Broker

pytestmark = pytest.mark.slow


def dlq_stats(*args: str, bootstrap: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"FLOORWATCH_KAFKA__BOOTSTRAP_SERVERS": bootstrap}
    return floorwatch("dlq", "stats", *args, cwd=cwd, env=env)


@pytest.mark.kafka
def test_counts_of_a_hand_built_topic_and_a_missing_one(
    kafka_broker: Broker, tmp_path: Path
) -> None:
    """9 messages: 5 source messages (one of another topic), 3 sent again, 1 without
    source headers -> 6 distinct, 3 repeats; by reason invalid_json 2 (offsets 10, 11),
    unknown_type 2, missing_field 1, not_an_object 1."""
    topic = letters_topic(kafka_broker.bootstrap)
    done = dlq_stats("--topic", topic, "--json", bootstrap=kafka_broker.bootstrap, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == {
        "topic": topic,
        "messages": 9,
        "distinct": 6,
        "repeats": 3,
        "unsourced": 1,
        "by_reason": {"invalid_json": 2, "unknown_type": 2, "missing_field": 1, "not_an_object": 1},
    }
    table = dlq_stats("--topic", topic, bootstrap=kafka_broker.bootstrap, cwd=tmp_path)
    assert table.returncode == 0
    assert table.stdout.splitlines() == [
        f"dead letters in {topic}",
        "  messages              9",
        "  distinct              6",
        "  repeats               3",
        "  unsourced             1",
        "distinct by reason",
        "  invalid_json          2",
        "  unknown_type          2",
        "  missing_field         1",
        "  not_an_object         1",
    ]
    missing = dlq_stats("--topic", f"{topic}-x", bootstrap=kafka_broker.bootstrap, cwd=tmp_path)
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == (
        f"floorwatch dlq: the dead-letter topic '{topic}-x' does not exist at "
        f"{kafka_broker.bootstrap}\n"
    )


def test_an_unreachable_broker_is_exit_3_in_one_line(tmp_path: Path) -> None:
    done = dlq_stats("--timeout", "5", bootstrap="127.0.0.1:1", cwd=tmp_path)
    assert done.returncode == 3
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("floorwatch dlq: cannot reach Kafka at 127.0.0.1:1")
