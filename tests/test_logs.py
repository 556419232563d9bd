"""Rate-limited logs (streams/logs.py): the first record of a kind, then one summary per
window with the count held back. Time and timers are the test's own."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

from streams.logs import JsonFormatter, RateLimit

UNREACHABLE = "Unable connect to node with id %s: %s"


class Timers:
    def __init__(self) -> None:
        self.now = 0.0
        self.due: list[tuple[float, Callable[[], None]]] = []

    def schedule(self, delay: float, run: Callable[[], None]) -> None:
        self.due.append((self.now + delay, run))

    def advance_to(self, when: float) -> None:
        """Run each timer due by `when` at its own time, in order."""
        while ready := sorted((at, i) for i, (at, _) in enumerate(self.due) if at <= when):
            at, i = ready[0]
            self.now = at
            self.due.pop(i)[1]()
        self.now = when


def record(name: str, level: int, msg: str, *args: object) -> logging.LogRecord:
    return logging.makeLogRecord(
        {"name": name, "levelno": level, "levelname": logging.getLevelName(level), "msg": msg}
        | {"args": args}
    )


def json_lines() -> tuple[io.StringIO, logging.Handler, Timers]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    timers = Timers()
    handler.addFilter(
        RateLimit(
            handler.handle, window_seconds=60, clock=lambda: timers.now, schedule=timers.schedule
        )
    )
    return out, handler, timers


def test_an_outage_of_35_s_writes_one_line_and_one_summary_per_kind() -> None:
    out, handler, timers = json_lines()
    for i in range(3500):  # a retry loop: 100 attempts a second
        timers.advance_to(i / 100)
        handler.handle(record("aiokafka.client", logging.ERROR, UNREACHABLE, 1, f"err {i}"))
        handler.handle(record("aiokafka", logging.ERROR, "Unable to update metadata from %s", [1]))
    timers.advance_to(60.0)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["logger"], line["msg"], line.get("suppressed")) for line in lines] == [
        ("aiokafka.client", "Unable connect to node with id 1: err 0", None),
        ("aiokafka", "Unable to update metadata from [1]", None),
        (
            "aiokafka.client",
            f"3499 more like {UNREACHABLE!r} in the last 60 s (rate-limited)",
            3499,
        ),
        (
            "aiokafka",
            "3499 more like 'Unable to update metadata from %s' in the last 60 s (rate-limited)",
            3499,
        ),
    ]
    assert {line["level"] for line in lines} == {"error"}


def test_a_flood_that_goes_on_gets_one_summary_a_minute_then_a_quiet_kind_starts_afresh() -> None:
    out, handler, timers = json_lines()
    for second in range(150):
        timers.advance_to(float(second))
        handler.handle(record("faust.transport", logging.WARNING, "Fetch failed: %s", second))
    timers.advance_to(400.0)  # quiet for long: the kind is forgotten
    handler.handle(record("faust.transport", logging.WARNING, "Fetch failed: %s", "again"))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["msg"], line.get("suppressed")) for line in lines] == [
        ("Fetch failed: 0", None),
        ("59 more like 'Fetch failed: %s' in the last 60 s (rate-limited)", 59),  # 1..59
        ("60 more like 'Fetch failed: %s' in the last 60 s (rate-limited)", 60),  # 60..119
        ("30 more like 'Fetch failed: %s' in the last 60 s (rate-limited)", 30),  # 120..149
        ("Fetch failed: again", None),
    ]


def test_our_own_info_lines_are_never_held_back_but_the_clients_are() -> None:
    timers = Timers()
    limit = RateLimit(
        lambda _: None, window_seconds=60, clock=lambda: timers.now, schedule=timers.schedule
    )
    loaded = [record("floorwatch.worker", logging.INFO, "partition %d loaded", p) for p in range(6)]
    assert [limit.filter(r) for r in loaded] == [True] * 6
    joined = [record("aiokafka.consumer", logging.INFO, "Joined group %s", g) for g in range(3)]
    assert [limit.filter(r) for r in joined] == [True, False, False]
    mine = [record("floorwatch.worker", logging.WARNING, "offsets %s gone", p) for p in range(3)]
    assert [limit.filter(r) for r in mine] == [True, False, False]


def test_at_exit_an_open_window_gives_its_count_too() -> None:
    out, handler, timers = json_lines()
    for second in range(10):
        timers.advance_to(float(second))
        handler.handle(record("aiokafka", logging.ERROR, "Unable to update metadata from %s", 1))
    (limit,) = [f for f in handler.filters if isinstance(f, RateLimit)]
    limit.flush(everything=True)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["msg"], line.get("suppressed")) for line in lines] == [
        ("Unable to update metadata from 1", None),
        ("9 more like 'Unable to update metadata from %s' in the last 9 s (rate-limited)", 9),
    ]
