"""The JSON API of the floor's view through the real aiohttp app (in process): query
parameters reach the lists, bad ones answer 400 naming the parameter."""

from __future__ import annotations

import asyncio
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
