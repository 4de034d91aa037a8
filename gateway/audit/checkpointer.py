"""Writing signed checkpoints: every N events or T seconds, one writer at a time.

Each checkpoint signs the RFC 6962 Merkle root of the hashes of events 1..size and the
hash of event ``size``; it is stored in ``audit_checkpoints`` and written as a file to the
checkpoint folder, outside the database (in production a bucket with a retention lock),
so that a rewritten tail is detected even by someone who controls the database.
Instances compete for a session advisory lock; the one holding it writes.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.checkpoints import (
    Checkpoint,
    CheckpointFormatError,
    checkpoint_filename,
    read_checkpoint,
    sign_checkpoint,
    write_checkpoint,
)
from gateway.audit.merkle import MerkleAccumulator
from gateway.store import audit as audit_store
from gateway.store import checkpoints as store
from gateway.store.connection import Conn
from gateway.store.errors import LOOP_ERRORS

log = structlog.get_logger(__name__)

_LOCK_KEY = 7_410_222


class Checkpointer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        key: Ed25519PrivateKey,
        directory: Path,
        *,
        every_events: int = 1000,
        every_s: float = 60.0,
    ) -> None:
        self._pool = pool
        self._key = key
        self._directory = directory
        self._every_events = max(every_events, 1)
        self._every_s = every_s
        self._tree = MerkleAccumulator()
        self._last_hash: str | None = None
        # The writer loop and an evidence bundle may both sign in this process.
        self._signing = asyncio.Lock()

    async def run(self, stop: asyncio.Event) -> None:
        """Hold the writer lock (waiting while another instance holds it) and checkpoint."""
        while not stop.is_set():
            try:
                async with self._pool.acquire() as conn:
                    if await conn.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_KEY):
                        log.info("checkpointer_lock_taken")
                        try:
                            await self._write_loop(conn, stop)
                        finally:
                            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
            except LOOP_ERRORS as exc:
                log.warning("checkpointer_failed", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5)

    async def _write_loop(self, conn: Conn, stop: asyncio.Event) -> None:
        last_write = asyncio.get_running_loop().time()
        while not stop.is_set():
            head, _hash = await audit_store.chain_head(conn)
            latest = await store.latest_checkpoint(conn)
            covered = latest.size if latest else 0
            due_by_count = head - covered >= self._every_events
            due_by_time = (
                head > covered and asyncio.get_running_loop().time() - last_write >= self._every_s
            )
            if due_by_count or due_by_time:
                await self.checkpoint(conn)
                last_write = asyncio.get_running_loop().time()
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(1.0, self._every_s))

    async def checkpoint(self, conn: Conn) -> Checkpoint | None:
        """Sign the chain as it is now (None when there is nothing new to cover)."""
        async with self._signing:
            return await self._sign(conn)

    async def _sign(self, conn: Conn) -> Checkpoint | None:
        head, head_hash = await audit_store.chain_head(conn)
        latest = await store.latest_checkpoint(conn)
        if head == 0 or (latest is not None and latest.size >= head):
            return None
        await self._catch_up(conn, head)
        checkpoint = sign_checkpoint(
            self._key,
            size=head,
            root_hash=self._tree.root().hex(),
            last_event_hash=self._last_hash or head_hash,
            created_at=datetime.now(UTC),
        )
        # The file first: a checkpoint in the table always has its copy outside it.
        await asyncio.to_thread(self._directory.mkdir, parents=True, exist_ok=True)
        try:
            await asyncio.to_thread(write_checkpoint, self._directory, checkpoint)
        except CheckpointFormatError:
            # Another process signed the same head a moment earlier: keep its checkpoint.
            path = self._directory / checkpoint_filename(checkpoint.size)
            existing = await asyncio.to_thread(read_checkpoint, path)
            if (existing.root_hash, existing.last_event_hash) != (
                checkpoint.root_hash,
                checkpoint.last_event_hash,
            ):
                raise
            checkpoint = existing
        await store.insert_checkpoint(conn, checkpoint)
        log.info("checkpoint_written", size=checkpoint.size, root_hash=checkpoint.root_hash)
        return checkpoint

    async def _catch_up(self, conn: Conn, head: int) -> None:
        """Extend the in-memory tree with events not yet in it (all of them after start)."""
        async for seq, digest in store.event_hashes(conn, start=self._tree.size + 1, end=head + 1):
            if seq != self._tree.size + 1:
                raise RuntimeError(f"audit event {self._tree.size + 1} is missing")
            self._tree.append(bytes.fromhex(digest))
            self._last_hash = digest
