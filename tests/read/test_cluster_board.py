"""The cluster board (workers' boards merged) and its terminal table, without I/O."""

from __future__ import annotations

from typing import Any

import orjson

from streams.cli.board import render
from streams.read.board import merge_boards


def tile(queue: str, channel: str, waiting: int) -> dict[str, Any]:
    return {
        "queue": queue,
        "channel": channel,
        "targets": {"service_level": 0.8},
        "live": {"waiting": waiting, "longest_wait_seconds": 42.4},
        "sla": {"breached": 1, "at_risk": 2},
        "agents": {"available": 3},
        "windows": {"15m": {"service_level_ratio": 0.754}},
        "status": {"overall": "red"},
    }


def part(worker: str, at: float, now: str, *tiles: dict[str, Any]) -> dict[str, Any]:
    return {
        "worker": worker,
        "published_at": at,
        "now": now,
        "last_event_at": now,
        "queues": list(tiles),
    }


def test_merge_takes_each_queue_from_the_newest_board_and_skips_unreadable_ones() -> None:
    old = part("w1:9641", 100.0, "2026-11-22T10:00:01.000Z", tile("sales", "voice", 1))
    new = part(
        "w2:9642", 101.0, "2026-11-22T10:00:02.000Z",
        tile("sales", "voice", 7), tile("billing", "chat", 0),
    )  # fmt: skip
    board = merge_boards(
        [orjson.dumps(new), b"{not json", b'{"worker": 1}', orjson.dumps(old)], ["15m"]
    )
    assert board["workers"] == ["w1:9641", "w2:9642"]
    assert board["now"] == "2026-11-22T10:00:02.000Z"
    assert [(t["queue"], t["channel"], t["live"]["waiting"]) for t in board["queues"]] == [
        ("billing", "chat", 0),
        ("sales", "voice", 7),  # the partition moved to w2: its newer tile wins
    ]
    assert merge_boards([], ["15m"])["queues"] == []


def test_terminal_table() -> None:
    board = {"now": "2026-11-22T10:00:02.000Z", "windows": ["15m"], "workers": ["a", "b"]}
    board["queues"] = [tile("sales", "voice", 7)]
    lines = render(board).splitlines()
    assert lines[0] == "floorwatch board  now 2026-11-22T10:00:02.000Z  SL window 15m  workers 2"
    # a tile as published before the floor's view: what it lacks shows as "-", its
    # status from its SLA totals (1 breached: late)
    assert lines[3].split() == [
        "sales",
        "voice",
        "7",
        "0:42",
        "75%",
        "-",
        "-",
        "-",
        "-",
        "✖",
        "late",
    ]
    assert render({"queues": [], "windows": []}).splitlines()[-1] == "(no queues yet)"
