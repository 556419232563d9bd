"""Staffing mathematics: Erlang B and C, service level, and the agents needed to meet a target.

Pure functions, no I/O, standard library `math` only, fully annotated (compilable with
mypyc). Notation and formulas are in the comment above the core formulas, the rounding
rule beside `REL_TOL`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Rounding: planners type decimal fractions (shrinkage 0.3, max occupancy 0.7) that binary
# floating point cannot represent exactly: 21 ÷ (1 - 0.3) evaluates to 30.000000000000004
# and 10.5 ÷ 0.7 to 15.000000000000002. Every "round up to whole agents" and the
# occupancy-cap test therefore treat a value within a relative 1e-9 of a whole number as
# that number. The service-level comparison is exact: ties there are not a practical concern.
REL_TOL = 1e-9
"""Relative tolerance for whole-agent rounding and for the occupancy-cap comparison."""


# --------------------------------------------------------------------------- validation


def _check_servers(servers: int, name: str = "servers") -> None:
    if servers < 0:
        raise ValueError(f"{name}: must be a non-negative number of agents, got {servers}")


def _check_load(load: float) -> None:
    if not (math.isfinite(load) and load >= 0.0):
        raise ValueError(f"load: must be a finite, non-negative number of Erlangs, got {load}")


def _check_aht(aht_seconds: float, traffic: float) -> None:
    """AHT is finite and ≥ 0, and > 0 when there is traffic (a positive load or rate)."""
    if not (math.isfinite(aht_seconds) and aht_seconds >= 0.0):
        raise ValueError(
            f"aht_seconds: must be a finite, non-negative number of seconds, got {aht_seconds}"
        )
    if traffic > 0.0 and aht_seconds <= 0.0:
        raise ValueError(
            f"aht_seconds: must be positive when contacts arrive (load > 0), got {aht_seconds}"
        )


def _check_threshold(answer_within_seconds: float) -> None:
    if not (math.isfinite(answer_within_seconds) and answer_within_seconds >= 0.0):
        raise ValueError(
            "answer_within_seconds: must be a finite, non-negative number of seconds, "
            f"got {answer_within_seconds}"
        )


def _check_fraction(value: float, name: str, *, zero_ok: bool, one_ok: bool) -> None:
    low_ok = value >= 0.0 if zero_ok else value > 0.0
    high_ok = value <= 1.0 if one_ok else value < 1.0
    if not (low_ok and high_ok):
        interval = ("[" if zero_ok else "(") + "0, 1" + ("]" if one_ok else ")")
        raise ValueError(f"{name}: must be in {interval}, got {value}")


def _ceil_agents(x: float) -> int:
    """⌈x⌉, except that x within a relative REL_TOL above a whole number rounds down to it."""
    return math.ceil(x - x * REL_TOL)


def _within_cap(load: float, agents: int, max_occupancy: float) -> bool:
    """A / N ≤ max_occupancy, with a relative tolerance of REL_TOL (see the note there)."""
    if agents <= 0:
        return load <= 0.0
    return load <= max_occupancy * agents * (1.0 + REL_TOL)


# --------------------------------------------------------------------------- core formulas

# Notation:
# - λ  arrival rate, contacts per second
# - AHT average handle time, seconds (talk + hold + after-contact work)
# - A = λ · AHT  the offered load in Erlangs
# - N  agents answering contacts ("on phones": logged in and not shrunk away)
# - T  the service-level threshold, seconds ("answered within T")
#
# Formulas (M/M/N, the Erlang C model: Poisson arrivals, exponential handle times, no
# abandonment, infinite patience):
# - Erlang B, by the stable recurrence (no factorials or powers, so N in the thousands and
#   A of several hundred Erlangs neither overflow nor lose precision):
#       B(0, A) = 1,   B(n, A) = A·B(n-1, A) / (n + A·B(n-1, A))
# - Erlang C, the probability that a contact waits:
#       C(N, A) = N·B / (N - A·(1 - B))        for N > A;  1 when N ≤ A;  0 when A = 0
# - Service level, the fraction answered within T:
#       SL = 1 - C · exp(-(N - A) · T / AHT)
# - Average speed of answer:
#       ASA = C · AHT / (N - A)
# - Occupancy:
#       occ = A / N   (at most 1)
#
# Erlang C ignores abandonment, so it errs on the side of more agents.


def _next_b(n: int, load: float, previous_b: float) -> float:
    """One step of the Erlang B recurrence: B(n) from B(n - 1)."""
    ab = load * previous_b
    return ab / (n + ab)


def _c_from_b(servers: int, load: float, b: float) -> float:
    """Erlang C from Erlang B: C = N·B / (N - A·(1 - B)); 0 when A = 0; 1 when N ≤ A."""
    if load <= 0.0:
        return 0.0
    if servers <= load:
        return 1.0
    # N - A·(1 - B) written as (N - A) + A·B: both terms positive, no cancellation.
    return servers * b / ((servers - load) + load * b)


def _sl_from_c(
    servers: int, load: float, c: float, aht_seconds: float, answer_within_seconds: float
) -> float:
    """SL = 1 - C·exp(-(N - A)·T / AHT); 1 when A = 0; 0 when N ≤ A."""
    if load <= 0.0:
        return 1.0
    if servers <= load:
        return 0.0
    return 1.0 - c * math.exp(-(servers - load) * answer_within_seconds / aht_seconds)


def _asa_from_c(servers: int, load: float, c: float, aht_seconds: float) -> float:
    """ASA = C·AHT / (N - A); 0 when A = 0; infinite when N ≤ A."""
    if load <= 0.0:
        return 0.0
    if servers <= load:
        return math.inf
    return c * aht_seconds / (servers - load)


def erlang_b(servers: int, load: float) -> float:
    """Erlang B, the blocking probability of N servers offered A Erlangs (no queue).

    B(0, A) = 1;  B(n, A) = A·B(n-1, A) / (n + A·B(n-1, A)).

    The recurrence is numerically stable and costs N steps; it never forms A^N or N!.
    B(0, A) = 1 for any A; B(N, 0) = 0 for N ≥ 1. Raises ValueError for N < 0 or a
    negative or non-finite load.
    """
    _check_servers(servers)
    _check_load(load)
    b = 1.0
    for n in range(1, servers + 1):
        b = _next_b(n, load, b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Erlang C, the probability that a contact has to wait (M/M/N).

    C = N·B / (N - A·(1 - B)) with B = erlang_b(N, A).

    - A = 0: 0.0 (no traffic, nobody waits), even for N = 0.
    - N ≤ A (and A > 0): 1.0 — the queue is unstable and grows without bound.
    """
    _check_servers(servers)
    _check_load(load)
    if load <= 0.0:
        return 0.0
    if servers <= load:
        return 1.0
    return _c_from_b(servers, load, erlang_b(servers, load))


