"""Tests of the synthetic day generator and its ground truth (tests.support.daygen)."""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.support.daygen import QUEUE_CHANNELS, DayPlan, generate_day, main, write_day

EVENT_TYPES = {
    "contact.queued",
    "contact.answered",
    "contact.abandoned",
    "contact.responded",
    "contact.ended",
    "contact.wrapped",
    "contact.resolved",
    "contact.reopened",
    "survey.responded",
    "agent.state",
}
CHANNELS = {"voice", "chat", "email", "messaging", "social"}
PRIORITIES = {"urgent", "high", "normal", "low"}
STATES = {"available", "on_contact", "after_contact_work", "away", "offline"}
QUEUE_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
OFFSET_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?[+-]\d\d:\d\d")
SECOND_SUMS = {"wait_sum", "wait_max", "handle_sum", "first_response_sum", "resolution_sum"}
UTC_Z_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")

PLAN = DayPlan(seed=7, contacts=1500)


def _write(plan: DayPlan) -> tuple[bytes, Any]:
    buf = io.BytesIO()
    truth = write_day(plan, buf)
    return buf.getvalue(), truth


@pytest.fixture(scope="module")
def day() -> tuple[bytes, list[dict[str, Any]], dict[str, Any]]:
    data, truth = _write(PLAN)
    events = [orjson.loads(line) for line in data.splitlines()]
    return data, events, truth.to_dict()


def to_ms(value: str | int) -> int:
    if isinstance(value, int):
        return value
    return round(datetime.fromisoformat(value).timestamp() * 1000)


# ----------------------------------------------------------------- determinism


def test_same_seed_gives_identical_bytes_and_truth() -> None:
    first, truth1 = _write(DayPlan(seed=11, contacts=300))
    second, truth2 = _write(DayPlan(seed=11, contacts=300))
    assert first == second
    assert truth1.to_json() == truth2.to_json()


def test_different_seed_gives_different_output() -> None:
    assert _write(DayPlan(seed=11, contacts=300))[0] != _write(DayPlan(seed=12, contacts=300))[0]


# ----------------------------------------------------------------- contract validity


def _check_event(ev: dict[str, Any]) -> None:
    assert isinstance(ev["event_id"], str) and 1 <= len(ev["event_id"]) <= 128
    assert ev["type"] in EVENT_TYPES
    ts = ev["occurred_at"]
    assert (isinstance(ts, int) and not isinstance(ts, bool)) or isinstance(ts, str)
    if "queue" in ev:
        assert isinstance(ev["queue"], str) and QUEUE_NAME.fullmatch(ev["queue"])
    if "channel" in ev:
        assert ev["channel"] in CHANNELS
    if "priority" in ev:
        assert ev["priority"] in PRIORITIES
    if "team" in ev:
        assert isinstance(ev["team"], str) and 1 <= len(ev["team"]) <= 64
    if "agent_id" in ev:
        assert isinstance(ev["agent_id"], str) and 1 <= len(ev["agent_id"]) <= 128
    if ev["type"] == "agent.state":
        assert "agent_id" in ev and ev["state"] in STATES
        assert isinstance(ev["queues"], list) and ev["queues"]
        assert all(isinstance(q, str) and QUEUE_NAME.fullmatch(q) for q in ev["queues"])
        return
    assert isinstance(ev["contact_id"], str) and 1 <= len(ev["contact_id"]) <= 128
    if ev["type"] == "contact.queued":
        assert "queue" in ev and "channel" in ev
    if "hold_seconds" in ev:
        hold = ev["hold_seconds"]
        assert isinstance(hold, int | float) and not isinstance(hold, bool) and hold >= 0
    if "first_contact" in ev:
        assert isinstance(ev["first_contact"], bool)
    if ev["type"] == "survey.responded":
        scores = {k: ev[k] for k in ("csat", "ces", "nps") if k in ev}
        assert scores
        for key, (low, high) in {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10)}.items():
            if key in scores:
                assert type(scores[key]) is int and low <= scores[key] <= high


def test_every_line_is_a_valid_event(day) -> None:
    data, events, truth = day
    assert data.endswith(b"\n")
    assert len(events) == truth["events"] == len(data.splitlines())
    for ev in events:
        assert isinstance(ev, dict)
        _check_event(ev)
    assert len({ev["event_id"] for ev in events}) == len(events)
    assert Counter(ev["type"] for ev in events) == truth["events_by_type"]


