"""Tests of the traffic simulator (streams.simulator): contract, queueing, statistics, noise.

Statistical checks use fixed seeds and bands wide enough (4 sigma) never to flake.
"""

from __future__ import annotations

import io
import itertools
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from streams.config import settings_from_mapping
from streams.core.intake import Rejection, decode
from streams.runtimes.replay import replay
from streams.simulator import (
    SCENARIO_DIR,
    Emission,
    Pacer,
    Scenario,
    ScenarioError,
    Simulation,
    list_scenarios,
    load_scenario,
    paced,
    parse_scenario,
    scenario_from_toml,
)
from streams.simulator.__main__ import main as simulator_main
from streams.simulator.pacing import backdated_start

START = datetime(2026, 11, 23, tzinfo=UTC).timestamp()  # a local midnight (UTC)
WALL = datetime(2030, 1, 1, tzinfo=UTC).timestamp()  # no event is "from the future"
HOUR = 3600.0
DAY = 86400.0
RFC3339_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def to_seconds(value: str | int) -> float:
    if isinstance(value, int):
        return value / 1000
    return datetime.fromisoformat(value).timestamp()


def scenario(queues: list[dict[str, Any]], agents: list[dict[str, Any]], **top: Any) -> Scenario:
    return parse_scenario({"queues": queues, "agents": agents, **top}, name="test")


