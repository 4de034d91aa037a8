"""A chain written before the batched writer and the msgspec codecs (tests/data/audit/
chain-v1.jsonl: written by the json-codec, one-event-at-a-time code) still verifies through
today's codecs, and events appended by the batched writer link onto it and verify too."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from gateway.audit.chain import verify_events
from gateway.audit.verify import verify_stored_chain
from gateway.domain.records import AuditEvent
from gateway.settings import Settings
from gateway.store import audit
from gateway.store.database import Database, migrate_dsn
from tests.conftest import POLICY_DIR, with_database

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "audit" / "chain-v1.jsonl"


def _fixture() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").split("\n") if line]


def test_fixture_chain_verifies_offline() -> None:
    events = [
        AuditEvent(
            **{**row, "occurred_at": datetime.fromisoformat(row["occurred_at"])},
        )
        for row in ({**r, "payload": json.loads(r["payload"])} for r in _fixture())
    ]
    assert len(events) >= 6
    assert {e.kind for e in events} >= {"proposal_decided", "fixture_values"}
    result = verify_events(events)
    assert result.ok, result


async def test_stored_fixture_chain_verifies_and_new_appends_link_onto_it(
    pg_cluster: str, tmp_path: Path
) -> None:
    rows = _fixture()
    name = f"egw_fixture_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_cluster)
    try:
        await admin.execute(f"CREATE DATABASE {name}")  # empty: no policy event yet
    finally:
        await admin.close()
    database_url = with_database(pg_cluster, name)
    await migrate_dsn(database_url)
    settings = Settings(
        database_url=database_url, data_dir=tmp_path, policy_dir=POLICY_DIR, demo=False
    )
    owner = await asyncpg.connect(database_url)
    try:
        async with owner.transaction():
            for r in rows:
                await owner.execute(
                    "INSERT INTO audit_events (seq, occurred_at, kind, actor, subject, payload,"
                    " policy_revision, prev_hash, hash)"
                    " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)",
                    r["seq"],
                    datetime.fromisoformat(r["occurred_at"]),
                    r["kind"],
                    r["actor"],
                    r["subject"],
                    r["payload"],
                    r["policy_revision"],
                    r["prev_hash"],
                    r["hash"],
                )
            # The head moves over the whole fixture at once (the batched writer's step).
            await owner.execute(
                "UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1",
                rows[-1]["seq"],
                rows[-1]["hash"],
            )
    finally:
        await owner.close()
    db = await Database.open(settings)
    try:
        async with db.pool.acquire() as conn:
            before = await verify_stored_chain(conn)
            assert before.ok, before
            assert before.events == len(rows)
            stored = await audit.list_events(conn, limit=100)
            assert [e.hash for e in stored] == [r["hash"] for r in rows]
            async with conn.transaction():
                appended = await audit.append_many(
                    conn,
                    [
                        audit.NewEvent(
                            kind="fixture_followup",
                            actor="test",
                            subject=f"fixture:{n}",
                            payload={"n": n, "text": "après 👍", "f": 0.1 * n, "none": None},
                        )
                        for n in range(3)
                    ],
                )
            assert appended[0].prev_hash == rows[-1]["hash"]
            after = await verify_stored_chain(conn)
            assert after.ok, after
            assert after.events == len(rows) + 3
    finally:
        await db.close()
