"""Opt-outs: a customer (channel + canonical identity) who asked not to be contacted.

``handle`` here is always the canonical identity (gateway/domain/identity.py); callers
resolve what a person typed with ``gateway.store.identities.resolve`` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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


@dataclass(frozen=True, kw_only=True)
class OptOutSearch:
    """Which opt-outs to list. ``handles`` are canonical identities matched exactly;
    ``contains`` a lower-case part of one; a row matches either when both are given.
    Pages run oldest first after ``after_id``, or newest first before ``before_id``."""

    channel: str | None = None
    handles: tuple[str, ...] = ()
    contains: str | None = None
    state: Literal["active", "lifted", "all"] = "active"
    after_id: int = 0
    before_id: int | None = None
    newest_first: bool = False
    limit: int = 100


async def search_opt_outs(conn: Conn, where: OptOutSearch) -> list[OptOut]:
    by_handle = bool(where.handles) or where.contains is not None
    order = "DESC" if where.newest_first else "ASC"
    rows = await conn.fetch(
        f"SELECT {OPT_OUT_COLUMNS} FROM opt_outs WHERE id > $1"
        " AND ($2::bigint IS NULL OR id < $2)"
        " AND ($3::text IS NULL OR channel = $3)"
        " AND (NOT $4 OR handle = ANY($5::text[])"
        "      OR ($6::text IS NOT NULL AND strpos(lower(handle), $6) > 0))"
        " AND ($7 = 'all' OR ($7 = 'active') = (removed_at IS NULL))"
        f" ORDER BY id {order} LIMIT $8",
        where.after_id,
        where.before_id,
        where.channel,
        by_handle,
        list(where.handles),
        where.contains,
        where.state,
        where.limit,
    )
    return [opt_out_from_row(r) for r in rows]


async def get_opt_out(conn: Conn, opt_out_id: int) -> OptOut:
    row = await conn.fetchrow(f"SELECT {OPT_OUT_COLUMNS} FROM opt_outs WHERE id = $1", opt_out_id)
    if row is None:
        raise NotFound(f"no opt-out with id {opt_out_id}")
    return opt_out_from_row(row)


async def customer_history(conn: Conn, *, channel: str, handle: str) -> list[OptOut]:
    """Every opt-out of one customer (canonical identity), active or lifted, oldest first."""
    rows = await conn.fetch(
        f"SELECT {OPT_OUT_COLUMNS} FROM opt_outs WHERE channel = $1 AND handle = $2 ORDER BY id",
        channel,
        handle,
    )
    return [opt_out_from_row(r) for r in rows]


async def remove_opt_out(
    conn: Conn, opt_out_id: int, *, removed_by: str, reason: str | None = None
) -> OptOut:
    row = await conn.fetchrow(
        "UPDATE opt_outs SET removed_at = now(), removed_by = $2, removed_reason = $3"
        f" WHERE id = $1 AND removed_at IS NULL RETURNING {OPT_OUT_COLUMNS}",
        opt_out_id,
        removed_by,
        reason,
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


async def active_opt_out(conn: Conn, *, channel: str, handle: str) -> OptOut | None:
    """The customer's active opt-out (``handle`` is the canonical identity), if any."""
    row = await conn.fetchrow(
        f"SELECT {OPT_OUT_COLUMNS} FROM opt_outs"
        " WHERE channel = $1 AND handle = $2 AND removed_at IS NULL",
        channel,
        handle,
    )
    return opt_out_from_row(row) if row else None
