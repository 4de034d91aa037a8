"""The path of one reply: decided, audited in one transaction, released after audit."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from connectors.contract import OutgoingReply, Receipt, TransientError
from gateway.domain.records import User
from gateway.pipeline.errors import StateConflict
from gateway.pipeline.release import ReleaseWorker
from gateway.runtime import Runtime
from gateway.store import audit
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user


async def kinds(rt: Runtime) -> list[str]:
    async with rt.db.pool.acquire() as conn:
        return [e.kind for e in await audit.list_events(conn, limit=1000)]


def worker(rt: Runtime, publishers: dict[str, object] | None = None) -> ReleaseWorker:
    return ReleaseWorker(
        rt.db.pool,
        rt.engine,
        publishers or rt.publishers,  # type: ignore[arg-type]
        rt.settings,
    )


async def test_allowed_reply_is_audited_then_released(runtime: Runtime, agent: User) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert proposal.status == "approved", proposal.reasons
    assert proposal.outcome == "allow"
    assert proposal.policy_revision.startswith("sha256:")

    assert await worker(runtime).release_one() is True
    async with runtime.db.pool.acquire() as conn:
        from gateway.store import proposals

        released = await proposals.get_proposal(conn, proposal.id)
    assert released.status == "released"
    assert released.receipt is not None and released.receipt["channel"] == "demo"
    sent = runtime.publishers["demo"].sent()  # type: ignore[attr-defined]
    assert [s.reply.idempotency_key for s in sent] == [proposal.idempotency_key]
    assert await kinds(runtime) == [
        "policy_activated",
        "mentions_ingested",
        "proposal_decided",
        "releasing",
        "delivered",
    ]
    assert (await runtime.verify_chain()).ok


class _AuditCheckingPublisher:
    """Records, at the moment of publishing, whether 'releasing' was already committed."""

    channel = "demo"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.seen: list[bool] = []

    async def publish(self, reply: OutgoingReply) -> Receipt:
        conn = await asyncpg.connect(self.dsn)  # another session: sees committed rows only
        try:
            committed = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM audit_events WHERE kind = 'releasing'"
                " AND payload ->> 'idempotency_key' = $1)",
                reply.idempotency_key,
            )
        finally:
            await conn.close()
        self.seen.append(bool(committed))
        return Receipt(channel="demo", external_id="x1", delivered_at="2026-01-01T00:00:00Z")


async def test_no_publish_before_releasing_event_committed(
    runtime: Runtime, agent: User, database_url: str
) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    publisher = _AuditCheckingPublisher(database_url)
    assert await worker(runtime, {"demo": publisher}).release_one()
    assert publisher.seen == [True]


async def test_opt_out_after_approval_withdraws_the_reply(
    runtime: Runtime, agent: User, officer: User
) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert proposal.status == "approved"
    await runtime.consent.add(
        channel="demo", handle="@DANA@social.example", reason="asked by phone", user=officer
    )

    assert await worker(runtime).release_one()
    async with runtime.db.pool.acquire() as conn:
        from gateway.store import proposals

        after = await proposals.get_proposal(conn, proposal.id)
        events = await audit.list_events(conn, kind="release_withdrawn")
    assert after.status == "withdrawn"
    assert runtime.publishers["demo"].sent() == []  # type: ignore[attr-defined]
    assert [r["code"] for r in events[0].payload["decision"]["reasons"]] == ["opted_out"]
    assert "releasing" not in await kinds(runtime)


async def test_opt_out_requested_in_a_mention_blocks_replies(runtime: Runtime, agent: User) -> None:
    await ingest_one(runtime, "@acme stop replying to me", handle="@erin@social.example")
    mention_id = await ingest_one(
        runtime, "@acme why is my refund still not here?", handle="@erin@social.example"
    )
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert proposal.status == "denied"
    assert "opted_out" in [r["code"] for r in proposal.reasons]


async def test_claim_by_another_agent_blocks_proposals(runtime: Runtime, agent: User) -> None:
    other = await make_user(runtime, "bob", "agent")
    mention_id = await ingest_one(runtime, COMPLAINT)
    await runtime.claims.claim(mention_id, user=other)
    with pytest.raises(StateConflict, match="claimed by bob"):
        await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    # the holder may propose
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=other)
    assert proposal.status == "approved"


async def test_second_reply_in_unanswered_thread_is_capped(runtime: Runtime, agent: User) -> None:
    first = await ingest_one(runtime, COMPLAINT, thread_id="t-1")
    second = await ingest_one(runtime, "@acme also the box was damaged", thread_id="t-1")
    p1 = await runtime.decider.propose(mention_id=first, text=GOOD_REPLY, user=agent)
    p2 = await runtime.decider.propose(
        mention_id=second, text="Sorry about the box too.", user=agent
    )
    assert p1.status == "approved"
    assert p2.status == "denied" and "frequency_cap" in [r["code"] for r in p2.reasons]


class _FlakyPublisher:
    channel = "demo"

    def __init__(self) -> None:
        self.calls = 0

    async def publish(self, reply: OutgoingReply) -> Receipt:
        self.calls += 1
        raise TransientError("channel unavailable")


async def test_transient_failures_retry_with_backoff_then_fail(
    runtime: Runtime, agent: User
) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    flaky = _FlakyPublisher()
    w = worker(runtime, {"demo": flaky})
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:
        if not await w.release_one():
            async with runtime.db.pool.acquire() as conn:
                from gateway.store import proposals

                if (await proposals.get_proposal(conn, proposal.id)).status == "failed":
                    break
            await asyncio.sleep(0.05)
    assert flaky.calls == runtime.settings.release_max_attempts
    history = await kinds(runtime)
    assert history.count("releasing") == runtime.settings.release_max_attempts
    assert history.count("delivery_retry") == runtime.settings.release_max_attempts - 1
    assert history[-1] == "failed"


async def test_crash_after_publish_resumes_without_double_publish(
    runtime: Runtime, agent: User
) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    w = worker(runtime)
    demo = runtime.publishers["demo"]
    # The first attempt commits 'releasing' and publishes, then "dies" before recording it.
    now = datetime.now(UTC)
    async with runtime.db.pool.acquire() as conn, conn.transaction():
        from gateway.store import outbox

        item = await outbox.claim_due(conn, now=now)
        assert item is not None
        prepared = await w._prepare(conn, item, now)
    assert prepared is not None
    await demo.publish(prepared.reply)
    # Nothing is due until the lease runs out; then another worker resumes.
    assert await w.release_one() is False
    async with runtime.db.pool.acquire() as conn:
        await conn.execute("RESET ROLE")
        await conn.execute("UPDATE outbox SET next_attempt_at = now() - interval '1 second'")
        await conn.execute("SET ROLE gateway_app")
    assert await w.release_one() is True
    sent = demo.sent()  # type: ignore[attr-defined]
    assert len(sent) == 1 and sent[0].reply.idempotency_key == proposal.idempotency_key
    async with runtime.db.pool.acquire() as conn:
        delivered = await audit.list_events(conn, kind="delivered")
    assert len(delivered) == 1 and delivered[0].payload["receipt"]["duplicate"] is True
    assert (await kinds(runtime)).count("releasing") == 2
    assert timedelta(0) <= datetime.now(UTC) - now


class _RateLimitedPublisher:
    """Answers 429 with Retry-After more times than the attempt limit, then accepts."""

    channel = "demo"

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.calls: list[float] = []

    async def publish(self, reply: OutgoingReply) -> Receipt:
        self.calls.append(asyncio.get_running_loop().time())
        if len(self.calls) <= self.refusals:
            raise TransientError("429 Too Many Requests", retry_after=0.1)
        return Receipt(channel="demo", external_id="ok-1", delivered_at="2026-01-01T00:00:00Z")


async def test_rate_limited_release_waits_instead_of_failing(runtime: Runtime, agent: User) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    refusals = runtime.settings.release_max_attempts + 2
    publisher = _RateLimitedPublisher(refusals)
    w = worker(runtime, {"demo": publisher})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    status = ""
    while loop.time() < deadline and status != "released":
        if not await w.release_one():
            await asyncio.sleep(0.02)
        async with runtime.db.pool.acquire() as conn:
            from gateway.store import proposals

            status = (await proposals.get_proposal(conn, proposal.id)).status
    assert status == "released"
    assert len(publisher.calls) == refusals + 1
    gaps = [b - a for a, b in itertools.pairwise(publisher.calls)]
    assert min(gaps) >= 0.09  # waited for Retry-After every time, never spun
    assert "failed" not in await kinds(runtime)
