"""Migration 0009 gives rows stored before it the canonical identity, merges spellings that
were one customer, and is idempotent."""

from __future__ import annotations

import json
import uuid

import asyncpg

from gateway.store.identity_backfill import backfill_identities
from gateway.store.migrate import apply_migrations
from tests.conftest import with_database

BOB_DID = "did:plc:bobbobbobbobbobbobbobbob"


async def _old_database(pg_cluster: str) -> str:
    name = f"egw_mig_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_cluster)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return with_database(pg_cluster, name)


async def _mention(
    conn: asyncpg.Connection, channel: str, handle: str, data: dict[str, str] | None = None
) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO mentions (channel, external_id, author_handle, text, created_at,"
            " thread_id, intent, sentiment_compound, sentiment_pos, sentiment_neu,"
            " sentiment_neg, addressed, channel_data)"
            " VALUES ($1, $2, $3, 'hi', now(), 't', 'other', 0, 0, 1, 0, true, $4::jsonb)"
            " RETURNING id",
            channel,
            uuid.uuid4().hex,
            handle,
            json.dumps(data or {}),
        )
    )


async def test_migration_normalises_old_rows(pg_cluster: str) -> None:
    dsn = await _old_database(pg_cluster)
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn, stop_before="0009_identity.sql")
        zoe = await _mention(conn, "mastodon", "@Zoe@social.example\u200b")
        local = await _mention(conn, "mastodon", "@zoe", {"instance": "social.example"})
        bob = await _mention(conn, "bluesky", "@bob.bsky.social", {"did": BOB_DID})
        demo = await _mention(conn, "demo", "\uff20Dana\uff20social.example")
        await conn.execute(
            "INSERT INTO proposals (mention_id, channel, customer_handle, thread_id, agent,"
            " text, status, outcome, reasons, policy_revision, idempotency_key)"
            " VALUES ($1, 'mastodon', '@zoe@social.example\u200b', 't', 'alice', 'x',"
            " 'denied', 'deny', '[]', 'r', 'k1')",
            zoe,
        )
        for handle in ("@zoe@social.example", "zoe@social.example", "\uff20zoe@social.example"):
            await conn.execute(
                "INSERT INTO opt_outs (channel, handle, source, created_by)"
                " VALUES ('mastodon', $1, 'api', 'carol')",
                handle,
            )
        await conn.execute(
            "INSERT INTO opt_outs (channel, handle, source, created_by)"
            " VALUES ('bluesky', 'bob.bsky.social', 'api', 'carol')"
        )
        first, second = uuid.uuid4(), uuid.uuid4()
        for subject, handle, age in (
            (first, "@zoe@social.example", 2),
            (second, "zoe@social.example", 1),
        ):
            await conn.execute(
                "INSERT INTO subjects (id, channel, handle, key, created_at)"
                " VALUES ($1, 'mastodon', $2, $3, now() - make_interval(hours => $4))",
                subject,
                handle,
                b"k" * 32,
                age,
            )

        applied = await apply_migrations(conn)

        assert applied[0] == "0009_identity.sql"
        ids = dict(await conn.fetch("SELECT id, customer_id FROM mentions"))
        assert ids == {
            zoe: "zoe@social.example",
            local: "zoe@social.example",
            bob: BOB_DID,
            demo: "dana@social.example",
        }
        assert await conn.fetchval("SELECT customer_handle FROM proposals") == "zoe@social.example"
        active = await conn.fetch(
            "SELECT channel, handle FROM opt_outs WHERE removed_at IS NULL ORDER BY id"
        )
        assert [tuple(r) for r in active] == [
            ("mastodon", "zoe@social.example"),
            ("bluesky", BOB_DID),
        ]
        assert (
            await conn.fetchval("SELECT count(*) FROM opt_outs WHERE removed_at IS NOT NULL") == 2
        )
        subjects = {
            r["id"]: r for r in await conn.fetch("SELECT id, handle, alias_of FROM subjects")
        }
        assert subjects[first]["handle"] == subjects[second]["handle"] == "zoe@social.example"
        assert subjects[first]["alias_of"] is None and subjects[second]["alias_of"] == first

        # Idempotent: running the step again changes nothing.
        async with conn.transaction():
            assert await backfill_identities(conn) == {
                "mentions": 0,
                "proposals": 0,
                "opt_outs": 0,
                "subjects": 0,
            }
    finally:
        await conn.close()
