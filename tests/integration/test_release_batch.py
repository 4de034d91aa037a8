"""The release worker per batch: one claim, every ``releasing`` event committed before the
first publish, publishes concurrently within the channel's concurrency and rate budget."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime

import asyncpg
import msgspec

from connectors.contract import OutgoingReply, PublishBudget, Publisher, Receipt
from gateway.domain.records import User
from gateway.pipeline.release import ReleaseWorker
from gateway.runtime import Runtime
from gateway.store import audit, outbox, proposals
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one


def worker(rt: Runtime, publishers: Mapping[str, Publisher]) -> ReleaseWorker:
    return ReleaseWorker(rt.db.pool, rt.engine, publishers, rt.settings)


async def approved(rt: Runtime, agent: User, n: int) -> list[int]:
    ids = []
    for i in range(n):
        mention_id = await ingest_one(rt, COMPLAINT, handle=f"@batch{i}@social.example")
        proposal = await rt.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
        assert proposal.status == "approved", proposal.reasons
        ids.append(proposal.id)
    return ids


class _Watching:
    """Counts, at each publish, the ``releasing`` events already committed (read from its
    own connection), and how many publishes are in flight at once."""

    channel = "demo"

    def __init__(self, dsn: str, budget: PublishBudget | None = None, hold_s: float = 0.05):
        self.dsn = dsn
        self.budget = budget or PublishBudget()
        self.hold_s = hold_s
        self.committed_seen: list[int] = []
        self.keys: list[str] = []
        self.replies: list[OutgoingReply] = []
        self.own_event_committed: list[bool] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def publish(self, reply: OutgoingReply) -> Receipt:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            conn = await asyncpg.connect(self.dsn)
            try:
                self.committed_seen.append(
                    await conn.fetchval("SELECT count(*) FROM audit_events WHERE kind='releasing'")
                )
                own = await conn.fetchval(
                    "SELECT count(*) FROM audit_events WHERE kind = 'releasing' AND subject = $1",
                    f"proposal:{reply.metadata['proposal_id']}",
                )
                self.own_event_committed.append(own > 0)
            finally:
                await conn.close()
            await asyncio.sleep(self.hold_s)
            self.keys.append(reply.idempotency_key)
            self.replies.append(reply)
            return Receipt(
                channel="demo",
                external_id=f"x-{reply.idempotency_key}",
                delivered_at=datetime.now(UTC).isoformat(),
            )
        finally:
            self.in_flight -= 1


async def test_a_batch_commits_every_releasing_event_before_the_first_publish(
    runtime: Runtime, agent: User
) -> None:
    ids = await approved(runtime, agent, 6)
    publisher = _Watching(runtime.db.dsn)
    assert await worker(runtime, {"demo": publisher}).release_batch() == 6
    assert publisher.committed_seen == [6] * 6  # all six, already at the first publish
    assert publisher.max_in_flight > 1  # concurrently, not one after another
    async with runtime.db.pool.acquire() as conn:
        statuses = {(await proposals.get_proposal(conn, i)).status for i in ids}
        delivered = await audit.list_events(conn, kind="delivered")
        assert await outbox.pending_count(conn) == 0
    assert statuses == {"released"}
    assert len(delivered) == 6 and len(set(publisher.keys)) == 6
    assert (await runtime.verify_chain()).ok


async def test_publishes_stay_within_the_channel_concurrency(runtime: Runtime, agent: User) -> None:
    await approved(runtime, agent, 8)
    publisher = _Watching(runtime.db.dsn, PublishBudget(concurrency=3), hold_s=0.1)
    assert await worker(runtime, {"demo": publisher}).release_batch() == 8
    assert publisher.max_in_flight == 3
    assert len(publisher.keys) == 8


async def test_rows_over_the_rate_budget_wait_in_the_outbox_unpublished(
    runtime: Runtime, agent: User
) -> None:
    ids = await approved(runtime, agent, 5)
    publisher = _Watching(runtime.db.dsn, PublishBudget(requests=2, window_s=60.0))
    w = worker(runtime, {"demo": publisher})
    assert await w.release_batch() == 5
    assert len(publisher.keys) == 2
    assert await w.release_batch() == 0  # the other three are not due before the window
    async with runtime.db.pool.acquire() as conn:
        statuses = [(await proposals.get_proposal(conn, i)).status for i in ids]
        rows = await conn.fetch(
            "SELECT state, attempts, next_attempt_at > now() + interval '50 seconds' AS later"
            " FROM outbox WHERE state <> 'done'"
        )
        releasing = await audit.list_events(conn, kind="releasing")
    assert sorted(statuses) == ["approved"] * 3 + ["released"] * 2
    assert [(r["state"], r["attempts"], r["later"]) for r in rows] == [("queued", 0, True)] * 3
    assert len(releasing) == 2  # nothing about the waiting three was claimed as releasing


async def test_one_claim_takes_at_most_the_batch_size(runtime: Runtime, agent: User) -> None:
    await approved(runtime, agent, 3)
    publisher = _Watching(runtime.db.dsn, hold_s=0)
    w = worker(runtime, {"demo": publisher})
    assert await w.release_batch(limit=2) == 2
    assert await w.release_batch(limit=2) == 1
    assert await w.release_batch(limit=2) == 0
    assert len(publisher.keys) == 3


async def test_each_reply_of_a_batch_is_re_checked_on_its_own_fresh_state(
    runtime: Runtime, agent: User, officer: User
) -> None:
    ids = await approved(runtime, agent, 4)
    await runtime.consent.add(
        channel="demo", handle="@batch2@social.example", reason="asked by phone", user=officer
    )
    publisher = _Watching(runtime.db.dsn, hold_s=0)
    assert await worker(runtime, {"demo": publisher}).release_batch() == 4
    async with runtime.db.pool.acquire() as conn:
        stored = [await proposals.get_proposal(conn, i) for i in ids]
        authors = {
            p.id: await conn.fetchval(
                "SELECT author_handle FROM mentions WHERE id = $1", p.mention_id
            )
            for p in stored
        }
        withdrawn = await audit.list_events(conn, kind="release_withdrawn")
    assert [p.status for p in stored] == ["released", "released", "withdrawn", "released"]
    assert [e.payload["proposal_id"] for e in withdrawn] == [ids[2]]
    assert [r["code"] for r in withdrawn[0].payload["decision"]["reasons"]] == ["opted_out"]
    # The batch's reads stay with their replies: each went to its own mention's author.
    sent = {r.metadata["proposal_id"]: r.recipient for r in publisher.replies}
    assert sent == {i: authors[i] for i in (ids[0], ids[1], ids[3])}
    assert (await runtime.verify_chain()).ok


async def test_the_running_worker_publishes_each_reply_after_its_own_releasing_event(
    runtime: Runtime, agent: User
) -> None:
    """run() overlaps claiming the next batch with publishing the current one; still every
    publish sees its reply's ``releasing`` event committed, one batch is published at a
    time, and each reply is published once."""
    ids = await approved(runtime, agent, 7)
    publisher = _Watching(runtime.db.dsn, hold_s=0.02)
    settings = msgspec.structs.replace(runtime.settings, release_batch_size=2)
    w = ReleaseWorker(runtime.db.pool, runtime.engine, {"demo": publisher}, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(w.run(stop))
    try:
        for _ in range(600):  # 30 s at most
            if len(publisher.keys) == 7 and not await _pending(runtime):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    assert publisher.own_event_committed == [True] * 7
    assert publisher.max_in_flight <= 2
    assert sorted(publisher.keys) == sorted(set(publisher.keys)) and len(publisher.keys) == 7
    async with runtime.db.pool.acquire() as conn:
        statuses = {(await proposals.get_proposal(conn, i)).status for i in ids}
    assert statuses == {"released"}
    assert (await runtime.verify_chain()).ok


async def _pending(rt: Runtime) -> int:
    async with rt.db.pool.acquire() as conn:
        return await outbox.pending_count(conn)


async def test_a_slow_batch_does_not_use_up_the_lease_of_the_next(
    runtime: Runtime, agent: User
) -> None:
    """The next batch is claimed (its lease starts) only once the current one's publishes
    are done, and its publishes end within half a lease of its own claim: a channel that
    takes most of that time for one batch does not get the next one abandoned."""
    ids = await approved(runtime, agent, 2)
    publisher = _Watching(runtime.db.dsn, hold_s=2.0)
    settings = msgspec.structs.replace(
        runtime.settings, release_batch_size=1, release_lease_s=6.0, release_backoff_s=60.0
    )
    w = ReleaseWorker(runtime.db.pool, runtime.engine, {"demo": publisher}, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(w.run(stop))
    try:
        for _ in range(300):  # 15 s at most
            if len(publisher.keys) == 2 and not await _pending(runtime):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    async with runtime.db.pool.acquire() as conn:
        statuses = [(await proposals.get_proposal(conn, i)).status for i in ids]
        retries = await audit.list_events(conn, kind="delivery_retry")
    assert statuses == ["released", "released"]
    assert retries == []  # neither publish was cut off by the lease
    assert publisher.own_event_committed == [True, True]