def first_entries(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """contact.queued events that start a contact (not transfers)."""
    seen: set[str] = set()
    out = []
    for ev in events:
        if ev["type"] == "contact.queued" and ev["contact_id"] not in seen:
            seen.add(ev["contact_id"])
            out.append(ev)
    return out


@pytest.fixture(scope="module")
def centre_day() -> list[dict[str, Any]]:
    return list(Simulation("contact-centre", seed=11, start_epoch=START).events(DAY))


@pytest.fixture(scope="module")
def desk_days() -> list[dict[str, Any]]:
    return list(Simulation("support-desk", seed=5, start_epoch=START).events(2 * DAY))


# ------------------------------------------------------------------ scenarios


def test_shipped_scenarios_are_listed_and_load() -> None:
    assert {"contact-centre", "support-desk"} <= set(list_scenarios())
    centre = load_scenario("contact-centre")
    assert {(q.name, q.channel) for q in centre.queues} == {
        ("billing", "voice"),
        ("sales", "voice"),
        ("support", "voice"),
        ("support", "chat"),
    }
    assert 35 <= centre.agent_count <= 50
    desk = load_scenario(SCENARIO_DIR / "support-desk.toml")
    assert {q.channel for q in desk.queues} == {"email", "messaging", "social"}
    assert load_scenario(str(SCENARIO_DIR / "contact-centre.toml")) == centre


def test_unknown_scenario_names_the_shipped_ones() -> None:
    with pytest.raises(ScenarioError, match=r"unknown scenario 'nope'.*contact-centre"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario("/no/such/file.toml")


QUEUE = {"name": "billing", "channel": "voice", "arrivals": {"rate": 10}}
AGENTS = {"name": "a", "count": 2, "skills": ["billing"]}


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (
            lambda d: d["queues"][0]["arrivals"].update(rate=None, per_hour=[1] * 23),
            "queues[0].arrivals.per_hour",
            "24 numbers",
        ),
        (
            lambda d: d["queues"][0].update(handel_seconds=3),
            "queues[0].handel_seconds",
            "unknown key",
        ),
        (
            lambda d: d["queues"][0].update(channel="fax"),
            "queues[0].channel",
            "'fax' is not one of",
        ),
        (lambda d: d["queues"][0].update(name="bad name"), "queues[0].name", "[A-Za-z0-9_.:-]"),
        (
            lambda d: d["queues"][0].update(survey_share=1.5),
            "queues[0].survey_share",
            "out of range",
        ),
        (
            lambda d: d["queues"][0].update(handle_seconds={"mean": "5m"}),
            "queues[0].handle_seconds.mean",
            "expected a number",
        ),
        (
            lambda d: d["queues"][0].update(reply_seconds=60),
            "queues[0].reply_seconds",
            "only for email",
        ),
        (lambda d: d["queues"][1].update(hold_share=0.2), "queues[1].hold_share", "only for voice"),
        (lambda d: d["queues"][0].update(transfer_share=0.1), "queues[0].transfer_to", "required"),
        (
            lambda d: d["queues"][0].update(transfer_share=0.1, transfer_to=["nowhere"]),
            "queues[0].transfer_to",
            "'nowhere'",
        ),
        (
            lambda d: d["queues"][0].update(arrivals={"points": [[8, 1], [7, 2]]}),
            "queues[0].arrivals.points[1][0]",
            "increasing",
        ),
        (lambda d: d["queues"][0].update(arrivals={}), "queues[0].arrivals", "exactly one of"),
        (lambda d: d["queues"][0].pop("arrivals"), "queues[0].arrivals", "required"),
        (lambda d: d["queues"].append(dict(QUEUE)), "queues[2]", "duplicate queue billing/voice"),
        (
            lambda d: d["agents"][0].update(skills=["biling"]),
            "agents[0].skills",
            "unknown queue 'biling'",
        ),
        (lambda d: d["agents"][0].update(count=-1), "agents[0].count", "out of range"),
        (
            lambda d: d["agents"][0].update(shifts=[[9]]),
            "agents[0].shifts[0]",
            "[start_hour, end_hour]",
        ),
        (lambda d: d["agents"][0].update(shift=[9, 25]), "agents[0].shift[1]", "out of range"),
        (
            lambda d: d["agents"][0].update(breaks=[{"minutes": 15}]),
            "agents[0].breaks[0].after_hours",
            "required",
        ),
        (
            lambda d: d["agents"][0].update(channels=["chat"], skills=["billing"]),
            "queues[0]",
            "no agent group serves billing/voice",
        ),
        (lambda d: d.update(timezone="Mars/Olympus"), "timezone", "unknown time zone"),
        (
            lambda d: d.update(channels={"voice": {"patience_seconds": -1}}),
            "channels.voice.patience_seconds",
            "out of range",
        ),
        (lambda d: d.update(agents=[]), "agents", "at least one"),
        (lambda d: d.update(extra=1), "extra", "unknown key"),
    ],
)
def test_scenario_errors_name_the_key(change: Any, key: str, problem: str) -> None:
    data: dict[str, Any] = {
        "queues": [
            {**QUEUE, "arrivals": dict(QUEUE["arrivals"])},  # type: ignore[dict-item]
            {"name": "billing", "channel": "chat", "arrivals": {"rate": 5}},
        ],
        "agents": [dict(AGENTS)],
    }
    change(data)
    if data["queues"] and "arrivals" in data["queues"][0]:
        data["queues"][0]["arrivals"] = {
            k: v for k, v in data["queues"][0]["arrivals"].items() if v is not None
        }
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data)
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ")
    assert problem in str(info.value)


def test_toml_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    with pytest.raises(ScenarioError, match="invalid TOML"):
        load_scenario(broken)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        (SCENARIO_DIR / "contact-centre.toml")
        .read_text()
        .replace("hold_share = 0.25", "hold_share = 2")
    )
    with pytest.raises(ScenarioError, match=r"^channels\.voice\.hold_share: .*\(in bad\.toml\)"):
        load_scenario(bad)


def test_scenario_from_toml_with_profiles() -> None:
    text = """
    [[queues]]
    name = "q"
    channel = "chat"
    arrivals.points = [[6, 0], [12, 60], [18, 0]]
    [[agents]]
    name = "g"
    skills = ["q"]
    """
    sc = scenario_from_toml(text)
    profile = sc.queues[0].arrivals
    assert profile.rate(12) == 60
    assert profile.rate(9) == pytest.approx(30)
    assert profile.rate(3) == 0 and profile.rate(21) == 0
    assert profile.daily_total() == pytest.approx(360, rel=0.01)


