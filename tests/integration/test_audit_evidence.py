"""Evidence outside the database: signed checkpoints, proofs, exports an auditor can
verify without the database, and replay of a recorded decision."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import asyncpg

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
