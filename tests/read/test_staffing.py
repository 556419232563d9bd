"""Staffing mathematics (streams/staffing.py) against hand-checked and independent values.

Expected numbers come from the published Call Centre Helper worked example, from hand
arithmetic written out in the comments, or from the textbook Erlang formulas evaluated
here with exact rational arithmetic (factorials and powers) — a method independent of the
module's recurrence. None are copied from the module's own output.
"""

from __future__ import annotations

import itertools
import math
import time
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.read.staffing import (
    StaffingInput,
    StaffingResult,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    occupancy,
    per_interval,
    projected_service_level,
    required_agents,
    service_level,
    what_if_table,
    workload_agents,
)

# --------------------------------------------------------------------------- references


def ref_erlang_b(n: int, a: Fraction) -> Fraction:
    """Textbook Erlang B: (A^N / N!) / sum_{k=0..N} A^k / k!, exactly."""
    terms = [a**k / math.factorial(k) for k in range(n + 1)]
    return terms[n] / sum(terms)


def ref_erlang_c(n: int, a: Fraction) -> Fraction:
    """Textbook Erlang C: (A^N/N! · N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! · N/(N-A))."""
    assert n > a
    top = a**n / math.factorial(n) * Fraction(n) / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def ref_service_level(n: int, a: Fraction, aht: float, t: float) -> float:
    return 1.0 - float(ref_erlang_c(n, a)) * math.exp(-float(n - a) * t / aht)


LOADS = [Fraction(1, 10), Fraction(1, 2), Fraction(1), Fraction(5, 2), Fraction(4),
         Fraction(15, 2), Fraction(10), Fraction(27, 2)]  # fmt: skip


# --------------------------------------------------------------------------- worked example


def cch_input(**overrides: float) -> StaffingInput:
    """Call Centre Helper: 100 calls in 30 minutes, AHT 180 s, 80 % answered in 20 s."""
    values: dict[str, float] = {
        "arrivals_per_second": per_interval(100, 30 * 60),
        "aht_seconds": 180.0,
        "answer_within_seconds": 20.0,
        "service_level_target": 0.80,
        "max_occupancy": 0.85,
        "shrinkage": 0.0,
    }
    values.update(overrides)
    return StaffingInput(**values)


def test_call_centre_helper_worked_example() -> None:
    inp = cch_input()
    # 100 / 1800 s * 180 s = 10 Erlangs
    assert inp.load == pytest.approx(10.0, rel=1e-12)
    result = required_agents(inp)
    assert isinstance(result, StaffingResult)
    assert result.agents_on_phones == 14
    assert result.required_agents == 14
    assert result.load_erlangs == pytest.approx(10.0, rel=1e-12)
    assert result.service_level == pytest.approx(0.888, abs=0.001)
    assert result.probability_of_waiting == pytest.approx(0.174, abs=0.001)
    assert result.occupancy == pytest.approx(10 / 14, abs=1e-12)  # 0.714
    # ASA = Pw · AHT / (N - A) = 0.1741 · 180 / 4 ≈ 7.8 s
    assert result.average_speed_of_answer_seconds == pytest.approx(7.84, abs=0.02)


def test_call_centre_helper_thirteen_agents_fall_short() -> None:
    # 13 agents miss the 80 % target (the textbook formula gives 79.6 %), so 14 is minimal.
    expected_13 = ref_service_level(13, Fraction(10), 180.0, 20.0)
    assert expected_13 < 0.80
    assert projected_service_level(13, cch_input()) == pytest.approx(expected_13, rel=1e-9)
    assert projected_service_level(14, cch_input()) == pytest.approx(0.888, abs=0.001)


def test_call_centre_helper_with_shrinkage() -> None:
    # 14 ÷ (1 - 0.30) = 20
    result = required_agents(cch_input(shrinkage=0.30))
    assert result.agents_on_phones == 14
    assert result.required_agents == 20


def test_call_centre_helper_without_occupancy_cap() -> None:
    assert required_agents(cch_input(max_occupancy=1.0)).agents_on_phones == 14


# --------------------------------------------------------------------------- Erlang B / C


@pytest.mark.parametrize("a", LOADS)
def test_erlang_b_matches_textbook_formula(a: Fraction) -> None:
    for n in range(0, 16):
        assert erlang_b(n, float(a)) == pytest.approx(float(ref_erlang_b(n, a)), rel=1e-12)


