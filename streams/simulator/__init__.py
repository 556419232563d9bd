"""Contact-centre traffic simulator: realistic, seeded Floorwatch input events.

`Simulation` runs a scenario (`load_scenario`) and yields clean events, or messages with
optional transport noise; `Pacer` and `paced` send them at a given speed.
"""

from __future__ import annotations

# Usage:
#
#     sim = Simulation(load_scenario("contact-centre"), seed=7, start_epoch=1795338000.0)
#     for event in sim.events(duration=3600):            # dicts, time order, all valid
#         ...
#     for msg in paced(sim.messages(noise=0.02), Pacer(60)):  # bytes + key + kind
#         producer.send(msg.payload, key=msg.key)
#
# `Simulation.events` yields clean event dicts (never noise); `Simulation.messages` yields
# `Emission`s (bytes, Kafka key, send time, kind), optionally with noise: duplicates, late
# deliveries and malformed messages; `Simulation.lines` yields JSON Lines bytes. `Pacer`
# says how long to wait before each message at a given speed; `paced` sleeps. Scenarios:
# `load_scenario(name_or_path)`, `list_scenarios()`; the format is described in
# streams/simulator/scenarios/README.md.
from streams.simulator.noise import MESSAGE_KINDS, Emission, add_noise, malformed, plain
from streams.simulator.pacing import Pacer, backdated_start, paced
from streams.simulator.scenario import (
    SCENARIO_DIR,
    AgentGroup,
    ArrivalProfile,
    Break,
    Duration,
    QueueSpec,
    Scenario,
    ScenarioError,
    list_scenarios,
    load_scenario,
    parse_scenario,
    scenario_from_toml,
)
from streams.simulator.simulation import TIME_FORMATS, Simulation, format_rfc3339_ms

__all__ = [
    "MESSAGE_KINDS",
    "SCENARIO_DIR",
    "TIME_FORMATS",
    "AgentGroup",
    "ArrivalProfile",
    "Break",
    "Duration",
    "Emission",
    "Pacer",
    "QueueSpec",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "add_noise",
    "backdated_start",
    "format_rfc3339_ms",
    "list_scenarios",
    "load_scenario",
    "malformed",
    "paced",
    "parse_scenario",
    "plain",
    "scenario_from_toml",
]
