"""Audit events are append-only, and verification finds any change made behind our back."""

from __future__ import annotations

import itertools
import subprocess
import sys

import asyncpg
import pytest

from gateway.domain.records import User
from gateway.runtime import Runtime
from gateway.store import audit
from tests.conftest import REPO
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one


async def _some_events(rt: Runtime, agent: User) -> None:
    mention_id = await ingest_one(rt, COMPLAINT)
    await rt.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    await rt.decider.propose(mention_id=mention_id, text="We are on it.", user=agent)


async def test_service_role_cannot_change_audit_events(runtime: Runtime, agent: User) -> None:
    await _some_events(runtime, agent)
    async with runtime.db.pool.acquire() as conn:
        for sql in (
            "UPDATE audit_events SET actor = 'mallory'",
            "DELETE FROM audit_events WHERE seq = 1",
            "TRUNCATE audit_events",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql)


async def test_triggers_refuse_changes_even_for_a_superuser(
    runtime: Runtime, agent: User, database_url: str
) -> None:
    await _some_events(runtime, agent)
    conn = await asyncpg.connect(database_url)  # the owner / superuser, no SET ROLE
    try:
        for sql in (
            "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2",
            "DELETE FROM audit_events WHERE seq = 2",
            "TRUNCATE audit_events",
        ):
            with pytest.raises(asyncpg.PostgresError, match="append-only"):
                await conn.execute(sql)
        assert await conn.fetchval("SELECT count(*) FROM audit_events") == 4
    finally:
        await conn.close()
    assert (await runtime.verify_chain()).ok


async def _tamper(database_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        await conn.execute("ALTER TABLE audit_chain_head DISABLE TRIGGER USER")
        for sql in statements:
            await conn.execute(sql)
        await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
        await conn.execute("ALTER TABLE audit_chain_head ENABLE TRIGGER USER")
    finally:
        await conn.close()


def _cli_verify(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "audit", "verify"],
        cwd=REPO,
        text=True,
        capture_output=True,
        timeout=60,
        check=False,
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )


@pytest.mark.parametrize(
    ("statements", "bad_seq"),
    [
        (
            [
                "UPDATE audit_events SET payload = jsonb_set(payload, '{status}', '\"denied\"')"
                " WHERE seq = 2"
            ],
            2,
        ),
        (["DELETE FROM audit_events WHERE seq = 2"], 2),
        (["UPDATE audit_events SET occurred_at = occurred_at - interval '1 day' WHERE seq = 3"], 3),
        (
            [
                "DELETE FROM audit_events WHERE seq = 4",
                "UPDATE audit_chain_head SET seq = 3, hash = (SELECT hash FROM audit_events"
                " WHERE seq = 3)",
            ],
            None,
        ),
        (["DELETE FROM audit_events WHERE seq = 4"], 4),
    ],
    ids=[
        "edited-payload",
        "deleted-middle",
        "edited-time",
        "truncated-tail-and-head",
        "truncated-tail",
    ],
)
async def test_verification_detects_tampering(
    runtime: Runtime,
    agent: User,
    database_url: str,
    statements: list[str],
    bad_seq: int | None,
) -> None:
    await _some_events(runtime, agent)
    assert _cli_verify(database_url).returncode == 0
    await _tamper(database_url, *statements)
    result = await runtime.verify_chain()
    if bad_seq is None:
        # Removing the tail AND rewinding the head leaves a consistent shorter chain: that
        # is what signed checkpoints outside the database (issue 4) exist to catch.
        assert result.ok and result.events == 3
        return
    assert not result.ok
    assert result.first_bad_seq == bad_seq, result
    done = _cli_verify(database_url)
    assert done.returncode == 1
    assert f"event {bad_seq}" in done.stderr


async def test_chain_links_every_event(runtime: Runtime, agent: User) -> None:
    await _some_events(runtime, agent)
    async with runtime.db.pool.acquire() as conn:
        events = await audit.list_events(conn, limit=100)
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