@pytest.mark.parametrize("a", LOADS)
def test_erlang_c_matches_textbook_formula(a: Fraction) -> None:
    for n in range(1, 16):
        if n > a:
            assert erlang_c(n, float(a)) == pytest.approx(float(ref_erlang_c(n, a)), rel=1e-12)
        else:
            assert erlang_c(n, float(a)) == 1.0


@pytest.mark.parametrize("a", LOADS)
def test_service_level_and_asa_match_textbook_formula(a: Fraction) -> None:
    aht, t = 240.0, 30.0
    for n in range(1, 16):
        if n > a:
            assert service_level(n, float(a), aht, t) == pytest.approx(
                ref_service_level(n, a, aht, t), rel=1e-12
            )
            expected_asa = float(ref_erlang_c(n, a)) * aht / float(n - a)
            assert average_speed_of_answer(n, float(a), aht) == pytest.approx(
                expected_asa, rel=1e-12
            )


def test_erlang_b_small_values_by_hand() -> None:
    # B(1, A) = A / (1 + A); B(2, 1) = (1/2) / (1 + 1 + 1/2) = 1/5
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(1, 3.0) == pytest.approx(0.75)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    # C(2, 1) = 2·(1/5) / (2 - 1·(4/5)) = (2/5) / (6/5) = 1/3
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # C(1, A) = A for A < 1 (M/M/1: P(wait) = rho)
    assert erlang_c(1, 0.3) == pytest.approx(0.3)


@pytest.mark.parametrize(("n", "a"), [(300, 250), (1000, 900), (2000, 1950)])
def test_erlang_b_large_exact(n: int, a: int) -> None:
    # B = A^N / sum_k A^k · N!/k!, all integers: exact even for N in the thousands.
    numerator = a**n
    denominator = 0
    falling = 1  # N! / k!, built from k = N downward
    for k in range(n, -1, -1):
        denominator += a**k * falling
        falling *= k if k > 0 else 1
    expected = Fraction(numerator, denominator)
    assert erlang_b(n, float(a)) == pytest.approx(float(expected), rel=1e-9)


def test_erlang_b_huge_arguments_are_finite() -> None:
    b = erlang_b(5000, 800.0)
    assert 0.0 <= b < 1e-100
    b = erlang_b(5000, 4990.0)
    assert 0.0 < b < 1.0
    assert 0.0 < erlang_c(5000, 4990.0) < 1.0


# --------------------------------------------------------------------------- edge cases


def test_zero_arrivals() -> None:
    inp = StaffingInput(0.0, 0.0, 20.0, 0.8)  # AHT may be unknown (0) when nothing arrives
    assert inp.load == 0.0
    result = required_agents(inp)
    assert result.agents_on_phones == 0
    assert result.required_agents == 0
    assert result.service_level == 1.0
    assert result.probability_of_waiting == 0.0
    assert result.average_speed_of_answer_seconds == 0.0
    assert result.occupancy == 0.0
    assert projected_service_level(0, inp) == 1.0
    assert projected_service_level(5, inp) == 1.0
    assert required_agents(StaffingInput(0.0, 300.0, 20.0, 0.8, shrinkage=0.5)).required_agents == 0


def test_zero_load_functions() -> None:
    assert erlang_b(0, 0.0) == 1.0
    assert erlang_b(3, 0.0) == 0.0
    assert erlang_c(0, 0.0) == 0.0
    assert erlang_c(4, 0.0) == 0.0
    assert service_level(0, 0.0, 0.0, 20.0) == 1.0
    assert average_speed_of_answer(0, 0.0, 0.0) == 0.0
    assert occupancy(0, 0.0) == 0.0
    assert occupancy(7, 0.0) == 0.0


def test_zero_agents() -> None:
    assert erlang_b(0, 5.0) == 1.0
    assert erlang_c(0, 5.0) == 1.0
    assert service_level(0, 5.0, 180.0, 20.0) == 0.0
    assert average_speed_of_answer(0, 5.0, 180.0) == math.inf
    assert occupancy(0, 5.0) == 1.0
    assert projected_service_level(0, cch_input()) == 0.0


@pytest.mark.parametrize(("n", "a"), [(10, 10.0), (9, 10.0), (1, 1.0), (3, 12.5), (500, 500.0)])
def test_load_at_or_above_agents(n: int, a: float) -> None:
    assert erlang_c(n, a) == 1.0
    assert service_level(n, a, 180.0, 20.0) == 0.0
    assert average_speed_of_answer(n, a, 180.0) == math.inf
    assert occupancy(n, a) == 1.0


