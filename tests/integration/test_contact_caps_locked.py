"""Contact caps are decided under a per-customer lock: concurrent proposals never take
more places than the policy's cap, whether they share a group-commit batch or run in
separate transactions, and the audit record holds the input each decision was made from."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from gateway.domain.records import Proposal, User
from gateway.pipeline.decide import Decider
from gateway.runtime import Runtime
from gateway.store import audit
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one

_DATA = Path(__file__).resolve().parents[2] / "policies" / "engagement" / "data.json"
CAP_24H = json.loads(_DATA.read_text())["caps"]["per_customer_24h"]


def _decider(rt: Runtime, *, batched: bool) -> Decider:
    if batched:
        return rt.decider  # the group-commit writer: one transaction for many requests
    return Decider(rt.db.pool, rt.engine)  # one transaction per request


@pytest.mark.parametrize("batched", [True, False], ids=["group-commit", "own-transaction"])
async def test_concurrent_proposals_allow_exactly_the_cap(
    runtime: Runtime, agent: User, batched: bool
) -> None:
    handle = "@Race@social.example"
    ids = [await ingest_one(runtime, COMPLAINT, handle=handle) for _ in range(CAP_24H + 5)]
    decider = _decider(runtime, batched=batched)
    results: list[Proposal] = await asyncio.gather(
        *(decider.propose(mention_id=m, text=GOOD_REPLY, user=agent) for m in ids)
    )
    approved = [p for p in results if p.status == "approved"]
    denied = [p for p in results if p.status == "denied"]
    assert len(approved) == CAP_24H, [(p.status, p.reasons) for p in results]
    assert len(denied) == len(ids) - CAP_24H
    for p in denied:
        assert [r["code"] for r in p.reasons] == ["frequency_cap"]
        assert p.reasons[0]["rule"] == "engagement.frequency.per_customer_24h"
    async with runtime.db.pool.acquire() as conn:
        events = [
            e for e in await audit.list_events(conn, limit=1000) if e.kind == "proposal_decided"
        ]
    by_id = {e.payload["proposal_id"]: e.payload for e in events}
    for p in results:
        assert by_id[p.id]["status"] == p.status
        assert by_id[p.id]["decision"]["reasons"] == p.reasons
        # The recorded input is the one decided on: a denial saw the cap already reached.
        contacts = by_id[p.id]["input"]["customer"]["contacts_24h"]
        assert contacts == CAP_24H if p.status == "denied" else contacts < CAP_24H
