"""The agents, contacts and moves lists of a whole cluster, from the parts each worker
publishes to Redis (`agents_part`, `contacts_part`): merged by hand-made parts, and
through the real aiohttp app against one process that saw every event."""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

import orjson
from aiohttp.test_utils import TestClient, TestServer

from streams.read.agents import agents_part, live_contacts, merge_parts
from streams.read.board import board_snapshot, merge_boards
from streams.read.contacts import ContactFilter, contacts_part, newest_parts, part_rows
from streams.web.server import BoardUnavailable, make_app
from tests.support.helpers import T0, Feed, iso
from tests.web.floor_demo import floor_events

NOW = T0 + 3600


def row(contact: str, queue: str, channel: str, team: str, due: float, **fields: Any) -> dict:
    state = "breached" if due < NOW else "at_risk"
    return {
        "contact_id": contact,
        "queue": queue,
        "channel": channel,
        "team": team,
        "priority": "normal",
        "sla": "answer",
        "state": state,
        "due_at": iso(due),
        "agent_id": None,
        **fields,
    }


def part(rows: list[dict], totals: list[list], pairs: list[list[str]], cap: int = 2000) -> dict:
    return {
        "now": iso(NOW),
        "cap": cap,
        "pairs": pairs,
        "rows": {
            "at_risk": [r for r in rows if r["state"] == "at_risk"],
            "breached": [r for r in rows if r["state"] == "breached"],
        },
        "totals": totals,
    }


def two_parts(cap_b: int = 2000, at_risk_in_b: int = 1) -> list[dict]:
    a = part(
        [
            row("b1", "q2", "chat", "t2", NOW - 50),
            row("a1", "q1", "voice", "t1", NOW + 10, agent_id="ag1"),
            row("a2", "q1", "voice", "t1", NOW + 30),
        ],
        [
            ["q1", "voice", "t1", "normal", "answer", "at_risk", 2],
            ["q2", "chat", "t2", "normal", "answer", "breached", 1],
        ],
        [["q1", "voice"], ["q2", "chat"]],
    )
    b = part(
        [
            row("d1", "q3", "email", "t2", NOW - 100, sla="first_response"),
            row("c1", "q3", "email", "t2", NOW + 20, sla="first_response"),
        ],
        [
            ["q3", "email", "t2", "normal", "first_response", "breached", 1],
            ["q3", "email", "t2", "normal", "first_response", "at_risk", at_risk_in_b],
        ],
        [["q3", "email"]],
        cap=cap_b,
    )
    return [a, b]


def ids(listing: dict) -> list[str]:
    return [r["contact_id"] for r in listing["contacts"]]


def test_two_parts_make_one_list_by_due_time_with_exact_totals() -> None:
    parts = two_parts()
    merged = part_rows(parts, ContactFilter(), 100, {"c1": "ag9", "a1": "other"})
    assert ids(merged) == ["d1", "b1", "a1", "c1", "a2"]  # due -100, -50, +10, +20, +30
    assert merged["total"] == 5 and "truncated" not in merged
    # c1's agent comes from another worker's live contacts; a1 keeps the one of its part
    assert [r["agent_id"] for r in merged["contacts"]] == [None, None, "ag1", "ag9", None]
    assert parts[1]["rows"]["at_risk"][0]["agent_id"] is None  # the parts stay as read
    t1 = part_rows(parts, ContactFilter(teams=frozenset({"t1"})), 100)
    assert (ids(t1), t1["total"]) == (["a1", "a2"], 2)
    late = part_rows(parts, ContactFilter(states=frozenset({"breached"})), 1)
    assert (ids(late), late["total"]) == (["d1"], 2)  # the first of 2
    first = part_rows(parts, ContactFilter(kinds=frozenset({"first_response"})), 100)
    assert (ids(first), first["total"]) == (["d1", "c1"], 2)


def test_a_capped_part_marks_the_lists_it_may_leave_short() -> None:
    """Worker b held 3 contacts at risk but published only its first (c1, due +20)."""
    parts = two_parts(cap_b=1, at_risk_in_b=3)
    whole = part_rows(parts, ContactFilter(), 100)
    assert (ids(whole), whole["total"], whole.get("truncated")) == (
        ["d1", "b1", "a1", "c1", "a2"],
        7,
        True,  # not full: b's 2 others belong in it
    )
    head = part_rows(parts, ContactFilter(), 3)  # d1, b1, a1: due before c1, b's cut
    assert (ids(head), head["total"], "truncated" in head) == (["d1", "b1", "a1"], 7, False)
    upto = part_rows(parts, ContactFilter(), 4)  # ... c1: b's others may be due with it
    assert (ids(upto), upto.get("truncated")) == (["d1", "b1", "a1", "c1"], True)
    q1 = part_rows(parts, ContactFilter(queues=frozenset({"q1"})), 100)  # b holds none
    assert (ids(q1), q1["total"], "truncated" in q1) == (["a1", "a2"], 2, False)


def test_a_queue_in_two_parts_is_taken_from_the_newest() -> None:
    """Its partition just moved: the old owner's entry lives on until its TTL."""
    old = part(
        [row("x", "q1", "voice", "t1", NOW + 5)],
        [["q1", "voice", "t1", "normal", "answer", "at_risk", 1]],
        [["q1", "voice"]],
    )
    new = part(
        [row("y", "q1", "voice", "t1", NOW + 7), row("z", "q2", "chat", "t2", NOW + 9)],
        [
            ["q1", "voice", "t1", "normal", "answer", "at_risk", 1],
            ["q2", "chat", "t2", "normal", "answer", "at_risk", 1],
        ],
        [["q1", "voice"], ["q2", "chat"]],
    )
    merged = part_rows(newest_parts([(20.0, new), (10.0, old)]), ContactFilter(), 100)
    assert (ids(merged), merged["total"]) == (["y", "z"], 2)


