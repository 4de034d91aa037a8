"""Opt-outs: a customer (channel + canonical identity) who asked not to be contacted.

``handle`` here is always the canonical identity (gateway/domain/identity.py); callers
resolve what a person typed with ``gateway.store.identities.resolve`` first.
"""

from __future__ import annotations

from gateway.domain.records import OptOut
from gateway.store._rows import OPT_OUT_COLUMNS, opt_out_from_row
from gateway.store.connection import Conn
from gateway.store.errors import NotFound


async def add_opt_out(
    conn: Conn,
    *,
    channel: str,
    handle: str,
    reason: str,
    source: str,
    created_by: str,
    mention_id: int | None = None,
) -> tuple[OptOut, bool]:
    """Register an opt-out; returns (opt-out, created). An active one is returned as is."""
    row = await conn.fetchrow(
        "INSERT INTO opt_outs (channel, handle, reason, source, mention_id, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (channel, handle) WHERE removed_at IS NULL DO NOTHING"
        f" RETURNING {OPT_OUT_COLUMNS}",
        channel,
        handle,
        reason,
        source,
        mention_id,
        created_by,
    )
    if row is not None:
        return opt_out_from_row(row), True
    existing = await conn.fetchrow(
        f"SELECT {OPT_OUT_COLUMNS} FROM opt_outs"
        " WHERE channel = $1 AND handle = $2 AND removed_at IS NULL",
        channel,
        handle,
    )
    assert existing is not None
    return opt_out_from_row(existing), False


async def list_opt_outs(
    conn: Conn, *, include_removed: bool = False, after_id: int = 0, limit: int = 100
) -> list[OptOut]:
    rows = await conn.fetch(
        f"SELECT {OPT_OUT_COLUMNS} FROM opt_outs WHERE id > $1"
        " AND ($2 OR removed_at IS NULL) ORDER BY id LIMIT $3",
        after_id,
        include_removed,
        limit,
    )
    return [opt_out_from_row(r) for r in rows]


async def remove_opt_out(conn: Conn, opt_out_id: int, *, removed_by: str) -> OptOut:
    row = await conn.fetchrow(
        "UPDATE opt_outs SET removed_at = now(), removed_by = $2"
        f" WHERE id = $1 AND removed_at IS NULL RETURNING {OPT_OUT_COLUMNS}",
        opt_out_id,
        removed_by,
    )
    if row is None:
        raise NotFound(f"no active opt-out with id {opt_out_id}")
    return opt_out_from_row(row)


async def is_opted_out(conn: Conn, *, channel: str, handle: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM opt_outs"
            " WHERE channel = $1 AND handle = $2 AND removed_at IS NULL)",
            channel,
            handle,
        )
    )