def service_level(
    servers: int, load: float, aht_seconds: float, answer_within_seconds: float
) -> float:
    """Fraction of contacts answered within T seconds (Erlang C).

    SL = 1 - C(N, A) · exp(-(N - A) · T / AHT).

    - A = 0: 1.0 (no traffic), whatever N and AHT.
    - N ≤ A (and A > 0): 0.0 — the queue is unstable.
    AHT must be positive when A > 0; T must be ≥ 0 (T = 0 gives 1 - C).
    """
    _check_servers(servers)
    _check_load(load)
    _check_aht(aht_seconds, load)
    _check_threshold(answer_within_seconds)
    if load <= 0.0:
        return 1.0
    if servers <= load:
        return 0.0
    c = erlang_c(servers, load)
    return _sl_from_c(servers, load, c, aht_seconds, answer_within_seconds)


def average_speed_of_answer(servers: int, load: float, aht_seconds: float) -> float:
    """Average speed of answer in seconds, over all contacts (those that wait and those that don't).

    ASA = C(N, A) · AHT / (N - A).

    - A = 0: 0.0 (no traffic, nobody waits), even for N = 0.
    - N ≤ A (and A > 0): math.inf — the queue is unstable.
    """
    _check_servers(servers)
    _check_load(load)
    _check_aht(aht_seconds, load)
    if load <= 0.0:
        return 0.0
    if servers <= load:
        return math.inf
    return _asa_from_c(servers, load, erlang_c(servers, load), aht_seconds)


def occupancy(servers: int, load: float) -> float:
    """Fraction of the agents' time spent handling contacts: min(1, A / N).

    0.0 when A = 0 (including N = 0); 1.0 when N = 0 and A > 0 (or whenever N ≤ A).
    """
    _check_servers(servers)
    _check_load(load)
    if load <= 0.0:
        return 0.0
    if servers <= 0:
        return 1.0
    return min(1.0, load / servers)


def per_interval(contacts: float, interval_seconds: float) -> float:
    """Arrival rate in contacts per second: contacts ÷ interval_seconds.

    E.g. per_interval(100, 1800) for 100 calls in 30 minutes.
    """
    if not (math.isfinite(contacts) and contacts >= 0.0):
        raise ValueError(f"contacts: must be a finite, non-negative number, got {contacts}")
    if not (math.isfinite(interval_seconds) and interval_seconds > 0.0):
        raise ValueError(
            "interval_seconds: must be a finite, positive number of seconds, "
            f"got {interval_seconds}"
        )
    return contacts / interval_seconds


