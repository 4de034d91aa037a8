"""Group commit: each request is answered only after its batch committed, a job refused
by validation fails alone without a savepoint, and a job the database refuses fails alone
(the batch is tried again job by job)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg

from gateway.settings import Settings
from gateway.store.connection import Conn
from gateway.store.database import Database
from gateway.store.errors import Unavailable
from gateway.store.group_commit import GroupCommitter


class Refused(Exception):
    pass


async def insert_valid(conn: Conn, names: list[str]) -> Sequence[str | Exception]:
    """One statement for every valid job; names starting with '!' fail validation."""
    valid = [n for n in names if not n.startswith("!")]
    await conn.execute(
        "INSERT INTO source_cursors (source, cursor) SELECT n, 'x' FROM unnest($1::text[]) n",
        valid,
    )
    return [Refused(n) if n.startswith("!") else n for n in names]


async def test_batched_jobs_commit_together_and_a_refused_job_fails_alone(
    settings: Settings, database_url: str
) -> None:
    db = await Database.open(settings)
    committer: GroupCommitter[str, str] = GroupCommitter(db.pool, insert_valid)
    observer = await asyncpg.connect(database_url)
    observing = asyncio.Lock()
    try:

        async def visible_when_answered(name: str) -> bool:
            await committer.submit(name)
            async with observing:  # one connection, one query at a time
                found = await observer.fetchval(
                    "SELECT count(*) FROM source_cursors WHERE source = $1", name
                )
            return bool(found == 1)

        names = [f"s{i}" for i in range(20)]
        results = await asyncio.gather(
            *(visible_when_answered(n) for n in names),
            committer.submit("!bad"),
            return_exceptions=True,
        )
        assert results[:-1] == [True] * 20  # committed before each answer
        assert isinstance(results[-1], Refused)
        assert await observer.fetchval("SELECT count(*) FROM source_cursors") == 20
    finally:
        await observer.close()
        await committer.close()
        await db.close()


async def test_a_job_the_database_refuses_fails_alone(settings: Settings) -> None:
    db = await Database.open(settings)
    batches: list[list[str]] = []

    async def insert(conn: Conn, names: list[str]) -> Sequence[str | Exception]:
        batches.append(list(names))
        await conn.execute(
            "INSERT INTO source_cursors (source, cursor) SELECT n, 'x' FROM unnest($1::text[]) n",
            names,
        )
        return names

    committer: GroupCommitter[str, str] = GroupCommitter(db.pool, insert)
    try:
        assert await committer.submit("taken") == "taken"
        results = await asyncio.gather(
            *(committer.submit(n) for n in ["a", "b", "taken", "c"]), return_exceptions=True
        )
        assert results[:2] == ["a", "b"] and results[3] == "c"
        assert isinstance(results[2], Unavailable)
        assert isinstance(results[2].__cause__, asyncpg.UniqueViolationError)
        assert any(len(b) > 1 for b in batches[1:])  # they did share a batch first
        async with db.pool.acquire() as conn:
            stored = await conn.fetch("SELECT source FROM source_cursors ORDER BY source")
        assert [r["source"] for r in stored] == ["a", "b", "c", "taken"]
    finally:
        await committer.close()
        await db.close()


async def test_closing_fails_waiting_jobs_instead_of_hanging(settings: Settings) -> None:
    db = await Database.open(settings)

    async def ones(conn: Conn, jobs: list[int]) -> Sequence[int | Exception]:
        return [1 for _ in jobs]

    committer: GroupCommitter[int, int] = GroupCommitter(db.pool, ones)
    await committer.close()
    try:
        # A job submitted after close still runs (a new writer starts); none is lost.
        assert await asyncio.wait_for(committer.submit(0), 5) == 1
    finally:
        await committer.close()
        await db.close()


async def test_concurrent_jobs_share_transactions(settings: Settings) -> None:
    db = await Database.open(settings)

    async def txids(conn: Conn, jobs: list[int]) -> Sequence[int | Exception]:
        txid = int(await conn.fetchval("SELECT txid_current()"))
        return [txid for _ in jobs]

    committer: GroupCommitter[int, int] = GroupCommitter(db.pool, txids)
    try:
        seen = await asyncio.gather(*(committer.submit(n) for n in range(50)))
        assert len(set(seen)) < 50  # batched: fewer commits than requests
    finally:
        await committer.close()
        await db.close()
