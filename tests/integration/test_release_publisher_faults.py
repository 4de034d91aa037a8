"""Publisher failures against a real local receiver (500s, timeouts, 429 with Retry-After):
the release backs off and delivers, or gives up as ``failed``; the channel never gets a
reply twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from connectors.webhook import WebhookPublisher
from gateway.domain.records import User
from gateway.pipeline.release import ReleaseWorker
from gateway.runtime import Runtime
from gateway.store import audit, proposals
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one
from tests.support.scripted_receiver import ScriptedReceiver

SECRET = b"release-faults-secret"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


async def propose_on_webhook(rt: Runtime, agent: User) -> int:
    mention_id = await ingest_one(rt, COMPLAINT, channel="webhook")
    proposal = await rt.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert proposal.status == "approved", proposal.reasons
    return proposal.id


async def release_until_settled(w: ReleaseWorker, rt: Runtime, proposal_id: int) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while loop.time() < deadline:
        if not await w.release_batch():
            await asyncio.sleep(0.02)
        async with rt.db.pool.acquire() as conn:
            status = (await proposals.get_proposal(conn, proposal_id)).status
        if status in ("released", "failed"):
            return status
    raise AssertionError("the release neither delivered nor failed in time")


async def test_500_timeout_and_429_back_off_then_deliver_once(
    runtime: Runtime, agent: User, client: httpx.AsyncClient
) -> None:
    proposal_id = await propose_on_webhook(runtime, agent)
    with ScriptedReceiver(["500", "slow", "429:1", "ok"], slow_s=1.0) as receiver:
        publisher = WebhookPublisher(receiver.url, SECRET, client, timeout_s=0.3)
        w = ReleaseWorker(runtime.db.pool, runtime.engine, {"webhook": publisher}, runtime.settings)
        status = await release_until_settled(w, runtime, proposal_id)
    assert status == "released"
    assert [answer for _, _, answer in receiver.calls] == ["500", "slow", "429:1", "ok"]
    assert len({key for _, key, _ in receiver.calls}) == 1  # one idempotency key throughout
    assert len(receiver.posted) == 1  # the channel has the reply once
    waited = receiver.calls[3][0] - receiver.calls[2][0]
    assert waited >= 0.95  # Retry-After: 1 was honoured
    async with runtime.db.pool.acquire() as conn:
        released = await proposals.get_proposal(conn, proposal_id)
        retries = await audit.list_events(conn, kind="delivery_retry")
        delivered = await audit.list_events(conn, kind="delivered")
    assert released.receipt is not None and released.receipt["duplicate"] is True
    assert [r.payload["rate_limited"] for r in retries] == [False, False, True]
    assert len(delivered) == 1
    assert (await runtime.verify_chain()).ok


async def test_a_channel_that_keeps_failing_ends_failed_after_the_attempts(
    runtime: Runtime, agent: User, client: httpx.AsyncClient
) -> None:
    proposal_id = await propose_on_webhook(runtime, agent)
    with ScriptedReceiver(["500"]) as receiver:
        # Every answer is an immediate 500: a generous timeout, so that on a loaded machine
        # a slow accept is not an attempt the receiver never saw (a ConnectTimeout).
        publisher = WebhookPublisher(receiver.url, SECRET, client, timeout_s=5.0)
        w = ReleaseWorker(runtime.db.pool, runtime.engine, {"webhook": publisher}, runtime.settings)
        status = await release_until_settled(w, runtime, proposal_id)
    assert status == "failed"
    assert len(receiver.calls) == runtime.settings.release_max_attempts
    assert receiver.posted == {}
    async with runtime.db.pool.acquire() as conn:
        failed = await audit.list_events(conn, kind="failed")
    assert len(failed) == 1 and "500" in failed[0].payload["error"]