# ------------------------------------------------------------------ determinism


def test_same_seed_same_output_different_seed_different() -> None:
    def run(seed: int) -> list[bytes]:
        return list(Simulation("contact-centre", seed, START + 8 * HOUR).lines(2 * HOUR))

    first = run(3)
    assert len(first) > 500
    assert run(3) == first
    assert run(4) != first
    sim = Simulation("support-desk", 3, START)
    assert list(sim.events(6 * HOUR)) == list(sim.events(6 * HOUR))


# ------------------------------------------------------------------ the event contract


@pytest.mark.parametrize("name", ["centre_day", "desk_days"])
def test_every_event_is_valid_and_in_time_order(name: str, request: pytest.FixtureRequest) -> None:
    events = request.getfixturevalue(name)
    previous = -math.inf
    ids = set()
    for event in events:
        decoded = decode(orjson.dumps(event), WALL)
        assert decoded.ts >= previous
        previous = decoded.ts
        assert RFC3339_MS.fullmatch(event["occurred_at"])
        ids.add(event["event_id"])
    assert len(ids) == len(events)
    assert to_seconds(events[0]["occurred_at"]) >= START
    assert to_seconds(events[-1]["occurred_at"]) <= START + 2 * DAY


def test_epoch_ms_format_and_limits() -> None:
    sim = Simulation("contact-centre", 1, START + 9 * HOUR, time_format="epoch_ms")
    events = list(sim.events(max_events=300))
    assert len(events) == 300
    for event in events:
        assert isinstance(event["occurred_at"], int)
        decode(orjson.dumps(event), WALL)
    within = list(sim.events(600))
    assert within and all(
        START + 9 * HOUR <= e["occurred_at"] / 1000 <= START + 9 * HOUR + 600 for e in within
    )
    assert list(sim.events(until=START)) == []
    assert list(sim.events(60, max_events=0)) == []


def test_default_start_is_now() -> None:
    before = datetime.now(UTC).timestamp()
    sim = Simulation("support-desk", 1)
    assert before - 1 <= sim.start_epoch <= datetime.now(UTC).timestamp() + 1


class Lifecycle:
    """Checks the order of each contact's events; counts what it saw."""

    LIVE = frozenset({"voice", "chat"})

    def __init__(self) -> None:
        self.state: dict[str, str] = {}
        self.channel: dict[str, str] = {}
        self.surveyed: set[str] = set()
        self.seen: Counter[str] = Counter()

    def feed(self, ev: dict[str, Any]) -> None:
        type_ = ev["type"]
        if type_ == "agent.state":
            return
        c = ev["contact_id"]
        state = self.state.get(c)
        live = self.channel.get(c) in self.LIVE
        where = f"{type_} of {c} in state {state}"
        if type_ == "contact.queued":
            if state is None:
                self.channel[c] = ev["channel"]
            else:
                assert ev["channel"] == self.channel[c], where
                assert state in ("waiting", "talking"), where
                self.seen[
                    "transfer_while_waiting" if state == "waiting" else "transfer_after_answer"
                ] += 1
            self.state[c] = "waiting"
        elif type_ == "contact.answered":
            assert live and state == "waiting", where
            self.state[c] = "talking"
        elif type_ == "contact.abandoned":
            assert state == "waiting", where
            self.state[c] = "abandoned"
        elif type_ == "contact.responded":
            if live:
                assert state == "talking", where
            else:
                assert state in ("waiting", "open"), where
                self.seen["follow_up" if state == "open" else "first_response"] += 1
                self.state[c] = "open"
        elif type_ == "contact.ended":
            assert live and state == "talking", where
            self.state[c] = "ended"
            if "hold_seconds" in ev:
                self.seen["hold"] += 1
        elif type_ == "contact.wrapped":
            assert state == "ended", where
            self.state[c] = "wrapped"
        elif type_ == "contact.resolved":
            assert state == ("wrapped" if live else "open"), where
            self.state[c] = "resolved"
            self.seen["first_contact" if ev["first_contact"] else "not_first_contact"] += 1
        elif type_ == "contact.reopened":
            assert not live and state == "resolved", where
            self.state[c] = "open"
        elif type_ == "survey.responded":
            assert state == "resolved" and c not in self.surveyed, where
            assert ev["queue"] and ev["channel"] == self.channel[c]
            self.surveyed.add(c)
        self.seen[type_] += 1