def workload_agents(
    arrivals_per_second: float, aht_seconds: float, max_occupancy: float, shrinkage: float
) -> int:
    """Agents for deferred channels (email, messaging, social): pure workload, no queueing model.

    agents = ⌈λ · AHT ÷ max_occupancy ÷ (1 - shrinkage)⌉

    Contacts on these channels wait for hours, not seconds, so Erlang C's "answered within
    T" does not apply: this is only the number of agents whose time covers the work at the
    given occupancy. It does not promise any response time; a backlog already in the queue
    needs extra capacity on top. 0 when there are no arrivals.
    """
    if not (math.isfinite(arrivals_per_second) and arrivals_per_second >= 0.0):
        raise ValueError(
            f"arrivals_per_second: must be a finite, non-negative rate, got {arrivals_per_second}"
        )
    _check_aht(aht_seconds, arrivals_per_second)  # AHT > 0 whenever contacts arrive
    load = arrivals_per_second * aht_seconds if arrivals_per_second > 0.0 else 0.0
    _check_fraction(max_occupancy, "max_occupancy", zero_ok=False, one_ok=True)
    _check_fraction(shrinkage, "shrinkage", zero_ok=True, one_ok=False)
    if not math.isfinite(load):
        raise ValueError(f"load: arrivals_per_second * aht_seconds is not finite ({load})")
    if load <= 0.0:
        return 0
    return _ceil_agents(load / max_occupancy / (1.0 - shrinkage))


# --------------------------------------------------------------------------- staffing


@dataclass(frozen=True)
class StaffingInput:
    """What the Erlang C staffing calculation needs for one queue x channel: arrival rate,
    handle time, the service-level target (X % answered within T seconds), the occupancy
    cap and shrinkage. Raises ValueError naming the offending field."""

    arrivals_per_second: float  # λ, contacts per second (see `per_interval`); ≥ 0
    aht_seconds: float  # average handle time; > 0 when λ > 0 (may be 0 when λ = 0)
    answer_within_seconds: float  # T of "X % answered within T seconds"; ≥ 0
    service_level_target: float  # X as a fraction, in (0, 1]
    max_occupancy: float = 0.85  # cap on A / N, in (0, 1]
    # Fraction of paid time not available for contacts (breaks, training, absence), in [0, 1).
    shrinkage: float = 0.0

    def __post_init__(self) -> None:
        rate = self.arrivals_per_second
        if not (math.isfinite(rate) and rate >= 0.0):
            raise ValueError(
                f"arrivals_per_second: must be a finite, non-negative rate, got {rate}"
            )
        aht = self.aht_seconds
        if not (math.isfinite(aht) and aht >= 0.0):
            raise ValueError(f"aht_seconds: must be a finite, non-negative number, got {aht}")
        if rate > 0.0 and aht <= 0.0:
            raise ValueError(
                f"aht_seconds: must be positive when arrivals_per_second > 0, got {aht}"
            )
        _check_threshold(self.answer_within_seconds)
        _check_fraction(
            self.service_level_target, "service_level_target", zero_ok=False, one_ok=True
        )
        _check_fraction(self.max_occupancy, "max_occupancy", zero_ok=False, one_ok=True)
        _check_fraction(self.shrinkage, "shrinkage", zero_ok=True, one_ok=False)
        if not math.isfinite(rate * aht):
            raise ValueError(
                f"arrivals_per_second * aht_seconds: the load is not finite ({rate} * {aht})"
            )

    @property
    def load(self) -> float:
        """Offered load in Erlangs: A = arrivals_per_second * aht_seconds (0 with no arrivals)."""
        if self.arrivals_per_second <= 0.0:
            return 0.0
        return self.arrivals_per_second * self.aht_seconds


@dataclass(frozen=True)
class StaffingResult:
    """The answer of `required_agents`: the fewest agents on phones that meet the target
    and the occupancy cap, the agents to schedule after shrinkage, and the Erlang C figures
    at that many agents on phones."""

    # N, the fewest agents answering contacts that meet the target and the occupancy cap
    # (before shrinkage)
    agents_on_phones: int
    required_agents: int  # ⌈N ÷ (1 - shrinkage)⌉, the agents to schedule
    # The Erlang C figures at N agents on phones:
    service_level: float
    probability_of_waiting: float
    average_speed_of_answer_seconds: float
    occupancy: float
    load_erlangs: float  # A


@dataclass(frozen=True)
class StaffingRow:
    """One row of the what-if table: the Erlang C figures at `agents` agents on phones.

    scheduled_agents = ⌈agents ÷ (1 - shrinkage)⌉; acceptable = meets_target and
    within_max_occupancy.
    """

    agents: int
    scheduled_agents: int
    service_level: float
    average_speed_of_answer_seconds: float
    occupancy: float
    probability_of_waiting: float
    meets_target: bool
    within_max_occupancy: bool

    @property
    def acceptable(self) -> bool:
        return self.meets_target and self.within_max_occupancy


