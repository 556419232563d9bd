"""A hand-made floor for the wallboard tests and screenshots: 24 queue x channels (voice,
chat, email, messaging) in three teams, agents in every state (some on long breaks),
waiting calls, tickets about to breach and breached, and a queue short of agents."""

from __future__ import annotations

import random

from tests.support.helpers import iso

TEAMS = ("tier1", "tier2", "sales")
LIVE = {  # queue -> team: each has voice and chat
    "billing": "tier1",
    "refunds": "tier1",
    "support": "tier2",
    "tech": "tier2",
    "sales": "sales",
    "renewals": "sales",
}
ASYNC = {  # queue -> team: each has email and messaging
    "billing-mail": "tier1",
    "claims": "tier1",
    "support-mail": "tier2",
    "bugs": "tier2",
    "quotes": "sales",
    "orders": "sales",
}


def floor_events(now: float, seed: int = 5) -> list[dict]:
    """Events ending at `now` (epoch seconds), in time order."""
    rng = random.Random(seed)
    out: list[tuple[float, dict]] = []
    n = 0

    def add(at: float, kind: str, **fields: object) -> None:
        nonlocal n
        n += 1
        out.append((at, {"event_id": f"demo-{n}", "type": kind, "occurred_at": iso(at), **fields}))

    # Agents: 8 per team, serving the team's live queues; two long breaks, one long ACW.
    for t, team in enumerate(TEAMS):
        queues = [q for q, tm in LIVE.items() if tm == team]
        for a in range(8):
            agent = f"{team}-{a + 1:02d}"
            state, reason, since = "on_contact", None, now - rng.uniform(30, 400)
            if a in (0, 1):
                state, since = "available", now - rng.uniform(20, 200)
            if a == 2:
                state, reason, since = "away", "lunch", now - (1900 if t == 0 else 600)
            if a == 3:
                state, reason, since = "away", "break", now - (950 if t == 1 else 240)
            if a == 4:
                state, since = "after_contact_work", now - (320 if t == 2 else 45)
            fields: dict = {"agent_id": agent, "state": state, "queues": queues, "team": team}
            if reason:
                fields["reason"] = reason
            add(now - 3700 + a, "agent.state", **{**fields, "state": "available"})
            add(since, "agent.state", **fields)
    # Live traffic: answered calls over the last hour, some waiting now.
    for q, team in LIVE.items():
        for channel in ("voice", "chat"):
            busy = 3 if q == "support" else 1  # support is short of agents
            for i in range(int(20 * busy)):
                cid = f"{q}-{channel}-{i}"
                start = now - 3500 + i * 170 / busy + rng.uniform(0, 60)
                add(start, "contact.queued", contact_id=cid, queue=q, channel=channel, team=team)
                wait = rng.uniform(3, 35 if q != "support" else 90)
                agent = f"{team}-{rng.randint(5, 8):02d}"
                if start + wait > now - 5:
                    continue
                add(start + wait, "contact.answered", contact_id=cid, agent_id=agent)
                if channel == "chat":
                    add(start + wait + 8, "contact.responded", contact_id=cid, agent_id=agent)
                talk = rng.uniform(120, 420)
                if start + wait + talk < now:
                    add(start + wait + talk, "contact.ended", contact_id=cid)
                    add(start + wait + talk + 30, "contact.wrapped", contact_id=cid)
            for w in range(2 * busy if channel == "voice" else busy):
                add(
                    now - 4 - 6 * w,
                    "contact.queued",
                    contact_id=f"{q}-{channel}-w{w}",
                    queue=q,
                    channel=channel,
                    team=team,
                )
    # Async backlogs: tickets of every age, a few answered; some about to breach.
    for q, team in ASYNC.items():
        for channel in ("email", "messaging"):
            target = 14400 if channel == "email" else 3600
            for i in range(rng.randint(8, 30)):
                cid = f"{q}-{channel}-{i}"
                age = rng.choice((600, 1800, 2700, 3300, 5400, 9000, 12000, 14000, 30000, 90000))
                start = now - age - rng.uniform(0, 300)
                add(
                    start,
                    "contact.queued",
                    contact_id=cid,
                    queue=q,
                    channel=channel,
                    team=team,
                    priority=rng.choice(("normal", "normal", "high", "urgent", "low")),
                )
                if rng.random() < 0.4 and age > 600:
                    agent = f"{team}-{rng.randint(5, 8):02d}"
                    add(
                        start + min(age - 60, target * rng.uniform(0.2, 1.3)),
                        "contact.responded",
                        contact_id=cid,
                        agent_id=agent,
                    )
            for i in range(rng.randint(2, 6)):
                cid = f"{q}-{channel}-done-{i}"
                start = now - rng.uniform(3000, 20000)
                add(start, "contact.queued", contact_id=cid, queue=q, channel=channel, team=team)
                add(start + 900, "contact.responded", contact_id=cid, agent_id=f"{team}-06")
                add(min(now - 1, start + 2400), "contact.resolved", contact_id=cid)
    return [event for _, event in sorted(out, key=lambda item: item[0])]
