"""Erasure of a customer the gateway never saw still suppresses them."""

from __future__ import annotations

from gateway.audit.subjects import erase_subject
from gateway.domain.records import User
from gateway.runtime import Runtime
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one


async def test_erasing_a_customer_never_seen_refuses_their_first_mention(
    runtime: Runtime, agent: User, officer: User
) -> None:
    """A person who asks to be erased before the gateway ever saw them is suppressed all the
    same: their first mention, in any spelling, is denied opted_out."""
    async with runtime.db.pool.acquire() as conn:
        erasure = await erase_subject(
            conn,
            channel="demo",
            handle="@Newcomer@social.example",
            by=officer.name,
            keys=runtime.suppression_keys,
        )
    assert erasure.mentions_scrubbed == 0 and erasure.suppression == "erasure"
    mention_id = await ingest_one(runtime, COMPLAINT, handle="newcomer@social.example\u200b")
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert proposal.status == "denied"
    assert [r["code"] for r in proposal.reasons] == ["opted_out"]
