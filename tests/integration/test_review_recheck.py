"""A reviewer overrules the policy's "review", never its "deny".

A reply held for review waits for a person; meanwhile the customer may opt out or a cap may
fill up. Approving re-evaluates it on today's state under the customer's contact locks: a
reply the policy now denies is withdrawn (audited), not approved, and never queued.
"""

from __future__ import annotations

import asyncio

import pytest

from gateway.domain.records import Proposal, User
from gateway.pipeline.errors import StateConflict
from gateway.runtime import Runtime
from gateway.store import audit, proposals
from gateway.store.errors import Conflict
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user


async def _held(runtime: Runtime, agent: User, thread: str) -> Proposal:
    mention_id = await ingest_one(runtime, COMPLAINT, thread_id=thread)
    held = await runtime.decider.propose(
        mention_id=mention_id, text=GOOD_REPLY, user=agent, ai_generated=True
    )
    assert held.status == "pending_review", held.reasons
    return held


async def _queued(runtime: Runtime) -> int:
    async with runtime.db.pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM outbox"))


async def test_approval_after_an_opt_out_withdraws_the_reply(
    runtime: Runtime, agent: User, officer: User
) -> None:
    held = await _held(runtime, agent, "t-opt")
    await runtime.consent.add(
        channel="demo", handle="dana@social.example", reason="asked by phone", user=officer
    )
    reviewer = await make_user(runtime, "dave", "compliance")

    with pytest.raises(StateConflict, match="opted_out"):
        await runtime.reviewer.approve(held.id, user=reviewer, note="looks fine")

    async with runtime.db.pool.acquire() as conn:
        after = await proposals.get_proposal(conn, held.id)
        events = await audit.list_events(conn, kind="release_withdrawn")
        approved = await audit.list_events(conn, kind="proposal_approved")
    assert after.status == "withdrawn"
    assert approved == []
    assert await _queued(runtime) == 0
    assert events[0].actor == "dave"
    assert events[0].payload["stage"] == "approval"
    # most final first: the opt-out, then the review reason it overrides
    codes = [r["code"] for r in events[0].payload["decision"]["reasons"]]
    assert codes == ["opted_out", "ai_generated"]
    with pytest.raises(Conflict, match="withdrawn"):  # withdrawn is final
        await runtime.reviewer.approve(held.id, user=reviewer, note="again")


async def test_concurrent_approvals_never_exceed_the_daily_cap(
    runtime: Runtime, agent: User
) -> None:
    """Five held replies to one customer (cap 3 a day): approving them all at once lets
    exactly three through; the others are withdrawn with frequency_cap."""
    held = [await _held(runtime, agent, f"t-cap-{i}") for i in range(5)]
    reviewer = await make_user(runtime, "dave", "compliance")

    async def approve(p: Proposal) -> str:
        try:
            return (await runtime.reviewer.approve(p.id, user=reviewer, note="ok")).status
        except StateConflict as exc:
            assert "frequency_cap" in str(exc), exc
            return "withdrawn"

    outcomes = await asyncio.gather(*(approve(p) for p in held))
    assert sorted(outcomes) == ["approved"] * 3 + ["withdrawn"] * 2
    assert await _queued(runtime) == 3


async def test_rejecting_needs_no_recheck(runtime: Runtime, agent: User, officer: User) -> None:
    held = await _held(runtime, agent, "t-reject")
    await runtime.consent.add(
        channel="demo", handle="@dana@social.example", reason="asked", user=officer
    )
    rejected = await runtime.reviewer.reject(held.id, user=officer, note="no")
    assert rejected.status == "rejected"
