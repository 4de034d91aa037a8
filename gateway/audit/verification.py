"""Verifying the stored log and its signed checkpoints, and recording that it was done.

The same checks the offline verifier makes on an evidence bundle (hash chain, each
checkpoint's signature, Merkle root and last event, each checkpoint extending the one
before) run here over the database's own events, streamed in one consistent snapshot, plus
the chain head the database records (a removed tail). Events after the latest checkpoint
are counted as unanchored, not failed: a live log always has a tail the checkpointer has
not signed yet. Every run is recorded (``audit_verifications``), so the console can say
when the log was last verified and by whom; recording changes nothing that is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import structlog

from gateway.audit.chain import ChainVerifier
from gateway.audit.checkpoints import Checkpoint, public_key_from_pem
from gateway.audit.offline import stream_check
from gateway.store import audit as audit_store
from gateway.store import checkpoints as checkpoint_store
from gateway.store import verifications
from gateway.store.connection import Conn
from gateway.store.verifications import Verification

log = structlog.get_logger(__name__)


async def _all_checkpoints(conn: Conn) -> list[Checkpoint]:
    found: list[Checkpoint] = []
    while page := await checkpoint_store.list_checkpoints(
        conn, after=found[-1].size if found else 0, limit=1000
    ):
        found += page
    return found


async def verify_log(pool: asyncpg.Pool, public_pem: bytes | None, *, by: str) -> Verification:
    """Verify the chain and every stored checkpoint now; record and return the result."""
    async with (
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        head = await audit_store.chain_head(conn)
        checkpoints = await _all_checkpoints(conn) if public_pem is not None else []
        problems: list[str] = []
        # Without a signing key (not configured) only the hash chain can be checked.
        key = public_key_from_pem(public_pem, source="the gateway's key") if public_pem else None
        check = stream_check(checkpoints, key, allow_unanchored=True) if key else None
        chain_only = None if check else ChainVerifier()
        async for event in audit_store.iterate_all(conn):
            if check is not None:
                check.feed(event)
            elif chain_only is not None and not chain_only.feed(event):
                break
    if check is not None:
        report = check.report()
        chain = check.chain.result(expected_head=head)
        problems += report.problems
        if chain.ok is False and chain.detail and chain.detail not in problems:
            problems.append(chain.detail)
        first_bad = (
            report.first_bad_seq if report.first_bad_seq is not None else chain.first_bad_seq
        )
        events, verified = report.events, report.checkpoints_verified
        anchored = report.anchors[-1].checkpoint if report.anchors else 0
        unanchored = events - anchored
    else:
        assert chain_only is not None
        chain = chain_only.result(expected_head=head)
        if not chain.ok and chain.detail:
            problems.append(chain.detail)
        first_bad, events, verified, anchored, unanchored = (
            chain.first_bad_seq,
            chain.events,
            0,
            0,
            chain.events,
        )
    result = Verification(
        verified_at=datetime.now(UTC),
        verified_by=by,
        ok=not problems,
        events=events,
        checkpoints_verified=verified,
        anchored=anchored,
        unanchored=unanchored,
        first_bad_seq=first_bad,
        problems=problems,
    )
    async with pool.acquire() as conn:
        await verifications.record(conn, result)
    log.info(
        "audit_log_verified",
        ok=result.ok,
        events=events,
        checkpoints=verified,
        unanchored=unanchored,
        by=by,
    )
    return result


async def last_verification(pool: asyncpg.Pool) -> Verification | None:
    async with pool.acquire() as conn:
        return await verifications.latest(conn)
