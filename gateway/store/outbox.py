"""The release outbox: one row per reply queued for release.

Workers on any number of hosts claim due rows with ``FOR UPDATE SKIP LOCKED``. A row in
state ``releasing`` whose lease ran out (its worker died mid-release) is due again: the
retry publishes with the same idempotency key, so the channel sees one reply.
"""

from __future__ import annotations

from datetime import datetime

from gateway.domain.records import OutboxItem
from gateway.store._rows import OUTBOX_COLUMNS, outbox_from_row
from gateway.store.connection import Conn


async def enqueue(conn: Conn, proposal_id: int, *, now: datetime) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO outbox (proposal_id, next_attempt_at, created_at, updated_at)"
            " VALUES ($1, $2, $2, $2) RETURNING id",
            proposal_id,
            now,
        )
    )


async def claim_due(conn: Conn, *, now: datetime) -> OutboxItem | None:
    """Lock the next due row for this transaction (skipping rows other workers hold)."""
    row = await conn.fetchrow(
        f"SELECT {OUTBOX_COLUMNS} FROM outbox"
        " WHERE state <> 'done' AND next_attempt_at <= $1"
        " ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
        now,
    )
    return outbox_from_row(row) if row else None


async def mark_releasing(conn: Conn, item_id: int, *, now: datetime, lease_until: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET state = 'releasing', attempts = attempts + 1,"
        " next_attempt_at = $3, updated_at = $2 WHERE id = $1",
        item_id,
        now,
        lease_until,
    )


async def mark_done(conn: Conn, item_id: int, *, now: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET state = 'done', updated_at = $2 WHERE id = $1", item_id, now
    )


async def reschedule(
    conn: Conn, item_id: int, *, now: datetime, at: datetime, error: str, refund: bool = False
) -> None:
    """Queue the row again at ``at``; ``refund`` gives the attempt back (the channel asked
    us to wait, which is not a failure)."""
    await conn.execute(
        "UPDATE outbox SET state = 'queued', next_attempt_at = $3, last_error = $4,"
        " updated_at = $2, attempts = attempts - CASE WHEN $5 THEN 1 ELSE 0 END WHERE id = $1",
        item_id,
        now,
        at,
        error,
        refund,
    )


async def lock_item(conn: Conn, item_id: int) -> OutboxItem | None:
    row = await conn.fetchrow(
        f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1 FOR UPDATE", item_id
    )
    return outbox_from_row(row) if row else None


async def pending_count(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE state <> 'done'"))


async def claim_due_batch(conn: Conn, *, now: datetime, limit: int) -> list[OutboxItem]:
    """Lock up to ``limit`` due rows for this transaction, oldest first, skipping rows
    other workers hold."""
    rows = await conn.fetch(
        f"SELECT {OUTBOX_COLUMNS} FROM outbox"
        " WHERE state <> 'done' AND next_attempt_at <= $1"
        " ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [outbox_from_row(row) for row in rows]


async def lock_items(conn: Conn, item_ids: list[int]) -> dict[int, OutboxItem]:
    """Lock rows by id (in id order, so two batches never deadlock)."""
    rows = await conn.fetch(
        f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE",
        item_ids,
    )
    items = [outbox_from_row(row) for row in rows]
    return {item.id: item for item in items}


async def mark_releasing_many(
    conn: Conn, item_ids: list[int], *, now: datetime, lease_until: datetime
) -> None:
    await conn.execute(
        "UPDATE outbox SET state = 'releasing', attempts = attempts + 1,"
        " next_attempt_at = $3, updated_at = $2 WHERE id = ANY($1::bigint[])",
        item_ids,
        now,
        lease_until,
    )


async def mark_done_many(conn: Conn, item_ids: list[int], *, now: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET state = 'done', updated_at = $2 WHERE id = ANY($1::bigint[])",
        item_ids,
        now,
    )


async def defer(conn: Conn, due: list[tuple[int, datetime]], *, now: datetime) -> None:
    """Move rows' next attempt to later without using an attempt (the channel's rate
    budget is spent; nothing was published)."""
    await conn.execute(
        "UPDATE outbox SET next_attempt_at = d.at, updated_at = $3"
        " FROM unnest($1::bigint[], $2::timestamptz[]) AS d(id, at) WHERE outbox.id = d.id",
        [item_id for item_id, _ in due],
        [at for _, at in due],
        now,
    )