def test_sorted_by_time_and_inside_the_local_day(day) -> None:
    _, events, truth = day
    times = [to_ms(ev["occurred_at"]) for ev in events]
    assert times == sorted(times)
    assert truth["day_start_ms"] <= times[0] and times[-1] < truth["day_end_ms"]
    assert (times[0], times[-1]) == (truth["first_event_ms"], truth["last_event_ms"])


def test_timestamp_forms_are_mixed(day) -> None:
    _, events, truth = day
    stamps = [ev["occurred_at"] for ev in events]
    utc_z = sum(isinstance(s, str) and bool(UTC_Z_FORM.fullmatch(s)) for s in stamps)
    offset = sum(isinstance(s, str) and bool(OFFSET_FORM.fullmatch(s)) for s in stamps)
    epoch = sum(isinstance(s, int) for s in stamps)
    assert utc_z > 0 and offset > 0 and epoch > 0
    assert utc_z + offset + epoch == len(stamps)
    assert not any(isinstance(s, str) and s.endswith(("+00:00", "-00:00")) for s in stamps)
    assert truth["timestamp_forms"] == {"utc_z": utc_z, "offset": offset, "epoch_ms": epoch}


def test_truth_offered_equals_queued_lines(day) -> None:
    _, events, truth = day
    queued = Counter(
        (ev["queue"], ev["channel"]) for ev in events if ev["type"] == "contact.queued"
    )
    offered = {(q["queue"], q["channel"]): q["offered"] for q in truth["queues"]}
    assert offered == {key: queued.get(key, 0) for key in offered}
    assert set(queued) <= set(offered) == set(QUEUE_CHANNELS)


# ----------------------------------------------------------------- truth vs. an independent replay


@dataclass
class _Seen:
    key: tuple[str, str]
    first_ms: int
    entry_ms: int
    answered_ms: int | None = None
    ended_ms: int | None = None
    handled: bool = False
    interactions: int = 0
    reopened: bool = False
    responded: bool = False
    open: bool = True


def _replay(events: list[dict[str, Any]], plan: DayPlan) -> dict[tuple[str, str], Counter]:
    """Derive the tallies from the events alone (durations in ms), per the metric spec."""
    out: dict[tuple[str, str], Counter] = defaultdict(Counter)
    seen: dict[str, _Seen] = {}
    short_ms = round(plan.short_abandon_seconds * 1000)
    target_ms = {ch: round(s * 1000) for ch, s in plan.answer_within_seconds.items()}
    for ev in events:
        kind, t = ev["type"], to_ms(ev["occurred_at"])
        if kind == "agent.state":
            continue
        if kind == "survey.responded":
            _survey(out[(ev["queue"], ev["channel"])], ev)
            continue
        if kind == "contact.queued":
            key = (ev["queue"], ev["channel"])
            s = seen.get(ev["contact_id"])
            if s is None:
                s = seen[ev["contact_id"]] = _Seen(key, t, t)
            else:
                out[s.key]["transferred_out"] += 1
                s.key, s.entry_ms, s.open = key, t, True
            out[key]["offered"] += 1
            continue
        s = seen[ev["contact_id"]]
        c, live = out[s.key], s.key[1] in ("voice", "chat")
        if kind == "contact.answered":
            wait = t - s.entry_ms
            c["answered"] += 1
            c["wait_sum_ms"] += wait
            c["wait_max_ms"] = max(c["wait_max_ms"], wait)
            c["answered_within_target"] += wait <= target_ms[s.key[1]]
            c["wait_eq_target"] += wait == target_ms[s.key[1]]
            c["wait_target_plus_1"] += wait == target_ms[s.key[1]] + 1
            s.answered_ms, s.interactions = t, s.interactions + 1
            if s.key[1] == "voice":
                s.responded = True
                c["first_response_count"] += 1
                c["first_response_sum_ms"] += t - s.first_ms
        elif kind == "contact.abandoned":
            wait = t - s.entry_ms
            c["short_abandoned" if wait < short_ms else "abandoned"] += 1
            c["abandon_at_threshold"] += wait == short_ms
            s.open = False
        elif kind == "contact.responded":
            if s.answered_ms is None:
                s.interactions += 1
            if not s.responded:
                s.responded = True
                c["first_response_count"] += 1
                c["first_response_sum_ms"] += t - s.first_ms
        elif kind == "contact.ended":
            s.ended_ms, s.open = t, False
        elif kind == "contact.wrapped":
            assert s.answered_ms is not None
            c["handle_count"] += 1
            c["handle_sum_ms"] += t - s.answered_ms
            s.handled = True
        elif kind == "contact.resolved":
            c["resolved"] += 1
            c["resolution_count"] += 1
            c["resolution_sum_ms"] += t - s.first_ms
            fc = ev.get("first_contact")
            c["fcr_yes"] += fc is True or (fc is None and s.interactions == 1 and not s.reopened)
            if not s.handled and s.ended_ms is not None and s.answered_ms is not None:
                c["handle_count"] += 1
                c["handle_sum_ms"] += s.ended_ms - s.answered_ms
                s.handled = True
            if not live:
                s.open = False
        elif kind == "contact.reopened":
            c["reopened"] += 1
            s.reopened, s.open = True, True
    for s in seen.values():
        out[s.key]["open_at_end"] += s.open
    return out


