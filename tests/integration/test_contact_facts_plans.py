"""A decision's reads stay index lookups however many proposals and subjects the channel
has, even on planner statistics taken while the tables were nearly empty (a new
deployment, any benchmark: autovacuum refreshes them only every minute or so).

Before, on such statistics the planner served the customer's contact counts from the
thread index (filtering every approved proposal of the channel) and read every subject
for each job: about 0.6 ms per decision on 2,000 proposals, growing with the table. The
check is what the statements read (the transaction's index statistics), not a time."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from gateway.runtime import Runtime
from gateway.store import decision_batch, proposals
from gateway.store.connection import Conn
from tests.integration.support import COMPLAINT, ingest_one

MANY = 2_000


@pytest.fixture
async def stale_statistics(runtime: Runtime, database_url: str) -> int:
    """Statistics of nearly empty tables, then MANY approved proposals and subjects on the
    channel of the mention returned."""
    mention_id = await ingest_one(runtime, COMPLAINT, handle="@first@social.example")
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute("ANALYZE proposals; ANALYZE subjects; ANALYZE mentions")
        channel = await owner.fetchval("SELECT channel FROM mentions WHERE id = $1", mention_id)
        await owner.execute(
            "INSERT INTO proposals (mention_id, channel, customer_handle, thread_id, agent, text,"
            " status, outcome, reasons, policy_revision, approved_at, idempotency_key)"
            " SELECT $1, $2, 'other' || n || '@social.example', 'thread-' || n, 'alice', 'hi',"
            " 'approved', 'allow', '[]', 'r1', now() - interval '1 hour', 'bulk-' || n"
            " FROM generate_series(1, $3) AS n",
            mention_id,
            channel,
            MANY,
        )
        await owner.execute(
            "INSERT INTO subjects (id, channel, handle, key)"
            " SELECT gen_random_uuid(), $1, 'other' || n || '@social.example',"
            " decode(md5(n::text) || md5(n::text), 'hex') FROM generate_series(1, $2) AS n",
            channel,
            MANY,
        )
    finally:
        await owner.close()
    return await ingest_one(runtime, COMPLAINT, handle="@new@social.example")


async def _index_entries_read(conn: Conn) -> int:
    """Rows and index entries read so far in this transaction (sequential and index
    scans) on the tables a decision reads."""
    value = await conn.fetchval(
        "SELECT coalesce(sum(pg_stat_get_xact_tuples_returned(oid)), 0) FROM pg_class"
        " WHERE oid IN ('proposals'::regclass, 'subjects'::regclass) OR oid IN"
        " (SELECT indexrelid FROM pg_index"
        "  WHERE indrelid IN ('proposals'::regclass, 'subjects'::regclass))"
    )
    return int(value)


async def test_the_batch_read_looks_up_the_customer_not_the_channel(
    runtime: Runtime, stale_statistics: int
) -> None:
    async with runtime.db.pool.acquire() as conn, conn.transaction():
        before = await _index_entries_read(conn)
        now = datetime.now(UTC)
        read = await decision_batch.prepare_batch(conn, [stale_statistics], [None], as_of=now)
        read_entries = await _index_entries_read(conn) - before
    [prepared] = read.jobs
    assert prepared.facts is not None and prepared.facts.contacts_30d == 0
    assert read_entries < 50, f"{read_entries} index entries read for one decision"


async def test_the_first_read_looks_up_the_customer_not_the_channel(
    runtime: Runtime, stale_statistics: int
) -> None:
    async with runtime.db.pool.acquire() as conn, conn.transaction():
        before = await _index_entries_read(conn)
        read = await proposals.mention_facts(conn, stale_statistics, now=datetime.now(UTC))
        read_entries = await _index_entries_read(conn) - before
    assert read.facts.contacts_30d == 0
    assert read_entries < 50, f"{read_entries} index entries read for one decision"
