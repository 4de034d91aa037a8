"""Checkpoints and the event hashes they are computed over."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from gateway.domain.chain import Checkpoint
from gateway.store.connection import Conn
from gateway.store.errors import NotFound

_COLUMNS = "size, root_hash, last_event_hash, created_at, key_id, signature"


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(
        size=row["size"],
        root_hash=row["root_hash"],
        last_seq=row["size"],
        last_event_hash=row["last_event_hash"],
        created_at=row["created_at"],
        key_id=row["key_id"],
        signature=row["signature"],
    )


async def insert_checkpoint(conn: Conn, checkpoint: Checkpoint) -> None:
    await conn.execute(
        f"INSERT INTO audit_checkpoints ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (size) DO NOTHING",
        checkpoint.size,
        checkpoint.root_hash,
        checkpoint.last_event_hash,
        checkpoint.created_at,
        checkpoint.key_id,
        checkpoint.signature,
    )


async def list_checkpoints(conn: Conn, *, after: int = 0, limit: int = 100) -> list[Checkpoint]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM audit_checkpoints WHERE size > $1 ORDER BY size LIMIT $2",
        after,
        limit,
    )
    return [_checkpoint(r) for r in rows]


async def get_checkpoint(conn: Conn, size: int) -> Checkpoint:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM audit_checkpoints WHERE size = $1", size)
    if row is None:
        raise NotFound(f"there is no checkpoint of size {size}")
    return _checkpoint(row)


async def latest_checkpoint(conn: Conn) -> Checkpoint | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM audit_checkpoints ORDER BY size DESC LIMIT 1"
    )
    return _checkpoint(row) if row else None


async def event_hashes(
    conn: Conn, *, start: int, end: int, batch: int = 10_000
) -> AsyncIterator[tuple[int, str]]:
    """(seq, hash) of events with start <= seq < end, in order, in batches."""
    after = start - 1
    while after + 1 < end:
        rows = await conn.fetch(
            "SELECT seq, hash FROM audit_events WHERE seq > $1 AND seq < $2 ORDER BY seq LIMIT $3",
            after,
            end,
            batch,
        )
        if not rows:
            return
        for row in rows:
            yield int(row["seq"]), str(row["hash"])
        after = int(rows[-1]["seq"])
