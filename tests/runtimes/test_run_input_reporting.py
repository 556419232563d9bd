"""`floorwatch run --source FILE` with bad lines: each rejection logged with its line
number, a flood kept to the first record of the kind (the log's rate limit), and the end
of the source reported as lines, accepted and rejected apart (issue 18, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.helpers import iso
from tests.support.live import LiveFloorwatch

pytestmark = pytest.mark.slow
T = 1_795_000_000.0  # 2026-11-18, in the past


def test_bad_lines_are_logged_with_their_number_and_counted_apart(tmp_path: Path) -> None:
    good = [
        {
            "event_id": f"q-{i}",
            "type": "contact.queued",
            "occurred_at": iso(T + i),
            "contact_id": f"c-{i}",
            "queue": "q",
            "channel": "voice",
        }
        for i in range(3)
    ]
    lines = [json.dumps(good[0]), "{not json", *["[]"] * 4998, json.dumps(good[1])]
    lines += ["", json.dumps(good[2])]  # a blank line is no event and no rejection
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n")
    live = LiveFloorwatch("--source", str(source))
    try:
        assert live.process.stderr is not None
        records = []
        while not records or records[-1].get("msg") != "event source finished":
            line = live.process.stderr.readline()
            assert line, "floorwatch run ended before finishing its source"
            records.append(json.loads(line))
    finally:
        live.stop()
    rejected = [r for r in records if r.get("msg") == "event rejected"]
    # The first bad line is logged with its number; the 4,998 after it are held back by
    # the log's rate limit (one summary record with their count follows later).
    assert [(r["line"], r["reason"]) for r in rejected] == [(2, "invalid_json")]
    finished = records[-1]
    assert (finished["lines"], finished["accepted"], finished["rejected"]) == (5003, 3, 4999)
