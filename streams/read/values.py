"""Values shown to people and machines, computed once: each window gauge from a Summary.

The exporter renders them as `contactcenter_<name>{window=...}` and the board API under
the same names, so the wallboard and Prometheus always agree.
"""

from __future__ import annotations

from collections.abc import Callable

from streams.core.contract import AGENT_STATES
from streams.core.queues import QueueChannel
from streams.core.sla import ANSWER, sla_applies
from streams.core.summary import Summary, nps_score, ratio, service_level
from streams.read import staffing
from streams.read.view import ReadView

STAFFED_STATES = tuple(
    AGENT_STATES.index(state) for state in ("available", "on_contact", "after_contact_work")
)

# name suffix, help, value function of a window Summary (None = no sample)
WINDOW_GAUGES: tuple[tuple[str, str, Callable[[Summary], float | None]], ...] = (
    ("offered_contacts", "Contacts that entered the queue in the window.", lambda s: s.offered),
    ("answered_contacts", "Contacts answered in the window.", lambda s: s.answered),
    (
        "abandoned_contacts",
        "Contacts abandoned after at least short_abandon_seconds.",
        lambda s: s.abandoned,
    ),
    (
        "short_abandoned_contacts",
        "Contacts abandoned before short_abandon_seconds.",
        lambda s: s.short_abandoned,
    ),
    (
        "transferred_contacts",
        "Contacts that left the queue by a transfer.",
        lambda s: s.transferred,
    ),
    (
        "abandon_ratio",
        "abandoned / (answered + abandoned); short abandons excluded.",
        lambda s: ratio(s.abandoned, s.answered + s.abandoned),
    ),
    (
        "wait_seconds_average",
        "Average wait of answered contacts.",
        lambda s: ratio(s.wait_sum, s.answered),
    ),
    (
        "wait_seconds_max",
        "Longest wait of a contact answered in the window.",
        lambda s: s.wait_max if s.answered else None,
    ),
    (
        "first_response_seconds_average",
        "Average first response time.",
        lambda s: ratio(s.frt_sum, s.frt_count),
    ),
    (
        "first_response_business_seconds_average",
        "Average first response time in business seconds (where a calendar applies).",
        lambda s: ratio(s.frt_business_sum, s.frt_business_count),
    ),
    (
        "handle_seconds_average",
        "Average handle time (answered to wrap-up).",
        lambda s: ratio(s.handle_sum, s.handle_count),
    ),
    (
        "hold_seconds_average",
        "Average hold time of handled contacts that reported it.",
        lambda s: ratio(s.hold_sum, s.hold_count),
    ),
    (
        "after_contact_work_seconds_average",
        "Average after-contact work (ended to wrap-up).",
        lambda s: ratio(s.acw_sum, s.acw_count),
    ),
    (
        "resolution_seconds_average",
        "Average resolution time from first entry.",
        lambda s: ratio(s.resolution_sum, s.resolved),
    ),
    (
        "resolution_business_seconds_average",
        "Average resolution time in business seconds (where a calendar applies).",
        lambda s: ratio(s.resolution_business_sum, s.resolution_business_count),
    ),
    (
        "first_contact_resolution_ratio",
        "Resolved at first contact / resolved.",
        lambda s: ratio(s.fcr, s.resolved),
    ),
    ("reopen_ratio", "Reopened / resolved.", lambda s: ratio(s.reopened, s.resolved)),
    (
        "csat_ratio",
        "Share of CSAT answers of 4 or 5.",
        lambda s: ratio(s.csat_satisfied, s.csat_count),
    ),
    ("csat_score_average", "Average CSAT score (1-5).", lambda s: ratio(s.csat_sum, s.csat_count)),
    ("ces_score_average", "Average CES score (1-7).", lambda s: ratio(s.ces_sum, s.ces_count)),
    ("nps_score", "% promoters (9-10) - % detractors (0-6), -100..100.", nps_score),
)


WINDOW_VALUE_NAMES = (*(name for name, _, _ in WINDOW_GAUGES), "service_level_ratio")
_WINDOW_FNS = tuple(fn for _, _, fn in WINDOW_GAUGES)


def window_row(summary: Summary, formula: str) -> tuple[float | None, ...]:
    """The values of `window_values`, in the order of `WINDOW_VALUE_NAMES`."""
    return (*[fn(summary) for fn in _WINDOW_FNS], service_level(summary, formula))


def window_values(summary: Summary, formula: str) -> dict[str, float | None]:
    """Every window gauge (None = empty denominator) plus `service_level_ratio`."""
    return dict(zip(WINDOW_VALUE_NAMES, window_row(summary, formula), strict=True))


class StaffingView:
    """Real-time staffing of one queue x channel, as `staffing_view` computes it: arrival
    rate, handle time and load, agents required and staffed, the gap, and the projected
    service level (None on asynchronous channels). See docs/metrics.md, "Staffing"."""

    __slots__ = (
        "aht_seconds",
        "arrivals_per_second",
        "gap",
        "load_erlangs",
        "projected_service_level",
        "required",
        "staffed",
    )

    def __init__(
        self,
        arrivals_per_second: float,
        aht_seconds: float,
        required: int,
        staffed: int,
        projected_service_level: float | None,
    ) -> None:
        self.arrivals_per_second = arrivals_per_second
        self.aht_seconds = aht_seconds
        self.load_erlangs = arrivals_per_second * aht_seconds
        self.required = required
        self.staffed = staffed
        self.gap = required - staffed
        self.projected_service_level = projected_service_level


def staffing_view(engine: ReadView, qc: QueueChannel) -> StaffingView:
    """Erlang C for voice and chat, a workload requirement for asynchronous channels.

    Arrival rate = contacts offered in `arrival_window` / the seconds it covers; AHT =
    average handle time over `handle_window`, or `default_aht_seconds` while no contact
    with a positive handle time completed. Staffed = agents serving the queue in
    available, on_contact or after_contact_work.
    """
    settings = engine.settings.staffing
    board = engine.queues
    arrivals, span = board.trailing_summary(qc, settings.arrival_window_seconds)
    handled, _ = board.trailing_summary(qc, settings.handle_window_seconds)
    rate = arrivals.offered / span
    aht = handled.handle_sum / handled.handle_count if handled.handle_count else 0.0
    if aht <= 0:  # nothing completed yet (or only zero-length contacts): no basis for AHT
        aht = settings.default_aht_seconds
    agents = engine.agents.queues.get(qc.queue)
    staffed = sum(agents.counts[i] for i in STAFFED_STATES) if agents else 0
    if not sla_applies(ANSWER, qc.channel):
        required = staffing.workload_agents(rate, aht, settings.max_occupancy, settings.shrinkage)
        return StaffingView(rate, aht, required, staffed, None)
    targets = engine.targets.get(qc.queue, qc.channel, "normal")
    demand = staffing.StaffingInput(
        arrivals_per_second=rate,
        aht_seconds=aht,
        answer_within_seconds=targets.answer_within_seconds,
        service_level_target=targets.service_level_target,
        max_occupancy=settings.max_occupancy,
        shrinkage=settings.shrinkage,
    )
    required = staffing.required_agents(demand).required_agents
    return StaffingView(
        rate, aht, required, staffed, staffing.projected_service_level(staffed, demand)
    )