def _with_shrinkage(agents: int, shrinkage: float) -> int:
    """⌈N ÷ (1 - shrinkage)⌉ (with the REL_TOL rounding, see the note there)."""
    if agents <= 0:
        return 0
    return _ceil_agents(agents / (1.0 - shrinkage))


def _cap_start(load: float, max_occupancy: float) -> int:
    """The fewest agents N ≥ 1 with A / N ≤ max_occupancy (A > 0)."""
    start = max(1, _ceil_agents(load / max_occupancy))
    # Guard the division's rounding against the comparison used everywhere else.
    while start > 1 and _within_cap(load, start - 1, max_occupancy):
        start -= 1
    while not _within_cap(load, start, max_occupancy):
        start += 1
    return start


def required_agents(inp: StaffingInput) -> StaffingResult:
    """The fewest agents meeting the service-level target within the occupancy cap.

    N = min { n ≥ 1 : SL(n) ≥ target and A / n ≤ max_occupancy }   (A > 0)
    N = 0                                                            (A = 0)
    required = ⌈N ÷ (1 - shrinkage)⌉

    The search starts at the occupancy floor max(1, ⌈A / max_occupancy⌉) — every smaller n
    breaks the cap — and steps up one agent at a time, carrying the Erlang B recurrence
    along, so the whole search costs about N recurrence steps. The first n that meets the
    target is returned, so N - 1 fails the target or the cap. It always terminates: SL → 1
    as n grows, and target ≤ 1 (a target of exactly 1.0 ends where C underflows to 0).
    """
    load = inp.load
    if load <= 0.0:
        return StaffingResult(
            agents_on_phones=0,
            required_agents=0,
            service_level=1.0,
            probability_of_waiting=0.0,
            average_speed_of_answer_seconds=0.0,
            occupancy=0.0,
            load_erlangs=0.0,
        )
    n = _cap_start(load, inp.max_occupancy)
    b = erlang_b(n, load)
    while True:
        c = _c_from_b(n, load, b)
        sl = _sl_from_c(n, load, c, inp.aht_seconds, inp.answer_within_seconds)
        if sl >= inp.service_level_target:
            return StaffingResult(
                agents_on_phones=n,
                required_agents=_with_shrinkage(n, inp.shrinkage),
                service_level=sl,
                probability_of_waiting=c,
                average_speed_of_answer_seconds=_asa_from_c(n, load, c, inp.aht_seconds),
                occupancy=min(1.0, load / n),
                load_erlangs=load,
            )
        n += 1
        b = _next_b(n, load, b)


def projected_service_level(staffed_agents: int, inp: StaffingInput) -> float:
    """Service level the staffed agents would give at the input's load (Erlang C).

    SL = 1 - C(N, A) · exp(-(N - A) · T / AHT) with N = staffed_agents, the agents
    answering contacts (shrinkage is not applied: they are already on the phones).
    0.0 when staffed_agents ≤ A (and A > 0); 1.0 when A = 0.
    """
    _check_servers(staffed_agents, "staffed_agents")
    return service_level(staffed_agents, inp.load, inp.aht_seconds, inp.answer_within_seconds)


def what_if_table(inp: StaffingInput, around: int = 3) -> list[StaffingRow]:
    """Rows for N = max(1, answer - around) … answer + around agents on phones.

    `answer` is `required_agents(inp).agents_on_phones` (0 when there is no load, giving
    rows 1 … around). Each row has the service level, ASA, occupancy and probability of
    waiting at N, and whether N meets the target and the occupancy cap — for a planner's
    "what if we had two fewer agents" question.
    """
    if around < 0:
        raise ValueError(f"around: must be a non-negative number of rows, got {around}")
    load = inp.load
    answer = required_agents(inp).agents_on_phones
    first = max(1, answer - around)
    last = answer + around
    rows: list[StaffingRow] = []
    b = erlang_b(first - 1, load)
    for n in range(first, last + 1):
        b = _next_b(n, load, b)
        c = _c_from_b(n, load, b)
        sl = _sl_from_c(n, load, c, inp.aht_seconds, inp.answer_within_seconds)
        rows.append(
            StaffingRow(
                agents=n,
                scheduled_agents=_with_shrinkage(n, inp.shrinkage),
                service_level=sl,
                average_speed_of_answer_seconds=_asa_from_c(n, load, c, inp.aht_seconds),
                occupancy=0.0 if load <= 0.0 else min(1.0, load / n),
                probability_of_waiting=c,
                meets_target=sl >= inp.service_level_target,
                within_max_occupancy=_within_cap(load, n, inp.max_occupancy),
            )
        )
    return rows
