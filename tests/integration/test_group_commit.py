"""Group commit: each request is answered only after its batch committed, and a job
that fails fails alone."""

from __future__ import annotations

import asyncio

import asyncpg

from gateway.settings import Settings
from gateway.store.connection import Conn
from gateway.store.database import Database
from gateway.store.group_commit import GroupCommitter


async def test_batched_jobs_commit_together_and_fail_alone(
    settings: Settings, database_url: str
) -> None:
    db = await Database.open(settings)
    committer = GroupCommitter(db.pool)
    observer = await asyncpg.connect(database_url)
    observing = asyncio.Lock()
    try:

        async def insert(conn: Conn, name: str) -> str:
            await conn.execute("INSERT INTO source_cursors (source, cursor) VALUES ($1, 'x')", name)
            return name

        async def broken(conn: Conn) -> str:
            await conn.execute("INSERT INTO source_cursors (source, cursor) VALUES ('a', 'dup')")
            return "never"

        async def visible_when_answered(name: str) -> bool:
            await committer.submit(lambda conn: insert(conn, name))
            async with observing:  # one connection, one query at a time
                found = await observer.fetchval(
                    "SELECT count(*) FROM source_cursors WHERE source = $1", name
                )
            return bool(found == 1)

        names = [f"s{i}" for i in range(20)]
        results = await asyncio.gather(
            *(visible_when_answered(n) for n in ["a", *names]),
            committer.submit(broken),
            return_exceptions=True,
        )
        assert results[:-1] == [True] * 21  # committed before each answer
        assert isinstance(results[-1], asyncpg.UniqueViolationError)
        count = await observer.fetchval("SELECT count(*) FROM source_cursors")
        assert count == 21  # the failing job rolled back to its savepoint only
    finally:
        await observer.close()
        await committer.close()
        await db.close()


async def test_closing_fails_waiting_jobs_instead_of_hanging(settings: Settings) -> None:
    db = await Database.open(settings)
    committer = GroupCommitter(db.pool)
    await committer.close()
    try:

        async def noop(conn: Conn) -> int:
            return 1

        # A job submitted after close still runs (a new writer starts); none is lost.
        assert await asyncio.wait_for(committer.submit(noop), 5) == 1
    finally:
        await committer.close()
        await db.close()


async def test_concurrent_jobs_share_transactions(settings: Settings) -> None:
    db = await Database.open(settings)
    committer = GroupCommitter(db.pool)
    try:

        async def txid(conn: Conn) -> int:
            return int(await conn.fetchval("SELECT txid_current()"))

        txids = await asyncio.gather(*(committer.submit(txid) for _ in range(50)))
        assert len(set(txids)) < 50  # batched: fewer commits than requests
    finally:
        await committer.close()
        await db.close()
