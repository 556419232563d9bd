"""Distinct dead letters: a dead-letter topic built by hand with known repeats, read back
from a real broker; the counts are worked out by hand below."""

from __future__ import annotations

import asyncio

import pytest

from streams.core.settings import KafkaSettings
from streams.runtimes.worker.dead_letters import (
    DeadLetterStats,
    NoSuchTopic,
    count_dead_letters,
    dead_letter_stats,
)
from tests.support.dead_letters import LETTERS, letters_topic
from tests.support.kafka_broker import Broker

EXPECTED = DeadLetterStats(
    messages=9,
    distinct=6,  # 5 sources + 1 without one
    repeats=3,
    by_reason={"invalid_json": 2, "unknown_type": 2, "missing_field": 1, "not_an_object": 1},
    unsourced=1,
)


def test_counts_from_headers() -> None:
    assert count_dead_letters(h for _, h in LETTERS) == EXPECTED


@pytest.mark.kafka
def test_a_dead_letter_topic_with_repeats_read_from_a_real_broker(kafka_broker: Broker) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    topic = letters_topic(kafka_broker.bootstrap)
    assert asyncio.run(dead_letter_stats(kafka, topic, timeout_seconds=30)) == EXPECTED
    with pytest.raises(NoSuchTopic):
        asyncio.run(dead_letter_stats(kafka, f"{topic}-missing", timeout_seconds=30))