@pytest.mark.parametrize("name", ["centre_day", "desk_days"])
def test_contact_lifecycles_are_coherent(name: str, request: pytest.FixtureRequest) -> None:
    checker = Lifecycle()
    for event in request.getfixturevalue(name):
        checker.feed(event)
    seen = checker.seen
    assert seen["contact.abandoned"] > 0 and seen["survey.responded"] > 0
    assert seen["first_contact"] > 0 and seen["not_first_contact"] > 0
    if name == "centre_day":
        assert seen["transfer_after_answer"] > 0 and seen["transfer_while_waiting"] > 0
        assert 0 < seen["hold"] < seen["contact.ended"]
        assert seen["contact.responded"] > 0  # chat greetings
    else:
        assert seen["transfer_while_waiting"] > 0  # triage into escalations
        assert seen["follow_up"] > 0 and seen["contact.reopened"] > 0
        assert seen["contact.answered"] == 0 and seen["contact.ended"] == 0


def test_agents_serve_one_live_contact_at_a_time_and_only_on_shift(
    centre_day: list[dict[str, Any]],
) -> None:
    state: dict[str, str] = {}
    serving: dict[str, str | None] = {}
    handled_by: dict[str, str] = {}
    queues_of: dict[str, list[str]] = {}
    current_queue: dict[str, str] = {}
    states: Counter[str] = Counter()
    for ev in centre_day:
        type_ = ev["type"]
        if type_ == "agent.state":
            agent = ev["agent_id"]
            assert state.get(agent) != ev["state"], "a state event without a change"
            state[agent] = ev["state"]
            queues_of[agent] = ev["queues"]
            states[ev["state"]] += 1
            continue
        c = ev["contact_id"]
        if type_ == "contact.queued":
            current_queue[c] = ev["queue"]
            if c in handled_by:  # transferred after the answer
                serving[handled_by.pop(c)] = None
        elif type_ == "contact.answered":
            agent = ev["agent_id"]
            assert state[agent] == "on_contact"  # the state event comes first
            assert serving.get(agent) is None, f"{agent} answers {c} while serving another"
            assert current_queue[c] in queues_of[agent]
            serving[agent] = c
            handled_by[c] = agent
        elif type_ == "contact.ended":
            serving[handled_by.pop(c)] = None
    assert set(states) == {"available", "on_contact", "after_contact_work", "away", "offline"}


def test_shifts_and_breaks() -> None:
    sc = scenario(
        [{"name": "q", "channel": "voice", "arrivals": {"rate": 20}}],
        [
            {
                "name": "day",
                "count": 3,
                "skills": ["q"],
                "shift": [9, 17],
                "breaks": [{"after_hours": 2, "minutes": 15}],
            },
            {"name": "night", "count": 1, "skills": ["q"], "shift": [22, 6]},
        ],
    )
    events = list(Simulation(sc, 2, START).events(DAY))
    by_agent: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for ev in events:
        if ev["type"] == "agent.state":
            by_agent[ev["agent_id"]].append((to_seconds(ev["occurred_at"]), ev["state"]))
    assert sorted(by_agent) == ["day-01", "day-02", "day-03", "night-01"]
    for agent in ("day-01", "day-02", "day-03"):
        timeline = by_agent[agent]
        assert timeline[0] == (START, "offline")
        # at 09:00 on shift: available, or straight onto a waiting call
        assert timeline[1][0] == START + 9 * HOUR
        assert timeline[1][1] in ("available", "on_contact")
        aways = [t for t, s in timeline if s == "away"]
        assert len(aways) == 1 and START + 10.8 * HOUR <= aways[0] <= START + 12 * HOUR
        offline = [t for t, s in timeline[1:] if s == "offline"]
        assert len(offline) == 1 and START + 17 * HOUR <= offline[0] <= START + 18 * HOUR
        assert timeline[-1][1] == "offline"
    night = by_agent["night-01"]
    assert night[0] == (START, "available")  # on shift at midnight (started 22:00)
    assert (START + 6 * HOUR, "offline") in night or any(
        s == "offline" and START + 6 * HOUR <= t <= START + 7 * HOUR for t, s in night
    )
    assert night[-1][0] >= START + 22 * HOUR and night[-1][1] != "offline"


