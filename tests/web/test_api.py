"""The JSON API of the floor's view through the real aiohttp app (in process): query
parameters reach the lists, bad ones answer 400 naming the parameter."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from streams.read.view import ReadView
from streams.web.server import make_app
from tests.support.helpers import T0, Feed


def floor() -> Feed:
    feed = Feed()
    feed.event("agent.state", T0, agent_id="a1", state="available", queues=["q1"])
    feed.event("agent.state", T0, agent_id="a2", state="away", reason="lunch", queues=["q2"])
    feed.event("contact.queued", T0, contact_id="c1", queue="q1", channel="voice", team="t1")
    feed.advance(T0 + 60)
    return feed


def call(
    view: ReadView,
    scenario: Callable[[TestClient], Awaitable[Any]],
    **app_options: Any,
) -> Any:
    async def run() -> Any:
        app = make_app(view, lambda: None, **app_options)
        async with TestClient(TestServer(app)) as client:
            return await scenario(client)

    return asyncio.run(run())


async def get(client: TestClient, path: str, **headers: str) -> tuple[int, Any]:
    response = await client.get(path, headers=headers)
    body = await response.json() if response.content_type == "application/json" else None
    return response.status, body


def test_agents_api_filters_and_rejects_bad_parameters() -> None:
    async def scenario(client: TestClient) -> None:
        status, body = await get(client, "/api/v1/agents?state=away")
        assert status == 200
        assert [a["agent_id"] for a in body["agents"]] == ["a2"]
        status, body = await get(client, "/api/v1/agents?queue=q1,q9&sort=agent&limit=5")
        assert [a["agent_id"] for a in body["agents"]] == ["a1"]
        status, body = await get(client, "/api/v1/agents?team=t1")
        assert [a["agent_id"] for a in body["agents"]] == ["a1"]
        for query, named in (
            ("state=sleeping", "state=sleeping"),
            ("limit=0", "limit=0"),
            ("limit=x", "limit=x"),
            ("sort=height", "sort=height"),
        ):
            status, body = await get(client, f"/api/v1/agents?{query}")
            assert status == 400 and body["error"].startswith(named), query

    call(floor().engine, scenario)


def test_contacts_api_filters_and_rejects_bad_parameters() -> None:
    feed = floor()
    # c1 (q1 voice, team t1) queued at T0: at T0 + 60 its answer SLA (20 s) is breached.
    feed.event("contact.queued", T0 + 45, contact_id="c2", queue="q2", channel="voice")
    feed.advance(T0 + 60)  # c2 waited 15 s: at risk (due in 5 s)

    async def scenario(client: TestClient) -> None:
        status, body = await get(client, "/api/v1/contacts")
        assert status == 200
        assert [(c["contact_id"], c["state"]) for c in body["contacts"]] == [
            ("c1", "breached"),
            ("c2", "at_risk"),
        ]
        status, body = await get(client, "/api/v1/contacts?sla=at_risk")
        assert [c["contact_id"] for c in body["contacts"]] == ["c2"]
        status, body = await get(client, "/api/v1/contacts?team=t1&kind=answer&channel=voice")
        assert [c["contact_id"] for c in body["contacts"]] == ["c1"]
        status, body = await get(client, "/api/v1/contacts?priority=high&limit=1")
        assert (body["contacts"], body["total"]) == ([], 0)
        for query, named in (
            ("sla=late", "sla=late"),
            ("channel=fax", "channel=fax"),
            ("priority=top", "priority=top"),
            ("kind=answer,speed", "kind=speed"),
            ("limit=100000", "limit=100000"),
        ):
            status, body = await get(client, f"/api/v1/contacts?{query}")
            assert status == 400 and body["error"].startswith(named), query

    call(feed.engine, scenario)


def test_moves_api_from_a_running_engine() -> None:
    """billing: 10 calls queued in its first 10 s, read at 60 s: 1/6 a second x 300 s
    (the default AHT) = 50 Erlangs, one agent. sales (team t2): one call 800 s before T0;
    the 15 min arrival window then covers the 860 s since it: 1/860 a second x 300 s =
    0.35 Erlang: SL(1) = 0.67, SL(2) = 0.95, so it requires 2 of its 3 available agents
    and gives the third, s0, the one available longest."""
    feed = Feed()
    feed.event(
        "contact.queued", T0 - 800, contact_id="x", queue="sales", channel="voice", team="t2"
    )
    feed.event("agent.state", T0, agent_id="b1", state="on_contact", queues=["billing"])
    for i in range(3):
        feed.event("agent.state", T0 + i, agent_id=f"s{i}", state="available", queues=["sales"])
    for i in range(10):
        feed.event(
            "contact.queued",
            T0 + i,
            contact_id=f"c{i}",
            queue="billing",
            channel="voice",
            team="t1",
        )
    feed.advance(T0 + 60)

    async def scenario(client: TestClient) -> None:
        status, body = await get(client, "/api/v1/staffing/moves")
        assert status == 200
        assert [(m["agent_id"], m["from_queue"], m["to_queue"]) for m in body["moves"]] == [
            ("s0", "sales", "billing")
        ]
        sales = body["moves"][0]["from"]
        assert sales["before"][0]["required"] == 2
        assert [sales["before"][0]["staffed"], sales["after"][0]["staffed"]] == [3, 2]
        (short,) = body["still_short"]
        assert short["queue"] == "billing" and short["channels"][0]["staffed"] == 2
        status, body = await get(client, "/api/v1/staffing/moves?team=t2")
        assert len(body["moves"]) == 1  # it touches sales
        status, body = await get(client, "/api/v1/staffing/moves?queue=other")
        assert (body["moves"], body["still_short"]) == ([], [])

    call(feed.engine, scenario)


def test_a_floor_filter_computes_only_its_queues() -> None:
    feed = floor()  # q1 (team t1) has a tile; add q2 of team t2
    feed.event("contact.queued", T0 + 50, contact_id="c9", queue="q2", channel="chat", team="t2")
    feed.advance(T0 + 60)

    async def scenario(client: TestClient) -> None:
        status, body = await get(client, "/api/v1/board?team=t2")
        assert status == 200
        assert [(t["queue"], t["channel"]) for t in body["queues"]] == [("q2", "chat")]
        cached = {(qc.queue, qc.channel) for qc in feed.engine.queues.tracked if qc.tile_cache}
        assert cached == {("q2", "chat")}  # q1 was not computed
        _, body = await get(client, "/api/v1/board?queue=q1")
        assert [t["queue"] for t in body["queues"]] == ["q1"]
        _, body = await get(client, "/api/v1/board")
        assert len(body["queues"]) == 2 and body["source"] == "live"

    call(feed.engine, scenario)


def test_wallboard_stream_of_one_team() -> None:
    feed = floor()
    feed.event("contact.queued", T0 + 50, contact_id="c9", queue="q2", channel="chat", team="t2")
    feed.advance(T0 + 60)

    async def scenario(client: TestClient) -> dict:
        response = await client.get("/api/v1/board/stream?team=t1")
        assert response.headers["Content-Type"] == "text/event-stream"
        data = b""
        while b"\n\n" not in data.split(b"event: board\ndata: ", 1)[-1]:
            data += await response.content.readany()
        response.close()
        payload = data.split(b"event: board\ndata: ", 1)[1].split(b"\n\n", 1)[0]
        return json.loads(payload)

    model = call(feed.engine, scenario)
    assert model["floor"] == {"team": "t1", "queue": None}
    assert [(t["queue"], t["channel"]) for t in model["tiles"]] == [("q1", "voice")]
    assert [a["id"] for a in model["agents"]["rows"]] == ["a1"]  # a2 serves q2 only
    (row,) = model["contacts"]["rows"]  # c1, waiting 60 s: answer breached
    assert (row["id"], row["state"], row["sla"], row["due_in"]) == (
        "c1",
        "breached",
        "answer",
        -40.0,
    )


def test_a_cluster_board_is_filtered_by_its_tiles_teams() -> None:
    """A worker's board source holds every worker's tiles: a team's are found by the
    tiles' own team, not by this worker's queues (it has none of them here)."""
    tiles = [
        {"queue": "far", "channel": "voice", "team": "t2"},
        {"queue": "near", "channel": "chat", "team": "t1"},
    ]

    async def cluster() -> dict:
        return {"now": None, "windows": [], "queues": tiles}

    async def scenario(client: TestClient) -> None:
        _, body = await get(client, "/api/v1/board?team=t2")
        assert [t["queue"] for t in body["queues"]] == ["far"]
        _, body = await get(client, "/api/v1/board?queue=near,far")
        assert len(body["queues"]) == 2
        _, body = await get(client, "/api/v1/board")
        assert len(body["queues"]) == 2

    call(Feed().engine, scenario, board_source=cluster)


def test_metrics_of_one_team_or_queue_for_split_scrape_jobs() -> None:
    """/metrics?team= answers that team's queues only; the series without a queue label
    come with the whole answer (or ?pipeline=only), never twice across split jobs."""

    async def scenario(client: TestClient) -> None:
        texts = {}
        for query in ("", "?team=t1", "?queue=q2", "?pipeline=only", "?pipeline=maybe"):
            response = await client.get("/metrics" + query)
            texts[query] = (response.status, await response.text())
        whole = texts[""][1]
        assert 'queue="q1"' in whole and 'queue="q2"' in whole
        t1 = texts["?team=t1"][1]
        assert 'queue="q1"' in t1 and 'queue="q2"' not in t1
        assert "contactcenter_events_processed_total" not in t1
        q2 = texts["?queue=q2"][1]
        assert 'queue="q2"' in q2 and 'queue="q1"' not in q2
        pipeline = texts["?pipeline=only"][1]
        samples = [line for line in pipeline.splitlines() if not line.startswith("#")]
        assert "contactcenter_events_processed_total" in pipeline
        assert samples and not any("queue=" in line for line in samples)
        status, body = texts["?pipeline=maybe"]
        assert status == 400 and "pipeline=maybe" in body

    call(floor().engine, scenario)