def test_projected_at_or_below_load_is_zero() -> None:
    inp = cch_input()  # 10 Erlangs
    assert projected_service_level(10, inp) == 0.0
    assert projected_service_level(3, inp) == 0.0
    assert projected_service_level(11, inp) > 0.0


def test_occupancy_by_hand() -> None:
    assert occupancy(14, 10.0) == pytest.approx(10 / 14)
    assert occupancy(4, 3.0) == 0.75


def test_five_hundred_erlangs_is_fast_and_minimal() -> None:
    # 500 Erlangs: 5/3 contacts a second * 300 s.
    inp = StaffingInput(5 / 3, 300.0, 20.0, 0.80, max_occupancy=1.0)
    assert inp.load == pytest.approx(500.0, rel=1e-12)
    started = time.perf_counter()
    result = required_agents(inp)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    n = result.agents_on_phones
    # Square-root staffing: a few √A ≈ 22 above the load, not hundreds.
    assert 500 < n < 560
    assert math.isfinite(result.service_level)
    assert math.isfinite(result.average_speed_of_answer_seconds)
    assert result.service_level >= 0.80
    assert service_level(n - 1, inp.load, 300.0, 20.0) < 0.80
    assert 0.0 < result.probability_of_waiting < 1.0
    # With the default 85 % cap the cap decides: ⌈500 / 0.85⌉ = ⌈588.2⌉ = 589.
    assert required_agents(StaffingInput(5 / 3, 300.0, 20.0, 0.80)).agents_on_phones == 589


def test_target_of_one_terminates() -> None:
    result = required_agents(cch_input(service_level_target=1.0, answer_within_seconds=0.0))
    assert result.service_level == 1.0
    assert result.agents_on_phones > 14


# --------------------------------------------------------------------------- occupancy cap


def test_occupancy_cap_binds() -> None:
    # 100 Erlangs, a 5 % target: Erlang C alone would need barely more than 100 agents,
    # but 85 % occupancy needs ⌈100 / 0.85⌉ = ⌈117.6⌉ = 118.
    inp = StaffingInput(1.0, 100.0, 20.0, 0.05, max_occupancy=0.85)
    result = required_agents(inp)
    assert result.agents_on_phones == 118
    assert result.occupancy <= 0.85
    assert 100 / 117 > 0.85  # 117 agents break the cap
    assert ref_service_level(117, Fraction(100), 100.0, 20.0) >= 0.05  # ... not the target


def test_occupancy_cap_exact_tie_is_met() -> None:
    # 0.1/s * 105 s = 10.5 Erlangs; 10.5 / 0.7 = 15 exactly (in floating point
    # 15.000000000000002), so 15 agents sit exactly on a 70 % cap and must be enough.
    inp = StaffingInput(0.1, 105.0, 20.0, 0.5, max_occupancy=0.7)
    assert ref_service_level(14, Fraction(21, 2), 105.0, 20.0) >= 0.5  # the cap decides
    result = required_agents(inp)
    assert result.agents_on_phones == 15
    # 15 ÷ (1 - 0.8) = 75 (75.00000000000001 in floating point)
    shrunk = required_agents(StaffingInput(0.1, 105.0, 20.0, 0.5, max_occupancy=0.7, shrinkage=0.8))
    assert shrunk.required_agents == 75


# --------------------------------------------------------------------------- minimality


def brute_force(inp: StaffingInput) -> int:
    """The fewest n ≥ 1 meeting the target and the cap (tolerance 1e-9 as documented)."""
    a = inp.load
    n = 1
    while True:
        sl = service_level(n, a, inp.aht_seconds, inp.answer_within_seconds)
        if sl >= inp.service_level_target and a <= inp.max_occupancy * n * (1 + 1e-9):
            return n
        n += 1


GRID = [
    StaffingInput(rate, aht, t, target, max_occupancy=occ)
    for rate in (0.0005, 0.004, 0.02, 0.1, 0.3)
    for aht in (30.0, 180.0, 420.0)
    for t in (0.0, 20.0, 90.0)
    for target in (0.5, 0.8, 0.95)
    for occ in (0.7, 0.85, 1.0)
    if rate * aht <= 130
]


