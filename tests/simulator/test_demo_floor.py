"""The default demo looks like a well-run centre with occasional trouble, at any hour.

Counted straight from the simulator's events (not through the engine): for each 3-hour
band of three simulated days, the share of voice calls answered within 20 s and of chats
within 30 s, among answered and abandoned (after 5 s) contacts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest

from streams.simulator import Simulation

START = datetime(2026, 11, 16, tzinfo=UTC).timestamp()  # a Monday, 00:00 UTC
DAY = 86400.0
TARGET = {"voice": 20.0, "chat": 30.0}


def seconds(value: str | int) -> float:
    if isinstance(value, int):
        return value / 1000
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def bands() -> dict[tuple[int, str], tuple[int, int, int]]:
    """(band 0-7, channel) -> (within target, answered, abandoned after 5 s)."""
    entered: dict[str, tuple[float, str]] = {}
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for event in Simulation("contact-centre", seed=11, start_epoch=START).events(3 * DAY):
        kind = event["type"]
        if kind == "contact.queued":
            entered[event["contact_id"]] = (seconds(event["occurred_at"]), event["channel"])
        elif kind in ("contact.answered", "contact.abandoned"):
            start, channel = entered[event["contact_id"]]
            wait = seconds(event["occurred_at"]) - start
            band = counts[(int((start - START) % DAY // 10800), channel)]
            if kind == "contact.answered":
                band[0] += wait <= TARGET[channel]
                band[1] += 1
            elif wait >= 5:
                band[2] += 1
    return {key: (met, answered, abandoned) for key, (met, answered, abandoned) in counts.items()}


def service_level(counts: tuple[int, int, int]) -> float:
    met, answered, abandoned = counts
    return met / (answered + abandoned)


def test_the_night_shift_keeps_service_above_85_percent(
    bands: dict[tuple[int, str], tuple[int, int, int]],
) -> None:
    for band in (0, 1):  # 00:00-06:00
        for channel in ("voice", "chat"):
            counts = bands[(band, channel)]
            assert service_level(counts) >= 0.85, (band, channel, counts)
            assert counts[2] / (counts[1] + counts[2]) <= 0.05, (band, channel, counts)


def test_no_band_is_all_red_and_some_run_tight(
    bands: dict[tuple[int, str], tuple[int, int, int]],
) -> None:
    levels = {key: service_level(counts) for key, counts in bands.items()}
    assert min(levels.values()) >= 0.65, levels
    assert any(level < 0.8 for level in levels.values()), levels  # occasional trouble
    total = [sum(c[i] for c in bands.values()) for i in range(3)]
    assert 0.8 <= service_level((total[0], total[1], total[2])) <= 0.95, total
