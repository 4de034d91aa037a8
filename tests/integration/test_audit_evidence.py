"""Evidence outside the database: signed checkpoints, proofs, exports an auditor can
verify without the database, and replay of a recorded decision."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import asyncpg
import msgspec
import pytest

from gateway.audit.checkpoints import read_checkpoints
from gateway.audit.export import export_stream
from gateway.audit.proofs import consistency, inclusion
from gateway.audit.replay import replay_event
from gateway.domain.records import User
from gateway.runtime import Runtime
from gateway.settings import checkpoint_dir
from gateway.store import audit
from gateway.store.audit import ExportFilter
from tests.conftest import REPO
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one


async def _decisions(rt: Runtime, agent: User, n: int) -> None:
    for i in range(n):
        mention_id = await ingest_one(rt, COMPLAINT, handle=f"@c{i}@social.example")
        await rt.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)


async def _checkpoint(rt: Runtime) -> int:
    assert rt.checkpointer is not None
    async with rt.db.pool.acquire() as conn:
        checkpoint = await rt.checkpointer.checkpoint(conn)
    assert checkpoint is not None
    return checkpoint.size


async def _export(rt: Runtime, path: Path) -> Path:
    async with rt.db.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        with path.open("wb") as out:
            async for chunk in export_stream(conn, ExportFilter(), fmt="jsonl"):
                out.write(chunk)
    return path


def _offline(rt: Runtime, export: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    key = tmp / "audit-key.pub.pem"
    assert rt.audit_public_pem is not None
    key.write_bytes(rt.audit_public_pem)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "audit",
            "verify",
            "--export",
            str(export),
            "--checkpoints",
            str(checkpoint_dir(rt.settings)),
            "--key",
            str(key),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )


async def test_checkpoints_are_signed_written_outside_and_provable(
    runtime: Runtime, agent: User
) -> None:
    await _decisions(runtime, agent, 3)
    first = await _checkpoint(runtime)
    await _decisions(runtime, agent, 2)
    second = await _checkpoint(runtime)
    files = read_checkpoints(checkpoint_dir(runtime.settings))
    assert [c.size for c in files] == [first, second]
    async with runtime.db.pool.acquire() as conn:
        for seq in (1, first, second):
            proof = await inclusion(conn, seq, size=None)
            assert proof.verified and proof.checkpoint.size == second
        old = await inclusion(conn, 2, size=first)
        assert old.verified and old.checkpoint.size == first
        assert (await consistency(conn, first, second)).verified


async def test_an_export_verifies_offline_and_tampering_is_found(
    runtime: Runtime, agent: User, database_url: str, tmp_path: Path
) -> None:
    await _decisions(runtime, agent, 4)
    covered = await _checkpoint(runtime)
    good = await _export(runtime, tmp_path / "good.jsonl")
    done = _offline(runtime, good, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok:")

    # A superuser removes the last covered events and rewinds the chain head so the
    # database alone looks consistent: only the checkpoint outside reveals it.
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        await conn.execute("ALTER TABLE audit_chain_head DISABLE TRIGGER USER")
        await conn.execute("DELETE FROM audit_events WHERE seq >= $1", covered - 1)
        await conn.execute(
            "UPDATE audit_chain_head SET seq = $1, hash = (SELECT hash FROM audit_events"
            " WHERE seq = $1)",
            covered - 2,
        )
        await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
        await conn.execute("ALTER TABLE audit_chain_head ENABLE TRIGGER USER")
    finally:
        await conn.close()
    assert (await runtime.verify_chain()).ok  # the database cannot tell
    tampered = await _export(runtime, tmp_path / "tampered.jsonl")
    done = _offline(runtime, tampered, tmp_path)
    assert done.returncode == 1
    assert "events were removed" in done.stderr


async def test_a_recorded_decision_replays_to_the_same_outcome(
    runtime: Runtime, agent: User
) -> None:
    await _decisions(runtime, agent, 1)
    async with runtime.db.pool.acquire() as conn:
        [event] = await audit.list_events(conn, kind="proposal_decided")
        result = await replay_event(conn, event.seq)
    assert result.same and result.recorded.outcome == "allow"
    assert result.policy_revision == event.policy_revision


async def test_retention_purges_old_mention_texts_and_keeps_the_audit(
    runtime: Runtime, agent: User
) -> None:
    from datetime import UTC, datetime, timedelta

    from gateway.pipeline.retention import purge_once
    from gateway.store import mentions

    await _decisions(runtime, agent, 2)
    assert await purge_once(runtime.db.pool, days=30) == 0  # nothing that old yet
    purged = await purge_once(runtime.db.pool, days=0)
    assert purged == 2
    async with runtime.db.pool.acquire() as conn:
        mention = await mentions.get_mention(conn, 1, now=datetime.now(UTC) + timedelta(days=1))
        [event] = await audit.list_events(conn, kind="retention_purged")
    assert mention.text == "" and mention.author_display_name == ""
    assert event.payload["mentions"] == 2
    assert (await runtime.verify_chain()).ok
    assert await purge_once(runtime.db.pool, days=0) == 0  # each text is purged once


TAMPERING = {
    "edited-payload": [
        "UPDATE audit_events SET payload = jsonb_set(payload, '{status}', '\"denied\"')"
        " WHERE seq = 3"
    ],
    "deleted-middle": ["DELETE FROM audit_events WHERE seq = 4"],
    "reordered-pair": [
        "UPDATE audit_events SET seq = -1 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = 4",
        "UPDATE audit_events SET seq = 4 WHERE seq = -1",
    ],
    "rewritten-actor-and-rehashed-chain": [
        "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2",
    ],
}


async def _superuser(database_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        for sql in statements:
            await conn.execute(sql)
        await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
    finally:
        await conn.close()


@pytest.mark.parametrize("case", sorted(TAMPERING))
async def test_tampering_in_the_database_fails_offline_verification(
    runtime: Runtime, agent: User, database_url: str, tmp_path: Path, case: str
) -> None:
    await _decisions(runtime, agent, 3)
    await _checkpoint(runtime)
    await _superuser(database_url, *TAMPERING[case])
    if case == "rewritten-actor-and-rehashed-chain":
        await _rehash_chain(database_url)
    done = _offline(runtime, await _export(runtime, tmp_path / "export.jsonl"), tmp_path)
    assert done.returncode == 1, done.stdout
    assert "PROBLEM" in done.stderr


async def _rehash_chain(database_url: str) -> None:
    """What an attacker with full database access does: recompute every hash after the
    change so the chain itself is consistent again. Only the signed checkpoint remains."""
    from gateway.audit.chain import GENESIS_HASH, event_hash

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        await conn.execute("ALTER TABLE audit_chain_head DISABLE TRIGGER USER")
        await conn.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
        prev = GENESIS_HASH
        for row in await conn.fetch("SELECT * FROM audit_events ORDER BY seq"):
            digest = event_hash(
                prev_hash=prev,
                seq=row["seq"],
                occurred_at=row["occurred_at"],
                kind=row["kind"],
                actor=row["actor"],
                subject=row["subject"],
                payload=row["payload"],
                policy_revision=row["policy_revision"],
            )
            await conn.execute(
                "UPDATE audit_events SET prev_hash = $2, hash = $3 WHERE seq = $1",
                row["seq"],
                prev,
                digest,
            )
            prev = digest
        await conn.execute("UPDATE audit_chain_head SET hash = $1", prev)
        await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
        await conn.execute("ALTER TABLE audit_chain_head ENABLE TRIGGER USER")
    finally:
        await conn.close()


async def test_a_forged_checkpoint_file_fails_offline_verification(
    runtime: Runtime, agent: User, tmp_path: Path
) -> None:
    from gateway.audit.checkpoints import checkpoint_filename, encode_checkpoint

    await _decisions(runtime, agent, 2)
    size = await _checkpoint(runtime)
    [real] = read_checkpoints(checkpoint_dir(runtime.settings))
    forged = msgspec.structs.replace(real, root_hash="0" * 64)
    (checkpoint_dir(runtime.settings) / checkpoint_filename(size)).write_bytes(
        encode_checkpoint(forged)
    )
    done = _offline(runtime, await _export(runtime, tmp_path / "export.jsonl"), tmp_path)
    assert done.returncode == 1
    assert "signature" in done.stderr