def test_minimality_by_brute_force() -> None:
    assert len(GRID) > 300
    for inp in GRID:
        result = required_agents(inp)
        n = result.agents_on_phones
        assert n == brute_force(inp), inp
        a = inp.load
        assert result.service_level >= inp.service_level_target
        assert result.occupancy <= inp.max_occupancy * (1 + 1e-9)
        if n > 1:
            below_target = (
                service_level(n - 1, a, inp.aht_seconds, inp.answer_within_seconds)
                < inp.service_level_target
            )
            over_cap = a > inp.max_occupancy * (n - 1) * (1 + 1e-9)
            assert below_target or over_cap, inp


def test_result_fields_agree_with_functions() -> None:
    for inp in GRID[::7]:
        result = required_agents(inp)
        n, a = result.agents_on_phones, inp.load
        assert result.service_level == service_level(
            n, a, inp.aht_seconds, inp.answer_within_seconds
        )
        assert result.probability_of_waiting == erlang_c(n, a)
        assert result.average_speed_of_answer_seconds == average_speed_of_answer(
            n, a, inp.aht_seconds
        )
        assert result.occupancy == occupancy(n, a)


# --------------------------------------------------------------------------- shrinkage


@pytest.mark.parametrize(
    ("shrinkage", "expected"),
    [(0.0, 14), (0.25, 19), (0.30, 20), (0.5, 28), (0.8, 70)],
)
def test_shrinkage_rounding(shrinkage: float, expected: int) -> None:
    # 14 / 0.75 = 18.67 → 19; 14 / 0.7 = 20; 14 / 0.5 = 28; 14 / 0.2 = 70
    # (70.00000000000001 in floating point)
    assert required_agents(cch_input(shrinkage=shrinkage)).required_agents == expected


def test_workload_agents() -> None:
    # 120 emails an hour * 360 s = 12 Erlangs; / 0.85 = 14.1 → 15
    assert workload_agents(per_interval(120, 3600), 360.0, 0.85, 0.0) == 15
    # 0.1/s * 85 s = 8.5; / 0.85 = 10 exactly
    assert workload_agents(0.1, 85.0, 0.85, 0.0) == 10
    # 8.5 / 0.85 / 0.8 = 12.5 → 13
    assert workload_agents(0.1, 85.0, 0.85, 0.2) == 13
    # 10.5 / 0.7 = 15 (15.000000000000002 in floating point)
    assert workload_agents(0.1, 105.0, 0.7, 0.0) == 15
    assert workload_agents(0.0, 0.0, 0.85, 0.3) == 0


# --------------------------------------------------------------------------- what-if table


def test_what_if_table_around_answer() -> None:
    rows = what_if_table(cch_input(shrinkage=0.30))
    assert [r.agents for r in rows] == list(range(11, 18))
    # ⌈N / 0.7⌉: 15.7, 17.1, 18.6, 20, 21.4, 22.9, 24.3
    assert [r.scheduled_agents for r in rows] == [16, 18, 19, 20, 22, 23, 25]
    by_n = {r.agents: r for r in rows}
    assert not by_n[13].meets_target
    assert by_n[14].meets_target and by_n[14].within_max_occupancy and by_n[14].acceptable
    # 10 / 11 = 0.909 and 10 / 12 = 0.833: the 85 % cap fails at 11 only
    assert not by_n[11].within_max_occupancy
    assert by_n[12].within_max_occupancy
    assert by_n[14].service_level == pytest.approx(0.888, abs=0.001)
    assert by_n[14].probability_of_waiting == pytest.approx(0.174, abs=0.001)
    assert by_n[14].occupancy == pytest.approx(10 / 14)
    for r in rows:
        a = Fraction(10)
        assert r.service_level == pytest.approx(ref_service_level(r.agents, a, 180.0, 20.0))
        assert r.probability_of_waiting == pytest.approx(float(ref_erlang_c(r.agents, a)))
        assert r.acceptable == (r.agents >= 14)


def test_what_if_table_clamps_at_one_and_zero_load() -> None:
    rows = what_if_table(StaffingInput(0.001, 60.0, 20.0, 0.8), around=5)
    assert rows[0].agents == 1
    answer = required_agents(StaffingInput(0.001, 60.0, 20.0, 0.8)).agents_on_phones
    assert rows[-1].agents == answer + 5
    empty = what_if_table(StaffingInput(0.0, 0.0, 20.0, 0.8))
    assert [r.agents for r in empty] == [1, 2, 3]
    assert all(r.service_level == 1.0 and r.occupancy == 0.0 and r.acceptable for r in empty)
    assert [r.agents for r in what_if_table(cch_input(), around=0)] == [14]


