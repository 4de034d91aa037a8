"""Contact caps hold under concurrency: a real gateway, many proposals at once.

Eight agents' proposals for one customer arrive together. With the shipped caps (3 per
24 h, 1 reply per unanswered thread) exactly that many are approved at decision time;
the rest are denied ``frequency_cap`` there and then, and the audit log says the same.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import Gateway
from tests.e2e.test_api import COMPLAINT, REPLY, ingest, mention

_POLICY_DATA = Path(__file__).resolve().parents[2] / "policies" / "engagement" / "data.json"
_CAPS = json.loads(_POLICY_DATA.read_text())["caps"]


async def _propose_all(gw: Gateway, mention_ids: list[int]) -> list[dict[str, Any]]:
    """POST /v1/proposals for every mention at once; each answer's body."""
    headers = {"Authorization": f"Bearer {gw.tokens['agent']}"}
    async with httpx.AsyncClient(base_url=gw.server.url, headers=headers, timeout=30) as c:
        answers = await asyncio.gather(
            *(c.post("/v1/proposals", json={"mention_id": m, "text": REPLY}) for m in mention_ids)
        )
    assert all(r.status_code == 201 for r in answers), [r.text for r in answers]
    return [r.json() for r in answers]


def _decided_events(gw: Gateway, proposal_ids: list[int]) -> dict[int, dict[str, Any]]:
    with gw.server.client(gw.tokens["auditor"]) as c:
        items = c.get("/v1/audit", params={"kind": "proposal_decided", "limit": 500}).json()[
            "items"
        ]
    return {
        e["payload"]["proposal_id"]: e for e in items if e["payload"]["proposal_id"] in proposal_ids
    }


def _check_split(gw: Gateway, bodies: list[dict[str, Any]], allowed: int, rule: str) -> None:
    approved = [b for b in bodies if b["status"] == "approved"]
    denied = [b for b in bodies if b["status"] == "denied"]
    assert len(approved) == allowed, [(b["status"], b["decision"]["reasons"]) for b in bodies]
    assert len(denied) == len(bodies) - allowed
    for b in approved:
        assert b["decision"]["outcome"] == "allow"
    for b in denied:
        rules = {r["rule"] for r in b["decision"]["reasons"] if r["code"] == "frequency_cap"}
        assert rule in rules, b["decision"]["reasons"]
    # The audit log was told the same thing the agents were, for every proposal.
    events = _decided_events(gw, [b["id"] for b in bodies])
    assert len(events) == len(bodies)
    for b in bodies:
        payload = events[b["id"]]["payload"]
        assert payload["status"] == b["status"]
        assert payload["decision"]["outcome"] == b["decision"]["outcome"]
        assert payload["decision"]["reasons"] == b["decision"]["reasons"]


def test_concurrent_proposals_for_one_customer_respect_the_24h_cap(gateway: Gateway) -> None:
    cap = _CAPS["per_customer_24h"]
    handle = "@race@social.example"
    ids = ingest(gateway, *[mention(COMPLAINT, handle=handle) for _ in range(cap + 6)])
    bodies = asyncio.run(_propose_all(gateway, ids))
    _check_split(gateway, bodies, cap, "engagement.frequency.per_customer_24h")
    # Each denied decision counted the contacts allowed before it: the cap was reached.
    for b in bodies:
        if b["status"] == "denied":
            reason = next(r for r in b["decision"]["reasons"] if r["code"] == "frequency_cap")
            assert f"is {cap} and this customer already has {cap}" in reason["message"]


def test_concurrent_replies_in_one_thread_respect_the_thread_cap(gateway: Gateway) -> None:
    cap = _CAPS["per_thread_unanswered"]
    # Different customers in one thread: only the thread cap can stop the extra replies.
    ids = ingest(
        gateway,
        *[
            mention(COMPLAINT, handle=f"@thread{i}@social.example", thread_id="race-thread-1")
            for i in range(6)
        ],
    )
    bodies = asyncio.run(_propose_all(gateway, ids))
    _check_split(gateway, bodies, cap, "engagement.frequency.per_thread_unanswered")
