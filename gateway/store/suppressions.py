"""Suppression records: do-not-contact keyed by an HMAC of the customer's identity.

Written when a customer is erased; never changed or removed (the table refuses it). What
a row holds and why: docs/audit.md, "Suppression records".
"""

from __future__ import annotations

from datetime import datetime

from gateway.store.connection import Conn


async def add_suppression(
    conn: Conn,
    *,
    channel: str,
    customer_key: str,
    key_id: str,
    reason: str,
    opted_out_at: datetime | None,
    now: datetime,
) -> bool:
    """Record one; False when the customer was already suppressed (the first stands)."""
    row = await conn.fetchrow(
        "INSERT INTO suppressions (channel, customer_key, key_id, reason, opted_out_at,"
        " created_at) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (channel, customer_key) DO NOTHING RETURNING channel",
        channel,
        customer_key,
        key_id,
        reason,
        opted_out_at,
        now,
    )
    return row is not None


async def is_suppressed(conn: Conn, *, channel: str, customer_key: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM suppressions WHERE channel = $1 AND customer_key = $2)",
            channel,
            customer_key,
        )
    )


async def key_ids(conn: Conn) -> list[str]:
    """The ids of the keys the stored suppression records were made with."""
    rows = await conn.fetch("SELECT DISTINCT key_id FROM suppressions ORDER BY key_id")
    return [r["key_id"] for r in rows]