# ------------------------------------------------------------------ arrivals


def flat_rate_scenario(rate: float, agents: int = 30) -> Scenario:
    return scenario(
        [{"name": "q", "channel": "voice", "arrivals": {"rate": rate}, "handle_seconds": 60}],
        [{"name": "g", "count": agents, "skills": ["q"]}],
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_arrivals_follow_a_flat_profile(seed: int) -> None:
    rate, hours = 120.0, 10
    events = Simulation(flat_rate_scenario(rate), seed, START).events(hours * HOUR)
    count = len(first_entries(events))
    expected = rate * hours
    assert abs(count - expected) <= 4 * math.sqrt(expected), count


def test_arrivals_follow_an_hourly_profile_with_a_peak() -> None:
    per_hour = [5.0] * 24
    per_hour[10] = 300.0
    per_hour[11] = 150.0
    sc = scenario(
        [
            {
                "name": "q",
                "channel": "chat",
                "arrivals": {"per_hour": per_hour},
                "patience_seconds": 30,
            }
        ],
        [{"name": "g", "count": 5, "skills": ["q"]}],
    )
    counts = Counter(
        int((to_seconds(ev["occurred_at"]) - START) // HOUR)
        for ev in first_entries(Simulation(sc, 9, START).events(DAY))
    )
    for hour, rate in enumerate(per_hour):
        assert abs(counts[hour] - rate) <= 4 * math.sqrt(rate) + 1, (hour, counts[hour])
    assert counts[10] > counts[11] > max(counts[h] for h in range(24) if h not in (10, 11))


def test_linear_profile_and_time_zone() -> None:
    """Arrivals only around 09:00 New York time, i.e. 14:00 UTC in November."""
    sc = scenario(
        [{"name": "q", "channel": "email", "arrivals": {"points": [[8, 0], [9, 200], [10, 0]]}}],
        [{"name": "g", "count": 3, "skills": ["q"]}],
        timezone="America/New_York",
    )
    arrivals = first_entries(Simulation(sc, 4, START).events(DAY))
    assert abs(len(arrivals) - 200) <= 4 * math.sqrt(200)
    zone = ZoneInfo("America/New_York")
    hours = [datetime.fromtimestamp(to_seconds(e["occurred_at"]), zone).hour for e in arrivals]
    assert set(hours) == {8, 9}
    assert abs(hours.count(8) - hours.count(9)) <= 4 * math.sqrt(100)


# ------------------------------------------------------------------ queueing


def queue_stats(events: Iterable[dict[str, Any]]) -> dict[str, float]:
    entered: dict[str, float] = {}
    waits: list[float] = []
    answered = abandoned = 0
    for ev in events:
        type_ = ev["type"]
        if type_ == "contact.queued":
            entered[ev["contact_id"]] = to_seconds(ev["occurred_at"])
        elif type_ == "contact.answered":
            answered += 1
            waits.append(to_seconds(ev["occurred_at"]) - entered[ev["contact_id"]])
        elif type_ == "contact.abandoned":
            abandoned += 1
    return {
        "abandon_ratio": abandoned / (answered + abandoned),
        "mean_wait": statistics.fmean(waits),
        "answered": answered,
    }


def test_fewer_agents_more_abandonment_and_longer_waits() -> None:
    centre = load_scenario("contact-centre")
    full = list(Simulation(centre, 21, START).events(DAY))
    short = list(Simulation(centre.scaled(agents=0.7), 21, START).events(DAY))
    # the same customers arrive at the same times
    assert [(e["contact_id"], e["occurred_at"]) for e in first_entries(full)] == [
        (e["contact_id"], e["occurred_at"]) for e in first_entries(short)
    ]
    a, b = queue_stats(full), queue_stats(short)
    assert 0.01 < a["abandon_ratio"] < 0.15
    assert b["abandon_ratio"] > a["abandon_ratio"] * 1.5
    assert b["mean_wait"] > a["mean_wait"] * 1.5


def test_waits_come_from_queueing() -> None:
    """One agent, 6-minute calls, 20 calls an hour (offered load 2 Erlang): most callers
    wait, many abandon; with 10 agents almost none waits."""

    def sc(agents: int) -> Scenario:
        return scenario(
            [
                {
                    "name": "q",
                    "channel": "voice",
                    "arrivals": {"rate": 20},
                    "handle_seconds": {"mean": 360, "sigma": 0.3},
                    "after_contact_work_seconds": 0,
                    "patience_seconds": 300,
                }
            ],
            [{"name": "g", "count": agents, "skills": ["q"]}],
        )

    one = queue_stats(Simulation(sc(1), 8, START).events(12 * HOUR))
    ten = queue_stats(Simulation(sc(10), 8, START).events(12 * HOUR))
    assert one["abandon_ratio"] > 0.3 and one["mean_wait"] > 60
    assert ten["abandon_ratio"] < 0.02 and ten["mean_wait"] < 2
    assert one["answered"] <= 12 * HOUR / 360 * 1.2  # the single agent is the bottleneck


def test_priority_contacts_wait_less() -> None:
    sc = scenario(
        [
            {
                "name": "q",
                "channel": "voice",
                "arrivals": {"rate": 40},
                "priority": {"urgent": 0.2, "low": 0.8},
                "patience_seconds": math.inf,
            }
        ],
        [{"name": "g", "count": 5, "skills": ["q"]}],
    )
    entered: dict[str, tuple[str, float]] = {}
    waits: dict[str, list[float]] = defaultdict(list)
    for ev in Simulation(sc, 3, START).events(10 * HOUR):
        t = to_seconds(ev["occurred_at"])
        if ev["type"] == "contact.queued":
            entered[ev["contact_id"]] = (ev["priority"], t)
        elif ev["type"] == "contact.answered":
            priority, since = entered[ev["contact_id"]]
            waits[priority].append(t - since)
    assert statistics.fmean(waits["urgent"]) * 1.5 < statistics.fmean(waits["low"])


def test_survey_scores_fall_with_the_wait() -> None:
    """Every handled caller answers; a busy queue gives short and long waits to compare."""
    sc = scenario(
        [
            {
                "name": "q",
                "channel": "voice",
                "arrivals": {"points": [[0, 10], [12, 45], [24, 10]]},
                "handle_seconds": {"mean": 360, "sigma": 0.5},
                "patience_seconds": 1200,
                "survey_share": 1.0,
            }
        ],
        [{"name": "g", "count": 5, "skills": ["q"]}],
    )
    entered: dict[str, float] = {}
    wait: dict[str, float] = {}
    short: list[int] = []
    long: list[int] = []
    surveys: list[dict[str, Any]] = []
    for ev in Simulation(sc, 2, START).events(DAY):
        t = to_seconds(ev["occurred_at"])
        if ev["type"] == "contact.queued":
            entered[ev["contact_id"]] = t
        elif ev["type"] == "contact.answered":
            wait[ev["contact_id"]] = t - entered[ev["contact_id"]]
        elif ev["type"] == "survey.responded":
            surveys.append(ev)
            waited = wait[ev["contact_id"]]
            if waited < 20:
                short.append(ev["csat"])
            elif waited >= 180:
                long.append(ev["csat"])
    assert len(short) > 100 and len(long) > 30
    assert statistics.fmean(long) < statistics.fmean(short) - 0.3
    assert all(1 <= e["csat"] <= 5 for e in surveys)
    ces = [e["ces"] for e in surveys if "ces" in e]
    nps = [e["nps"] for e in surveys if "nps" in e]
    assert 0.4 < len(ces) / len(surveys) < 0.8 and all(1 <= v <= 7 for v in ces)
    assert 0.3 < len(nps) / len(surveys) < 0.7 and all(0 <= v <= 10 for v in nps)


def test_async_tickets_wait_overnight_and_are_picked_oldest_first() -> None:
    """Email arriving at night waits for the morning shift, then is worked oldest first."""
    sc = scenario(
        [{"name": "mail", "channel": "email", "arrivals": {"rate": 6}, "resolve_share": 0.5}],
        [{"name": "desk", "count": 1, "skills": ["mail"], "shift": [9, 17]}],
    )
    queued: dict[str, float] = {}
    first: dict[str, float] = {}
    for ev in Simulation(sc, 4, START).events(DAY):
        t = to_seconds(ev["occurred_at"])
        if ev["type"] == "contact.queued":
            queued[ev["contact_id"]] = t
        elif ev["type"] == "contact.responded":
            first.setdefault(ev["contact_id"], t)
    night = sorted((c for c, t in queued.items() if t < START + 9 * HOUR), key=queued.__getitem__)
    assert abs(len(night) - 54) <= 4 * math.sqrt(54)
    responses = [first[c] for c in night if c in first]
    assert len(responses) > 20
    assert responses == sorted(responses)  # the oldest ticket first
    assert responses[0] >= START + 9 * HOUR and responses[-1] < START + 17 * HOUR
    assert all(t >= START + 9 * HOUR for t in first.values())


# ------------------------------------------------------------------ noise


def test_noise_shares_and_malformed_messages_are_rejected() -> None:
    share = 0.03
    sim = Simulation("contact-centre", 13, START)
    clean = list(sim.events(DAY))
    messages = list(sim.messages(DAY, noise=share))
    assert all(isinstance(m, Emission) for m in messages)
    assert [m.at for m in messages] == sorted(m.at for m in messages)

    seen_ids: set[str] = set()
    newest: dict[str, float] = {}
    counts: Counter[str] = Counter()
    delivered: list[dict[str, Any]] = []
    for message in messages:
        try:
            event = decode(message.payload, WALL)
        except Rejection as rejection:
            counts["malformed"] += 1
            assert message.kind == "malformed" and message.reason == rejection.reason
            continue
        assert message.kind != "malformed"
        if event.event_id in seen_ids:
            counts["duplicate"] += 1
            assert message.kind == "duplicate"
            continue
        seen_ids.add(event.event_id)
        delivered.append(orjson.loads(message.payload))
        key = event.contact_id or event.agent_id
        if event.ts < newest.get(key, -math.inf):
            counts["out_of_order"] += 1
            assert message.kind == "out_of_order"
        newest[key] = max(newest.get(key, -math.inf), event.ts)
    n = len(clean)
    for kind in ("duplicate", "out_of_order", "malformed"):
        assert 0.5 * share * n <= counts[kind] <= 1.5 * share * n, (kind, counts[kind], n)
    assert Counter(m.kind for m in messages)["out_of_order"] == counts["out_of_order"]
    # nothing lost, nothing invented: the valid, de-duplicated messages are the clean events
    assert sorted(delivered, key=lambda e: e["event_id"]) == sorted(
        clean, key=lambda e: e["event_id"]
    )
    assert len({m.reason for m in messages if m.kind == "malformed"}) >= 6


def test_without_noise_messages_are_the_events() -> None:
    sim = Simulation("support-desk", 2, START)
    messages = list(sim.messages(6 * HOUR))
    events = list(sim.events(6 * HOUR))
    assert [orjson.loads(m.payload) for m in messages] == events
    assert {m.kind for m in messages} == {"event"}
    assert all(
        m.key == (e.get("contact_id") or e["agent_id"])
        for m, e in zip(messages, events, strict=True)
    )
    assert len(list(sim.messages(6 * HOUR, noise=0.5, max_events=100))) == 100


def test_the_engine_accepts_the_simulation() -> None:
    """A noisy day through the real engine: rejects and duplicates are exactly the noise."""
    sim = Simulation("contact-centre", 17, START + 6 * HOUR)
    messages = list(sim.messages(6 * HOUR, noise=0.02))
    source = io.BytesIO(b"".join(m.line for m in messages))
    engine = replay(source, settings_from_mapping({}), wall_clock=lambda: WALL)
    kinds = Counter(m.kind for m in messages)
    rejected = {reason: n for reason, n in engine.pipeline.rejected.items() if n}
    assert sum(rejected.values()) == kinds["malformed"]
    assert engine.pipeline.duplicates == kinds["duplicate"]


# ------------------------------------------------------------------ pacing


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacing_at_60x_waits_a_sixtieth_of_the_gaps() -> None:
    clock = FakeClock()
    pacer = Pacer(60, now=clock)
    assert pacer.delay(START) == 0
    assert pacer.delay(START + 60) == pytest.approx(1.0)
    clock.now += 0.25
    assert pacer.delay(START + 60) == pytest.approx(0.75)
    clock.now += 10  # the consumer fell behind: no waiting until it catches up
    assert pacer.delay(START + 120) == 0
    assert pacer.delay(START + 3600) == pytest.approx(60 - 10.25)

    clock = FakeClock()
    emissions = list(Simulation("contact-centre", 1, START + 9 * HOUR).messages(HOUR))
    out = list(paced(emissions, Pacer(60, now=clock, origin=START + 9 * HOUR), sleep=clock.sleep))
    assert out == emissions
    assert sum(clock.slept) == pytest.approx((emissions[-1].at - (START + 9 * HOUR)) / 60)
    gaps = [b.at - a.at for a, b in itertools.pairwise(emissions) if b.at > a.at]
    assert len(clock.slept) == len(gaps)
    assert clock.slept[1:] == pytest.approx([g / 60 for g in gaps[1:]])


def test_pacing_real_time_and_infinite_speed() -> None:
    clock = FakeClock()
    pacer = Pacer(1.0, now=clock, origin=START)
    assert pacer.delay(START + 5) == pytest.approx(5)
    fast = Pacer(math.inf, now=clock)
    assert [fast.delay(START + s) for s in (0, 10, 1e6)] == [0, 0, 0]
    slept: list[float] = []
    list(paced(Simulation("support-desk", 1, START).messages(DAY), fast, sleep=slept.append))
    assert slept == []
    for bad in (0, -1, math.nan):
        with pytest.raises(ValueError):
            Pacer(bad)


def test_backdated_start_keeps_events_behind_the_wall_clock() -> None:
    now = START + DAY
    start = backdated_start(8 * HOUR, 60, now)
    for offset in (0.0, HOUR, 8 * HOUR):  # event time vs the wall time it is sent at
        assert start + offset <= now + offset / 60 + 1e-6
    assert backdated_start(HOUR, math.inf, now) == now - HOUR
    assert backdated_start(HOUR, 1, now) == now


# ------------------------------------------------------------------ command line


def test_module_command_writes_json_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "events.jsonl"
    code = simulator_main(
        [
            "--scenario",
            "support-desk",
            "--duration",
            "2h",
            "--seed",
            "3",
            "--out",
            str(out),
            "--stats",
        ]
    )
    assert code == 0
    lines = out.read_bytes().splitlines()
    assert lines and all(decode(line, datetime.now(UTC).timestamp()) for line in lines)
    assert "messages" in capsys.readouterr().err
    assert simulator_main(["--list"]) == 0
    assert "contact-centre" in capsys.readouterr().out
    assert simulator_main(["--scenario", "nope", "--duration", "1h"]) == 2