def test_what_if_table_rejects_negative_around() -> None:
    with pytest.raises(ValueError, match="around"):
        what_if_table(cch_input(), around=-1)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"arrivals_per_second": -0.1}, "arrivals_per_second"),
        ({"arrivals_per_second": math.nan}, "arrivals_per_second"),
        ({"arrivals_per_second": math.inf}, "arrivals_per_second"),
        ({"aht_seconds": 0.0}, "aht_seconds"),
        ({"aht_seconds": -5.0}, "aht_seconds"),
        ({"answer_within_seconds": -1.0}, "answer_within_seconds"),
        ({"service_level_target": 0.0}, "service_level_target"),
        ({"service_level_target": 1.2}, "service_level_target"),
        ({"service_level_target": math.nan}, "service_level_target"),
        ({"max_occupancy": 0.0}, "max_occupancy"),
        ({"max_occupancy": 1.01}, "max_occupancy"),
        ({"shrinkage": 1.0}, "shrinkage"),
        ({"shrinkage": -0.1}, "shrinkage"),
    ],
)
def test_input_validation_names_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        cch_input(**kwargs)


def test_input_boundaries_are_accepted() -> None:
    cch_input(service_level_target=1.0, max_occupancy=1.0, shrinkage=0.0)
    cch_input(answer_within_seconds=0.0)
    StaffingInput(0.0, 0.0, 20.0, 0.8)


def test_function_argument_validation() -> None:
    with pytest.raises(ValueError, match="servers"):
        erlang_b(-1, 1.0)
    with pytest.raises(ValueError, match="load"):
        erlang_c(3, -1.0)
    with pytest.raises(ValueError, match="load"):
        erlang_b(3, math.nan)
    with pytest.raises(ValueError, match="aht_seconds"):
        service_level(3, 1.0, 0.0, 20.0)
    with pytest.raises(ValueError, match="answer_within_seconds"):
        service_level(3, 1.0, 60.0, -1.0)
    with pytest.raises(ValueError, match="staffed_agents"):
        projected_service_level(-1, cch_input())
    with pytest.raises(ValueError, match="interval_seconds"):
        per_interval(10, 0.0)
    with pytest.raises(ValueError, match="contacts"):
        per_interval(-1, 60.0)
    with pytest.raises(ValueError, match="max_occupancy"):
        workload_agents(0.1, 60.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="shrinkage"):
        workload_agents(0.1, 60.0, 0.85, 1.0)
    with pytest.raises(ValueError, match="aht_seconds"):
        workload_agents(0.1, 0.0, 0.85, 0.0)


def test_per_interval() -> None:
    assert per_interval(100, 1800) == pytest.approx(1 / 18)
    assert per_interval(0, 900) == 0.0


# --------------------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None)
@given(
    a=st.floats(min_value=0.0, max_value=300.0, allow_nan=False),
    n=st.integers(min_value=0, max_value=400),
)
def test_erlang_c_is_a_probability_at_least_b(a: float, n: int) -> None:
    b = erlang_b(n, a)
    c = erlang_c(n, a)
    assert 0.0 <= b <= 1.0
    assert 0.0 <= c <= 1.0
    if a > 0.0 and n > 0:
        assert c >= b


@settings(max_examples=60, deadline=None)
@given(
    a=st.floats(min_value=0.01, max_value=150.0, allow_nan=False),
    aht=st.floats(min_value=1.0, max_value=900.0, allow_nan=False),
    t=st.floats(min_value=0.0, max_value=300.0, allow_nan=False),
)
def test_service_level_increases_with_agents(a: float, aht: float, t: float) -> None:
    top = int(a) + 60
    levels = [service_level(n, a, aht, t) for n in range(0, top)]
    waits = [erlang_c(n, a) for n in range(0, top)]
    asas = [average_speed_of_answer(n, a, aht) for n in range(0, top)]
    assert all(0.0 <= sl <= 1.0 for sl in levels)
    assert all(x <= y for x, y in itertools.pairwise(levels))
    assert all(x >= y for x, y in itertools.pairwise(waits))
    assert all(x >= y for x, y in itertools.pairwise(asas))
    # strictly increasing while stable and not yet saturated at 1.0
    stable = [sl for n, sl in enumerate(levels) if n > a and sl < 0.999]
    assert all(x < y for x, y in itertools.pairwise(stable))