# ---------------------------------------------------------------------- through the app


def split_floor() -> tuple[Feed, list[Feed]]:
    """The demo floor in one engine, and split over two as a cluster partitions it: an
    agent's events by agent id, a queue's contacts by queue (an engine holds both stages
    of a contact, so a contact goes with its queue here; the worker test splits them)."""
    whole, halves = Feed(), [Feed(), Feed()]
    events = floor_events(NOW)
    queue_of: dict[str, str] = {}
    for event in events:
        if "queue" in event:
            queue_of.setdefault(event["contact_id"], event["queue"])
    for event in events:
        whole.send(event)
        contact = event.get("contact_id")
        key = event["agent_id"] if contact is None else queue_of[contact]
        halves[zlib.crc32(key.encode()) % 2].send(event)
    end = max(NOW, whole.engine.clock.now())  # the last event may be a little after NOW
    for feed in (whole, *halves):
        feed.advance(end)  # one clock for all, as the wall clock of a live cluster
    return whole, halves


def json_of(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value))


def cluster_sources(halves: list[Feed]) -> dict[str, Any]:
    """The board and floor sources of a worker, over the two halves' parts as read back
    from Redis (JSON)."""
    boards = []
    for i, half in enumerate(halves):
        board = board_snapshot(half.engine)
        boards.append(orjson.dumps({**board, "worker": f"w{i}", "published_at": NOW}))
    agents = [json_of(agents_part(h.engine)) for h in halves]
    contacts = [(NOW, json_of(contacts_part(h.engine))) for h in halves]

    async def board_source() -> dict[str, Any]:
        return merge_boards(boards, list(halves[0].settings.windows))

    async def floor_source() -> dict[str, Any]:
        return {"agents": merge_parts(agents), "contacts": newest_parts(contacts)}

    return {"board_source": board_source, "floor_source": floor_source}


PATHS = (
    "/api/v1/agents",
    "/api/v1/agents?team=tier1&sort=time",
    "/api/v1/agents?state=away,after_contact_work&sort=state&limit=3",
    "/api/v1/agents?queue=billing&sort=handled",
    "/api/v1/contacts",
    "/api/v1/contacts?sla=breached&limit=5",
    "/api/v1/contacts?team=tier2&channel=email,messaging",
    "/api/v1/contacts?sla=at_risk&kind=first_response&priority=high,normal",
    "/api/v1/staffing/moves",
    "/api/v1/staffing/moves?team=tier1",
)


def tied(answer: tuple[int, Any]) -> tuple[int, Any]:
    """Contacts due at the same instant in one order (one process keeps them in the order
    they were flagged, a merge in the order of its parts)."""
    status, body = answer
    if "contacts" in body:
        contacts = sorted(body["contacts"], key=lambda c: (c["due_at"], c["contact_id"]))
        body = {**body, "contacts": contacts}
    return status, body


def answers(engine: Any, sources: dict[str, Any]) -> dict[str, tuple[int, Any]]:
    async def run() -> dict[str, tuple[int, Any]]:
        app = make_app(engine, lambda: None, **sources)
        out = {}
        async with TestClient(TestServer(app)) as client:
            for path in PATHS:
                response = await client.get(path)
                out[path] = (response.status, await response.json())
        return out

    return asyncio.run(run())


def test_a_workers_lists_are_those_of_one_process_for_the_same_events() -> None:
    whole, halves = split_floor()
    assert all(h.engine.agent_tracker.agents for h in halves)  # both halves hold agents
    held = [{qc.queue for qc in h.engine.queues.tracked} for h in halves]
    assert all(held) and not held[0] & held[1]  # ... and queues, each in one
    one = answers(whole.engine, {})
    cluster = answers(halves[0].engine, cluster_sources(halves))
    for path in PATHS:
        assert tied(cluster[path]) == tied(one[path]), path
    # The lists are not empty: the comparison says something.
    assert one["/api/v1/agents"][1]["total"] == 24
    assert one["/api/v1/contacts"][1]["total"] > 0
    assert (
        one["/api/v1/staffing/moves"][1]["moves"] or one["/api/v1/staffing/moves"][1]["still_short"]
    )
    assigned = [c for c in one["/api/v1/contacts"][1]["contacts"] if c["agent_id"]]
    assert assigned  # and rows with their agents


def test_while_redis_is_away_the_lists_answer_503() -> None:
    async def away() -> dict[str, Any]:
        raise BoardUnavailable("Redis is unreachable (ConnectionError), so ...")

    statuses = answers(Feed().engine, {"board_source": away, "floor_source": away})
    for path in PATHS:
        status, body = statuses[path]
        assert status == 503 and body["error"].startswith("Redis is unreachable"), path


def test_live_contacts_say_who_is_on_what() -> None:
    merged = merge_parts(
        [
            {
                "now": 1.0,
                "day_start": 0.0,
                "states": [],
                "activity": {"a1": [0, 0.0, 0, 0, [["c1", "q", "voice", 0.5]]]},
            },
            {
                "now": 1.0,
                "day_start": 0.0,
                "states": [],
                "activity": {"a2": [0, 0.0, 0, 0, [["c2", "q", "chat", 0.7]]]},
            },
        ]
    )
    assert live_contacts(merged) == {"c1": "a1", "c2": "a2"}