def _survey(c: Counter, ev: dict[str, Any]) -> None:
    if "csat" in ev:
        c["csat_count"] += 1
        c["csat_sum"] += ev["csat"]
        c["csat_satisfied"] += ev["csat"] >= 4
    if "ces" in ev:
        c["ces_count"] += 1
        c["ces_sum"] += ev["ces"]
    if "nps" in ev:
        c["nps_count"] += 1
        c["nps_promoters"] += ev["nps"] >= 9
        c["nps_detractors"] += ev["nps"] <= 6


def test_truth_matches_an_independent_replay(day) -> None:
    _, events, truth = day
    replayed = _replay(events, PLAN)
    for q in truth["queues"]:
        ref = replayed[(q["queue"], q["channel"])]
        for name, value in q.items():
            if name in ("queue", "channel", "backlog_at_end"):
                continue
            if name in SECOND_SUMS:
                assert value == ref[f"{name}_ms"] / 1000, (q["queue"], q["channel"], name)
            else:
                assert value == ref[name], (q["queue"], q["channel"], name)
        assert sum(q["backlog_at_end"].values()) == q["open_at_end"]


def test_day_covers_the_edge_cases(day) -> None:
    _, events, _ = day
    replayed = _replay(events, PLAN)
    live = [replayed[key] for key in QUEUE_CHANNELS if key[1] in ("voice", "chat")]
    total = sum(live, Counter())
    assert total["abandon_at_threshold"] > 0 and total["short_abandoned"] > 0
    assert total["wait_eq_target"] > 0 and total["wait_target_plus_1"] > 0
    assert total["transferred_out"] > 0 and total["open_at_end"] == 0
    asynchronous = sum(
        (replayed[key] for key in QUEUE_CHANNELS if key[1] not in ("voice", "chat")), Counter()
    )
    assert asynchronous["reopened"] > 0 and asynchronous["open_at_end"] > 0
    kinds = Counter(ev["type"] for ev in events)
    assert kinds["agent.state"] > 0 and kinds["survey.responded"] > 0
    assert any("priority" not in ev for ev in events if ev["type"] == "contact.queued")
    assert any("hold_seconds" in ev for ev in events)
    assert {
        ev.get("first_contact", "absent") for ev in events if ev["type"] == "contact.resolved"
    } == {True, False, "absent"}


# ----------------------------------------------------------------- API and CLI


def test_truth_is_complete_only_after_the_iterator_is_consumed() -> None:
    events, truth = generate_day(DayPlan(seed=3, contacts=50))
    with pytest.raises(RuntimeError):
        truth.to_json()
    count = sum(1 for _ in events)
    assert truth.complete and orjson.loads(truth.to_json())["events"] == count


def test_text_file_target_and_dst_day() -> None:
    text = io.StringIO()
    plan = DayPlan(seed=5, contacts=200, day="2026-03-29", timezone="Europe/Berlin")
    truth = write_day(plan, text)
    assert truth.day_end_ms - truth.day_start_ms == 23 * 3_600_000  # DST day
    lines = text.getvalue().splitlines()
    assert lines and all(
        truth.day_start_ms <= to_ms(orjson.loads(x)["occurred_at"]) < truth.day_end_ms
        for x in lines
    )


def test_cli_writes_events_and_truth(tmp_path: Path) -> None:
    out, truth_out = tmp_path / "day.jsonl", tmp_path / "truth.json"
    args = ["--contacts", "100", "--seed", "9", "--out", str(out), "--truth-out", str(truth_out)]
    assert main([*args, "--quiet"]) == 0
    truth = orjson.loads(truth_out.read_bytes())
    assert truth["events"] == len(out.read_bytes().splitlines())
    assert truth["plan"]["seed"] == 9 and truth["contacts"] == 100
    assert out.read_bytes() == _write(DayPlan(seed=9, contacts=100))[0]
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
