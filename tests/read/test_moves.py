"""Staffing moves on small floors, the Erlang C figures worked out independently here by
the direct formula (sums of A^k / k!), not by streams.read.staffing.

Voice, answer within T = 20 s, target 80 %, AHT 120 s, max occupancy 0.85, no shrinkage.
A = 2 Erlangs (one call a minute): SL(2) = 0, SL(3) = 0.6238, SL(4) = 0.8754 -> needs 4.
A = 1 Erlang (one call every 2 min): SL(2) = 0.7178, SL(3) = 0.9349 -> needs 3.
"""

from __future__ import annotations

import math

import pytest

from streams.read.moves import suggest_moves

T, AHT, TARGET = 20.0, 120.0, 0.8


def erlang_sl(n: int, a: float) -> float:
    """SL = 1 - C(n, A) exp(-(n - A) T / AHT), C by the direct formula."""
    if n <= a:
        return 0.0
    top = a**n / math.factorial(n) * n / (n - a)
    bottom = sum(a**k / math.factorial(k) for k in range(n)) + top
    return 1 - top / bottom * math.exp(-(n - a) * T / AHT)


def required(a: float) -> int:
    n = 1
    while erlang_sl(n, a) < TARGET or a / n > 0.85:
        n += 1
    return n


def voice(queue: str, erlangs: float) -> dict:
    return {
        "queue": queue,
        "channel": "voice",
        "arrivals_per_second": erlangs / AHT,
        "aht_seconds": AHT,
        "answer_within_seconds": T,
        "service_level_target": TARGET,
    }


def moved(result: dict) -> list[tuple[str, str, str]]:
    return [(m["agent_id"], m["from_queue"], m["to_queue"]) for m in result["moves"]]


def level(side: dict, when: str) -> tuple[int, float]:
    (channel,) = side[when]
    return channel["staffed"], channel["service_level"]


def test_the_direct_formula_matches_the_figures_worked_out_by_hand() -> None:
    assert erlang_sl(2, 2.0) == 0.0
    assert erlang_sl(3, 2.0) == pytest.approx(0.6238, abs=5e-5)
    assert erlang_sl(4, 2.0) == pytest.approx(0.8754, abs=5e-5)
    assert erlang_sl(2, 1.0) == pytest.approx(0.7178, abs=5e-5)
    assert erlang_sl(3, 1.0) == pytest.approx(0.9349, abs=5e-5)
    assert (required(2.0), required(1.0)) == (4, 3)


def test_two_queues_the_longest_idle_agents_of_the_surplus_queue_move() -> None:
    """billing (A = 2) has b1 (also in sales) and b2: 2 staffed, needs 4. sales (A = 1)
    has b1 and s1..s5 staffed (6, needs 3); s6 is away. b1, available longest, already
    serves billing and stays; s1 and s2, available longest after it, move."""
    agents = [
        ("b1", "available", -1000.0, ("billing", "sales")),
        ("b2", "on_contact", -10.0, ("billing",)),
        ("s1", "available", -600.0, ("sales",)),
        ("s2", "available", -300.0, ("sales",)),
        ("s3", "available", -100.0, ("sales",)),
        ("s4", "on_contact", -20.0, ("sales",)),
        ("s5", "after_contact_work", -5.0, ("sales",)),
        ("s6", "away", -900.0, ("sales",)),
    ]
    result = suggest_moves([voice("billing", 2.0), voice("sales", 1.0)], agents, 0.85, 0.0)
    assert moved(result) == [("s1", "sales", "billing"), ("s2", "sales", "billing")]
    first, second = result["moves"]
    assert level(first["to"], "before") == (2, 0.0)
    assert level(first["to"], "after") == (3, pytest.approx(erlang_sl(3, 2.0)))
    assert level(first["from"], "before") == (6, pytest.approx(erlang_sl(6, 1.0)))
    assert level(first["from"], "after") == (5, pytest.approx(erlang_sl(5, 1.0)))
    assert level(second["to"], "after") == (4, pytest.approx(0.8754, abs=5e-5))
    assert level(second["from"], "after") == (4, pytest.approx(erlang_sl(4, 1.0)))
    summary = {q["queue"]: q for q in result["queues"]}
    assert level(summary["billing"], "before") == (2, 0.0)
    assert level(summary["billing"], "after")[0] == 4
    assert level(summary["sales"], "after")[0] == 4
    assert summary["sales"]["after"][0]["required"] == 3
    assert result["still_short"] == []


