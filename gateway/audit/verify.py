"""Verifying the chain stored in the database, streamed in constant memory."""

from __future__ import annotations

from gateway.audit.chain import ChainVerifier, VerifyResult
from gateway.store import audit
from gateway.store.connection import Conn


async def verify_stored_chain(conn: Conn) -> VerifyResult:
    """Recompute every event's hash against the chain head, in one consistent snapshot."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        head = await audit.chain_head(conn)
        verifier = ChainVerifier()
        async for event in audit.iterate_all(conn):
            if not verifier.feed(event):
                break
        return verifier.result(expected_head=head)
