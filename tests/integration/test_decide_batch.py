"""The batched decision writer: a proposal refused by validation inside the batch (its
mention was claimed by another agent after the decision) fails alone, and the rest of its
batch is written, in one transaction, with a chain that verifies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from gateway.domain.records import User
from gateway.pipeline.errors import StateConflict
from gateway.runtime import Runtime
from gateway.store import audit, decision_batch, proposals, subjects
from gateway.store.connection import Conn
from gateway.store.errors import NotFound
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user


async def _until(check: object, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + 20.0
    while asyncio.get_running_loop().time() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting until {what}")


async def test_a_refused_job_does_not_poison_its_batch(
    runtime: Runtime, agent: User, database_url: str
) -> None:
    bob = await make_user(runtime, "bob", "agent")
    first = await ingest_one(runtime, COMPLAINT, handle="@first@social.example")
    batch = [await ingest_one(runtime, COMPLAINT, handle=f"@c{n}@social.example") for n in range(5)]
    taken = batch[2]
    committer = runtime.committer
    assert committer is not None
    blocker = await asyncpg.connect(database_url)
    try:
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute("SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE")
        occupying = asyncio.create_task(
            runtime.decider.propose(mention_id=first, text=GOOD_REPLY, user=agent)
        )

        async def writer_waits() -> bool:
            return bool(
                await blocker.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
                )
            )

        await _until(writer_waits, "the first batch waits for the chain head")
        proposing = [
            asyncio.create_task(runtime.decider.propose(mention_id=m, text=GOOD_REPLY, user=agent))
            for m in batch
        ]

        async def all_queued() -> bool:
            return committer.waiting == len(batch)

        await _until(all_queued, "every job of the second batch is queued")
        # Decided already; now another agent takes one of the mentions.
        await runtime.claims.claim(taken, user=bob)
        await tx.rollback()
        await occupying
        results = await asyncio.gather(*proposing, return_exceptions=True)
    finally:
        await blocker.close()
    refused = results[batch.index(taken)]
    assert isinstance(refused, StateConflict)
    assert "claimed by bob" in str(refused)
    written = [r for r in results if not isinstance(r, BaseException)]
    assert len(written) == len(batch) - 1
    assert all(p.status == "approved" for p in written), written
    async with runtime.db.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT mention_id, xmin::text AS tx FROM proposals WHERE mention_id = ANY($1)",
            batch,
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM audit_events WHERE kind = 'proposal_decided'"
        )
        queued = await conn.fetchval("SELECT count(*) FROM outbox")
    assert sorted(r["mention_id"] for r in rows) == sorted(m for m in batch if m != taken)
    assert len({r["tx"] for r in rows}) == 1  # the rest of the batch: one transaction
    assert events == len(batch)  # the first proposal's and the batch's four; none for `taken`
    assert queued == len(batch)
    verdict = await runtime.verify_chain()
    assert verdict.ok, verdict


@pytest.mark.parametrize("n", [1, 3])
async def test_decisions_of_one_customer_in_one_batch_count_each_other(
    runtime: Runtime, agent: User, n: int
) -> None:
    """Earlier jobs of the batch are contacts for later ones (they are not committed yet)."""
    mentions = [
        await ingest_one(runtime, COMPLAINT, handle="@same@social.example") for _ in range(n + 1)
    ]
    results = await asyncio.gather(
        *(runtime.decider.propose(mention_id=m, text=GOOD_REPLY, user=agent) for m in mentions)
    )
    async with runtime.db.pool.acquire() as conn:
        inputs = await conn.fetch(
            "SELECT id, policy_input -> 'customer' AS customer FROM proposals ORDER BY id"
        )
    approved_before = 0
    for row, proposal in zip(inputs, sorted(results, key=lambda p: p.id), strict=True):
        assert row["customer"]["contacts_24h"] == approved_before
        approved_before += proposal.status == "approved"


async def test_a_batch_links_onto_an_event_appended_while_it_waited(
    runtime: Runtime, agent: User, database_url: str
) -> None:
    """The writer reads the chain head without locking it and locks it only to write. If
    another writer appends meanwhile (here: holding the head's lock while the batch waits
    for it), the batch writes nothing on top of the old head: it links its events onto
    the new one and writes them then, in the same transaction."""
    mention = await ingest_one(runtime, COMPLAINT, handle="@waits@social.example")
    other = await asyncpg.connect(database_url)
    try:
        before = await other.fetchval("SELECT seq FROM audit_chain_head WHERE id = 1")
        tx = other.transaction()
        await tx.start()
        await other.execute("SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE")
        proposing = asyncio.create_task(
            runtime.decider.propose(mention_id=mention, text=GOOD_REPLY, user=agent)
        )

        async def writer_waits() -> bool:
            return bool(
                await other.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
                )
            )

        await _until(writer_waits, "the batch waits for the chain head")
        [appended] = await audit.append_many(
            other, [audit.NewEvent(kind="note", actor="auditor", subject="x", payload={"n": 1})]
        )
        await tx.commit()
        proposal = await proposing
    finally:
        await other.close()
    assert appended.seq == before + 1
    assert proposal.audit_seq == before + 2
    async with runtime.db.pool.acquire() as conn:
        decided = await conn.fetchrow(
            "SELECT prev_hash, kind FROM audit_events WHERE seq = $1", proposal.audit_seq
        )
        stored = await conn.fetchval("SELECT audit_seq FROM proposals WHERE id = $1", proposal.id)
    assert decided["kind"] == "proposal_decided"
    assert decided["prev_hash"] == appended.hash
    assert stored == proposal.audit_seq
    verdict = await runtime.verify_chain()
    assert verdict.ok, verdict


@pytest.mark.parametrize(
    "handle",
    [
        "@plain@social.example",
        "@Zoë@social.example",
        "@\uff46\uff55\uff4c\uff4c@social.example",
        "@🦊@x.example",
    ],
)
async def test_the_batch_holds_the_locks_every_other_contact_decision_takes(
    runtime: Runtime, database_url: str, handle: str
) -> None:
    """prepare_decisions computes the contact lock keys in SQL; a review's approval or a
    release takes them in Python (contact_lock_keys). Both must name the same locks, or
    the two would not serialise and a cap could be passed: while a batch is prepared,
    every key Python names for its customer and thread is held, and so is the mention."""
    mention_id = await ingest_one(runtime, COMPLAINT, handle=handle)
    other = await asyncpg.connect(database_url)
    try:
        async with runtime.db.pool.acquire() as conn, conn.transaction():
            now = datetime.now(UTC)
            read = await decision_batch.prepare_batch(conn, [mention_id], [None], as_of=now)
            [prepared] = read.jobs
            mention = prepared.mention
            assert mention is not None and mention.id == mention_id
            keys = proposals.contact_lock_keys(
                channel=mention.channel, handle=mention.customer, thread_id=mention.thread_id
            )
            free = [
                await other.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", key)
                for key in keys
            ]
            with pytest.raises(asyncpg.exceptions.LockNotAvailableError):
                await other.execute(
                    "SELECT 1 FROM mentions WHERE id = $1 FOR UPDATE NOWAIT", mention_id
                )
            assert prepared.subject is not None
        await other.execute("SELECT pg_advisory_unlock_all()")
        async with runtime.db.pool.acquire() as conn:
            subject = await subjects.subject_key(
                conn, channel=mention.channel, customer=mention.customer
            )
    finally:
        await other.close()
    assert free == [False, False], keys
    assert subject == prepared.subject  # the customer's one subject, created by the batch


async def test_a_batch_of_missing_and_repeated_mentions(runtime: Runtime) -> None:
    """A job whose mention does not exist reads nothing (its job fails alone); two jobs on
    one mention read it twice and get one subject, two proposal ids."""
    mention_id = await ingest_one(runtime, COMPLAINT, handle="@twice@social.example")
    async with runtime.db.pool.acquire() as conn, conn.transaction():
        now = datetime.now(UTC)
        read = await decision_batch.prepare_batch(
            conn, [mention_id, 10**12, mention_id], [None, None, None], as_of=now
        )
    first, missing, again = read.jobs
    assert missing.mention is None and missing.facts is None and missing.subject is None
    assert first.mention == again.mention and first.mention is not None
    assert first.subject == again.subject and first.subject is not None
    assert len({first.proposal_id, missing.proposal_id, again.proposal_id}) == 3


async def test_a_lone_proposal_is_decided_once_in_the_writer(
    runtime: Runtime, agent: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing else in progress there is nothing to overlap with: the proposal skips
    the snapshot read and is decided once, by the writer, on the facts it read under the
    locks. Proposals that arrive together are decided first (on a snapshot), so their
    evaluations overlap with the writer's batches."""
    reads: list[int] = []
    real_read = proposals.mention_facts

    async def counting_read(conn: Conn, mention_id: int, *, now: datetime) -> object:
        reads.append(mention_id)
        return await real_read(conn, mention_id, now=now)

    monkeypatch.setattr(proposals, "mention_facts", counting_read)
    evaluations: list[object] = []
    engine = runtime.decider.engine
    real_decide = engine.decide

    async def counting_decide(policy_input: object) -> object:
        evaluations.append(policy_input)
        return await real_decide(policy_input)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "decide", counting_decide)
    alone = await ingest_one(runtime, COMPLAINT, handle="@alone@social.example")
    proposal = await runtime.decider.propose(mention_id=alone, text=GOOD_REPLY, user=agent)
    assert proposal.status == "approved"
    assert reads == [] and len(evaluations) == 1

    together = [
        await ingest_one(runtime, COMPLAINT, handle=f"@t{n}@social.example") for n in range(4)
    ]
    reads.clear()
    written = await asyncio.gather(
        *(runtime.decider.propose(mention_id=m, text=GOOD_REPLY, user=agent) for m in together)
    )
    assert all(p.status == "approved" for p in written)
    assert len(reads) >= len(together) - 1  # all but perhaps the first were decided first
    verdict = await runtime.verify_chain()
    assert verdict.ok, verdict


async def test_a_lone_proposal_on_a_claimed_or_missing_mention_is_refused(
    runtime: Runtime, agent: User
) -> None:
    """Decided in the writer, the claim and the mention's existence are checked there."""
    bob = await make_user(runtime, "bob", "agent")
    taken = await ingest_one(runtime, COMPLAINT, handle="@taken@social.example")
    await runtime.claims.claim(taken, user=bob)
    with pytest.raises(StateConflict, match="claimed by bob"):
        await runtime.decider.propose(mention_id=taken, text=GOOD_REPLY, user=agent)
    with pytest.raises(NotFound, match="does not exist"):
        await runtime.decider.propose(mention_id=10**12, text=GOOD_REPLY, user=agent)
    async with runtime.db.pool.acquire() as conn:
        written = await conn.fetchval("SELECT count(*) FROM proposals")
    assert written == 0
