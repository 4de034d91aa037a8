"""The second person of a review or a policy request cannot hold a token the first issued."""

from __future__ import annotations

import copy

import pytest

from gateway.domain.records import User
from gateway.pipeline.accounts import Accounts
from gateway.pipeline.errors import Forbidden
from gateway.runtime import Runtime
from gateway.store import users
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one


async def _as_token(runtime: Runtime, token: str) -> User:
    async with runtime.db.pool.acquire() as conn:
        user = await users.user_by_token(conn, token)
    assert user is not None
    return user


async def test_an_admin_cannot_approve_their_own_reply_with_a_token_they_issued(
    runtime: Runtime,
) -> None:
    accounts = Accounts(runtime.db.pool)
    root, _ = await accounts.add(name="root", role="admin", actor="cli")
    await accounts.add(name="dave", role="compliance", actor="cli")
    mention_id = await ingest_one(runtime, COMPLAINT)
    held = await runtime.decider.propose(
        mention_id=mention_id, text=GOOD_REPLY, user=root, ai_generated=True
    )
    assert held.status == "pending_review"
    _, daves = await accounts.rotate("dave", actor=root.name)
    with pytest.raises(Forbidden, match="issued by root"):
        await runtime.reviewer.approve(held.id, user=await _as_token(runtime, daves), note="")
    _, daves = await accounts.rotate("dave", actor="cli")  # the operator re-issues it
    approved = await runtime.reviewer.approve(
        held.id, user=await _as_token(runtime, daves), note=""
    )
    assert approved.status == "approved"


async def test_a_shadow_cannot_be_confirmed_with_a_token_its_proposer_issued(
    runtime: Runtime,
) -> None:
    assert runtime.policies is not None
    accounts = Accounts(runtime.db.pool)
    root, _ = await accounts.add(name="root", role="admin", actor="cli")
    await accounts.add(name="dave", role="compliance", actor="cli")
    state = await runtime.policies.state()
    version = await runtime.policies.version(state.active_revision)
    data = copy.deepcopy(version.data)
    data["caps"]["per_customer_24h"] += 1
    draft, _ = await runtime.policies.draft(
        files=version.files, data=data, description="one more contact a day", user=root
    )
    request = await runtime.policies.propose_shadow(draft.revision, user=root)
    _, daves = await accounts.rotate("dave", actor=root.name)
    with pytest.raises(Forbidden, match="issued by root"):
        await runtime.policies.confirm(request.id, user=await _as_token(runtime, daves))
