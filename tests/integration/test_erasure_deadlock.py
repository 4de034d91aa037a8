"""Erasure survives being PostgreSQL's deadlock victim.

Erasure updates all of a customer's rows, then appends to the audit chain. The release
worker's delivery step appends to the chain, then updates the proposal. Running at the same
time, the two wait for each other; PostgreSQL aborts one. The erasure is run again instead
of answering 500 (seen once in the e2e suite under load).
"""

from __future__ import annotations

import asyncio

import asyncpg

from gateway.audit.subjects import erase_subject
from gateway.domain.records import User
from gateway.runtime import Runtime
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one


async def _wait_for_lock_wait(conn: asyncpg.Connection) -> None:
    """Until another backend of this database waits on a lock (20 s at most)."""
    deadline = asyncio.get_running_loop().time() + 20.0
    while asyncio.get_running_loop().time() < deadline:
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the erasure never waited for the chain head")


async def test_erasure_is_retried_when_chosen_as_deadlock_victim(
    runtime: Runtime, agent: User, officer: User, database_url: str
) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT, handle="@sam@social.example")
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    delivery = await asyncpg.connect(database_url)  # plays the release worker's delivery step
    watcher = await asyncpg.connect(database_url)
    try:
        tx = delivery.transaction()
        await tx.start()
        await delivery.execute("SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE")

        async def erase() -> object:
            async with runtime.db.pool.acquire() as conn:
                return await erase_subject(
                    conn,
                    channel="demo",
                    handle="sam@social.example",
                    by=officer.name,
                    keys=runtime.suppression_keys,
                )

        erasing = asyncio.create_task(erase())
        await _wait_for_lock_wait(watcher)  # erasure holds Sam's rows, waits for the head
        # The delivery now updates Sam's proposal: a cycle; the erasure waited first, so its
        # deadlock check fires first and it is the victim.
        await asyncio.wait_for(
            delivery.execute("UPDATE proposals SET updated_at = now() WHERE id = $1", proposal.id),
            30,
        )
        await tx.commit()
        erasure = await asyncio.wait_for(erasing, 30)
    finally:
        await delivery.close()
        await watcher.close()
    assert erasure.proposals_scrubbed == 1  # type: ignore[attr-defined]
    async with runtime.db.pool.acquire() as conn:
        kinds = [r["kind"] for r in await conn.fetch("SELECT kind FROM audit_events")]
        text = await conn.fetchval("SELECT text FROM proposals WHERE id = $1", proposal.id)
    assert kinds.count("subject_erased") == 1
    assert text == ""
