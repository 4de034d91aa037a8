"""What a decision reads: the mention, its claim and its customer's history (contacts,
thread, opt-out, suppression) in one round trip; a second only when the channel has
suppression records and the customer's key must be computed to look theirs up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from gateway.audit.subjects import erase_subject
from gateway.domain.records import User
from gateway.pipeline.decide import Decider
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.store.database import Database
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one

POOL_RESET = "SELECT pg_advisory_unlock_all()"


class Counted(msgspec.Struct, kw_only=True):
    decider: Decider
    queries: list[str]


@pytest.fixture
async def counted(runtime: Runtime, settings: Settings) -> AsyncIterator[Counted]:
    """A decider on a pool of one connection whose queries are recorded."""
    db = await Database.open(
        msgspec.structs.replace(settings, db_pool_min=1, db_pool_max=1), migrate=False
    )
    queries: list[str] = []

    def log(logged: Any) -> None:
        if not logged.query.startswith(POOL_RESET):  # the pool's own, on each release
            queries.append(logged.query)

    async with db.pool.acquire() as conn:
        conn.add_query_logger(log)
    decider = Decider(db.pool, runtime.engine, suppression_keys=runtime.suppression_keys)
    try:
        yield Counted(decider=decider, queries=queries)
    finally:
        await db.close()


async def _erased_then_back(runtime: Runtime, officer: User, handle: str) -> int:
    """A customer's mention, their erasure, then a new mention of theirs (its id)."""
    await ingest_one(runtime, COMPLAINT, handle=f"@{handle}")
    async with runtime.db.pool.acquire() as conn:
        await erase_subject(
            conn, channel="demo", handle=handle, by=officer.name, keys=runtime.suppression_keys
        )
    return await ingest_one(runtime, COMPLAINT, handle=f"@{handle}")


async def test_one_round_trip_reads_mention_claim_and_history(
    runtime: Runtime, agent: User, counted: Counted
) -> None:
    mention = await ingest_one(runtime, COMPLAINT, handle="@one@social.example")
    await runtime.claims.claim(mention, user=agent)
    counted.queries.clear()
    decision = await counted.decider.preview(mention_id=mention, text=GOOD_REPLY, user=agent)
    assert decision.outcome == "allow", decision
    assert len(counted.queries) == 1, counted.queries


async def test_with_suppressions_on_the_channel_an_erased_customer_stays_refused(
    runtime: Runtime, agent: User, officer: User, counted: Counted
) -> None:
    returned = await _erased_then_back(runtime, officer, "gone@social.example")
    other = await ingest_one(runtime, COMPLAINT, handle="@other@social.example")
    counted.queries.clear()
    refused = await counted.decider.preview(mention_id=returned, text=GOOD_REPLY, user=agent)
    assert refused.outcome == "deny"
    assert "opted_out" in [r.code for r in refused.reasons]
    assert len(counted.queries) == 2  # the key computed from the identity, looked up
    allowed = await counted.decider.preview(mention_id=other, text=GOOD_REPLY, user=agent)
    assert allowed.outcome == "allow", allowed


async def test_an_erased_customer_who_returns_is_refused_when_the_writer_decides(
    runtime: Runtime, agent: User, officer: User
) -> None:
    """A proposal that arrives alone is decided by the writer on what it read under the
    locks; the suppression key computed from the returning customer's identity is
    looked up there too, so the erasure's suppression still refuses the reply."""
    returned = await _erased_then_back(runtime, officer, "back@social.example")
    proposal = await runtime.decider.propose(mention_id=returned, text=GOOD_REPLY, user=agent)
    assert proposal.status == "denied"
    assert "opted_out" in [r["code"] for r in proposal.reasons]
    async with runtime.db.pool.acquire() as conn:
        queued = await conn.fetchval("SELECT count(*) FROM outbox")
    assert queued == 0
