"""Policies nobody approved yet run in the sandbox: a hostile draft's tests, impact
analysis, shadow decisions and activation end with policy_timeout / policy_memory
instead of stalling or killing the gateway (issue 10, points 1 and 2)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from gateway.domain.records import User
from gateway.pipeline.policies import PolicyService
from gateway.policy.errors import PolicyMemory, PolicyTimeout
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user
from tests.support.hostile_policies import HUGE, SLOW, with_decision, with_test

TIMEOUT_S = 1.0


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    small = msgspec.structs.replace(
        settings, sandbox_timeout_s=TIMEOUT_S, sandbox_memory_mb=256, policy_timeout_s=TIMEOUT_S
    )
    rt = await Runtime.start(small)
    try:
        yield rt
    finally:
        await rt.close()


async def stored_shadow(rt: Runtime, proposal_id: int) -> dict[str, Any]:
    async with rt.db.pool.acquire() as conn:
        raw = await conn.fetchval("SELECT shadow FROM proposals WHERE id = $1", proposal_id)
    shadow: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else raw
    return shadow


def service(rt: Runtime) -> PolicyService:
    assert rt.policies is not None
    return rt.policies


async def test_a_draft_whose_test_loops_too_long_is_stopped_with_policy_timeout(
    runtime: Runtime, officer: User
) -> None:
    started = time.monotonic()
    with pytest.raises(PolicyTimeout, match="did not finish within 1 s"):
        await service(runtime).draft(
            files=with_test(SLOW), data={}, description="slow", user=officer
        )
    assert time.monotonic() - started < 8  # stopped, not run to the end (about 8 s)
    assert len(await service(runtime).versions()) == 1  # nothing stored
    # The sandbox replaced its worker: the next draft is checked and tested normally.
    version, created = await service(runtime).draft(
        files=with_test("true"), data={}, description="fine", user=officer
    )
    assert created and version.tests_passed is True


async def test_a_draft_whose_test_allocates_gigabytes_is_stopped_with_policy_memory(
    runtime: Runtime, agent: User, officer: User
) -> None:
    with pytest.raises(PolicyMemory, match="256 MiB"):
        await service(runtime).draft(
            files=with_test(HUGE), data={}, description="huge", user=officer
        )
    assert len(await service(runtime).versions()) == 1
    # This process survived the worker's abort and still decides.
    mention_id = await ingest_one(runtime, COMPLAINT)
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert proposal.status == "approved"


async def test_impact_of_a_slow_draft_ends_with_policy_timeout(
    runtime: Runtime, agent: User, officer: User
) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    draft, _ = await service(runtime).draft(
        files=with_decision(SLOW), data={}, description="slow decisions", user=officer
    )
    with pytest.raises(PolicyTimeout):
        await service(runtime).impact(draft.revision, limit=100)


async def test_a_hostile_shadow_never_delays_or_fails_the_real_decision(
    runtime: Runtime, agent: User, officer: User
) -> None:
    colleague = await make_user(runtime, "dave", "compliance")
    for condition, code in ((HUGE, "policy_memory"), (SLOW, "policy_timeout")):
        draft, _ = await service(runtime).draft(
            files=with_decision(condition), data={}, description="hostile", user=officer
        )
        request = await service(runtime).propose_shadow(draft.revision, user=officer)
        await service(runtime).confirm(request.id, user=colleague)  # two-person rule
        for n in range(3):
            handle = f"@{code}{n}@social.example"  # fresh customers: no frequency cap
            mention_id = await ingest_one(runtime, COMPLAINT, handle=handle)
            started = time.monotonic()
            proposal = await runtime.decider.propose(
                mention_id=mention_id, text=GOOD_REPLY, user=agent
            )
            took = time.monotonic() - started
            assert proposal.status == "approved"  # the shipped policy decided
            assert took < 1.0, took  # bounded by shadow_wait_s (0.25 s), not by the shadow
            shadow = await stored_shadow(runtime, proposal.id)
            assert shadow["outcome"] == "deny"
            assert [r["code"] for r in shadow["reasons"]] == ["policy_error"]
            assert shadow["policy_revision"] == draft.revision
            # The run failed over its limit, or was not waited for, or found every
            # worker still busy with an earlier shadow run.
            assert any(
                marker in shadow["error"]
                for marker in (code, "shadow decision skipped", "policy_sandbox_busy")
            ), shadow


async def test_activation_refuses_a_revision_that_decides_too_slowly(
    runtime: Runtime, agent: User, officer: User
) -> None:
    colleague = await make_user(runtime, "dave", "compliance")
    mention_id = await ingest_one(runtime, COMPLAINT)
    await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    before = await service(runtime).state()
    for condition, error in ((SLOW, PolicyTimeout), (HUGE, PolicyMemory)):
        draft, _ = await service(runtime).draft(
            files=with_decision(condition), data={}, description="slow", user=officer
        )
        assert draft.tests_passed is True
        started = time.monotonic()
        with pytest.raises(error, match="activation refused"):
            await service(runtime).activate(draft.revision, user=colleague)
        assert time.monotonic() - started < 5  # refused at the sandbox limit, not minutes
    assert (await service(runtime).state()).active_revision == before.active_revision
    assert runtime.engine.revision == before.active_revision


async def test_activation_refuses_a_revision_over_the_p99_budget(
    settings: Settings, agent: User, officer: User
) -> None:
    strict = msgspec.structs.replace(settings, activation_p99_ms=0.0001)
    rt = await Runtime.start(strict)
    try:
        colleague = await make_user(rt, "dave", "compliance")
        mention_id = await ingest_one(rt, COMPLAINT)
        await rt.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
        state = await service(rt).state()
        active = await service(rt).version(state.active_revision or "")
        data = {**active.data, "review_topics_note": "changed"}
        draft, _ = await service(rt).draft(
            files=dict(active.files), data=data, description="same rules", user=officer
        )
        with pytest.raises(PolicyTimeout, match=r"p99 .* over 1 stored inputs"):
            await service(rt).activate(draft.revision, user=colleague)
    finally:
        await rt.close()