def test_three_queues_no_donor_goes_below_its_requirement() -> None:
    """q1 (A = 2, needs 4) has 1 agent. q2 (A = 1, needs 3) has 4, q3 (A = 1) has 5.
    1st: q3 keeps the larger margin (5 - 1 - 3 = 1 against 0): its longest idle, r1.
    2nd: both would keep margin 0 at SL(3) = 0.9349: the name decides, q2: p1.
    3rd: q2 (now 3) cannot give; q3 (4) can: r2. q1 reaches 4 and stops."""
    agents = [
        ("x1", "on_contact", -10.0, ("q1",)),
        ("p1", "available", -500.0, ("q2",)),
        ("p2", "available", -400.0, ("q2",)),
        ("p3", "on_contact", -10.0, ("q2",)),
        ("p4", "after_contact_work", -10.0, ("q2",)),
        ("r1", "available", -450.0, ("q3",)),
        ("r2", "available", -350.0, ("q3",)),
        ("r3", "available", -50.0, ("q3",)),
        ("r4", "on_contact", -10.0, ("q3",)),
        ("r5", "on_contact", -10.0, ("q3",)),
    ]
    demands = [voice("q1", 2.0), voice("q2", 1.0), voice("q3", 1.0)]
    result = suggest_moves(demands, agents, 0.85, 0.0)
    assert moved(result) == [("r1", "q3", "q1"), ("p1", "q2", "q1"), ("r2", "q3", "q1")]
    summary = {q["queue"]: q for q in result["queues"]}
    assert level(summary["q1"], "after") == (4, pytest.approx(erlang_sl(4, 2.0)))
    for donor in ("q2", "q3"):
        staffed, sl = level(summary[donor], "after")
        assert staffed == 3 == required(1.0)
        assert sl == pytest.approx(erlang_sl(3, 1.0)) and sl >= TARGET
    assert level(result["moves"][0]["from"], "before") == (5, pytest.approx(erlang_sl(5, 1.0)))


def test_no_move_when_every_donor_is_at_its_requirement() -> None:
    agents = [
        ("x1", "available", -10.0, ("q1",)),
        *[(f"p{i}", "available", -100.0 * i, ("q2",)) for i in range(3)],
    ]
    result = suggest_moves([voice("q1", 2.0), voice("q2", 1.0)], agents, 0.85, 0.0)
    assert result["moves"] == []
    (short,) = result["still_short"]
    assert (short["queue"], short["short_by"]) == ("q1", 3)
    assert short["channels"][0]["service_level"] == 0.0


def test_asynchronous_queue_by_workload() -> None:
    """email: 36 contacts an hour x 600 s = 6 Erlangs of work / 0.85 -> 8 agents (7.06 up).
    It has 6; voice q2 (A = 1, needs 3) has 5 and can give 2."""
    email = {
        "queue": "mail",
        "channel": "email",
        "arrivals_per_second": 36 / 3600,
        "aht_seconds": 600.0,
        "answer_within_seconds": 20.0,
        "service_level_target": 0.8,
    }
    agents = [
        *[(f"m{i}", "on_contact", -10.0, ("mail",)) for i in range(6)],
        *[(f"v{i}", "available", -100.0 * i, ("q2",)) for i in range(5)],
    ]
    result = suggest_moves([email, voice("q2", 1.0)], agents, 0.85, 0.0)
    assert moved(result) == [("v4", "q2", "mail"), ("v3", "q2", "mail")]
    mail = {q["queue"]: q for q in result["queues"]}["mail"]
    assert mail["before"] == [
        {"channel": "email", "staffed": 6, "required": 8, "service_level": None, "target": None}
    ]
    assert mail["after"][0]["staffed"] == 8


def test_shrinkage_raises_what_a_donor_must_keep() -> None:
    """With shrinkage 0.5 a queue of A = 1 requires ceil(3 / 0.5) = 6 scheduled agents.
    q2 has 6: SL(5) = 0.98 would meet the target, but it is at its requirement: no move.
    With 7 it can give one."""
    q1 = voice("q1", 2.0)
    base = [("x1", "available", -10.0, ("q1",))]
    six = [(f"p{i}", "available", -100.0 * i, ("q2",)) for i in range(6)]
    result = suggest_moves([q1, voice("q2", 1.0)], base + six, 0.85, 0.5)
    assert erlang_sl(5, 1.0) > TARGET
    assert result["moves"] == []
    assert result["still_short"][0]["short_by"] == 8 - 1  # q1: ceil(4 / 0.5) = 8
    seven = [*six, ("p6", "available", -700.0, ("q2",))]
    result = suggest_moves([q1, voice("q2", 1.0)], base + seven, 0.85, 0.5)
    assert moved(result) == [("p6", "q2", "q1")]
