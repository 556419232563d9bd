"""`floorwatch replay --board-out`: the floor's view at the end of a replay, as the HTTP
API serves it, from a small hand-built file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.helpers import T0, floorwatch, iso

pytestmark = pytest.mark.slow

VOICE = {"queue": "support", "channel": "voice"}


def event(event_id: str, type_: str, at: float, **fields: object) -> str:
    return json.dumps({"event_id": event_id, "type": type_, "occurred_at": iso(at), **fields})


def test_the_board_document_lists_every_flagged_contact_and_the_agents(tmp_path: Path) -> None:
    """Answer within 20 s, at risk in its last 5 s (25 %). At the last event, T0+26: c1
    (queued T0) waited 26 s, breached 6 s ago; c2 (T0+10) is due in 4 s, at risk; c5
    (T0+26) has 20 s left; c3 was answered by a1 at T0+21 and wrapped up at T0+26, a
    handle time of 5 s. Breached first, then at risk by due time."""
    lines = [
        event("s1", "agent.state", T0 - 60, agent_id="a1", state="available", queues=["support"]),
        event("q1", "contact.queued", T0, contact_id="c1", **VOICE),
        event("q2", "contact.queued", T0 + 10, contact_id="c2", **VOICE),
        event("q3", "contact.queued", T0 + 20, contact_id="c3", **VOICE),
        event("a3", "contact.answered", T0 + 21, contact_id="c3", agent_id="a1"),
        event("e3", "contact.ended", T0 + 24, contact_id="c3"),
        event("w3", "contact.wrapped", T0 + 26, contact_id="c3"),
        event("q5", "contact.queued", T0 + 26, contact_id="c5", **VOICE),
    ]
    (tmp_path / "day.jsonl").write_text("\n".join(lines) + "\n")
    command = ("replay", "day.jsonl", "--metrics-out", "m.txt", "--board-out", "floor.json")
    done = floorwatch(*command, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "floor.json").read_text())
    assert sorted(document) == ["agents", "board", "contacts", "moves"]
    contacts = document["contacts"]
    assert contacts["total"] == 2
    rows = [
        (r["contact_id"], r["sla"], r["state"], r["seconds_to_due"], r["due_at"])
        for r in contacts["contacts"]
    ]
    assert rows == [
        ("c1", "answer", "breached", -6.0, iso(T0 + 20)),
        ("c2", "answer", "at_risk", 4.0, iso(T0 + 30)),
    ]
    [agent] = document["agents"]["agents"]
    assert (agent["agent_id"], agent["state"], agent["handled_today"]) == ("a1", "available", 1)
    assert agent["handle_seconds_average"] == 5.0
    assert agent["contacts"] == []
    [tile] = document["board"]["queues"]
    assert (tile["queue"], tile["channel"], document["board"]["source"]) == (
        "support",
        "voice",
        "replay",
    )
    assert "moves" in document["moves"]
