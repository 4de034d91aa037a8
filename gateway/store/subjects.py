"""Audit subjects (customers) and their encryption keys; erasure scrubs their content.

A subject is keyed by (channel, canonical identity): callers pass the identity that
gateway/domain/identity.py defines, never a handle as typed.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime

from gateway.store.connection import Conn


async def subject_key(conn: Conn, *, channel: str, customer: str) -> tuple[str, bytes]:
    """(subject id, key) of a customer, created on first use."""
    # One round trip: create the subject, or read it when it already exists.
    row = await conn.fetchrow(
        "WITH created AS ("
        "  INSERT INTO subjects (id, channel, handle, key) VALUES ($1, $2, $3, $4)"
        "  ON CONFLICT (channel, handle) WHERE erased_at IS NULL AND alias_of IS NULL"
        "  DO NOTHING RETURNING id, key)"
        " SELECT id, key FROM created"
        " UNION ALL"
        " SELECT id, key FROM subjects WHERE channel = $2 AND handle = $3"
        " AND erased_at IS NULL AND alias_of IS NULL AND NOT EXISTS (SELECT 1 FROM created)",
        uuid.uuid4(),
        channel,
        customer,
        os.urandom(32),
    )
    if row is None:
        # Another transaction created it after this statement's snapshot was taken.
        row = await conn.fetchrow(
            "SELECT id, key FROM subjects WHERE channel = $1 AND handle = $2"
            " AND erased_at IS NULL AND alias_of IS NULL",
            channel,
            customer,
        )
    assert row is not None
    return str(row["id"]), bytes(row["key"])


async def subject_keys(
    conn: Conn, customers: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, bytes]]:
    """(subject id, key) of each (channel, canonical identity), created on first use: one
    statement for the lot (a batch of decisions)."""
    wanted = sorted(set(customers))
    if not wanted:
        return {}
    # Create the missing subjects, or read those that exist, in one round trip.
    rows = await conn.fetch(
        "WITH wanted AS (SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::bytea[])"
        "  AS w(channel, handle, id, key)),"
        " created AS ("
        "  INSERT INTO subjects (id, channel, handle, key)"
        "  SELECT id, channel, handle, key FROM wanted"
        "  ON CONFLICT (channel, handle) WHERE erased_at IS NULL AND alias_of IS NULL"
        "  DO NOTHING RETURNING channel, handle, id, key)"
        " SELECT channel, handle, id, key FROM created"
        " UNION ALL"
        " SELECT s.channel, s.handle, s.id, s.key FROM subjects s JOIN wanted w"
        "  ON s.channel = w.channel AND s.handle = w.handle"
        "  WHERE s.erased_at IS NULL AND s.alias_of IS NULL"
        "  AND NOT EXISTS (SELECT 1 FROM created c"
        "                  WHERE c.channel = w.channel AND c.handle = w.handle)",
        [c for c, _ in wanted],
        [h for _, h in wanted],
        [uuid.uuid4() for _ in wanted],
        [os.urandom(32) for _ in wanted],
    )
    found = {(r["channel"], r["handle"]): (str(r["id"]), bytes(r["key"])) for r in rows}
    for channel, customer in wanted:
        if (channel, customer) not in found:
            # Another transaction created it after this statement's snapshot was taken.
            found[(channel, customer)] = await subject_key(conn, channel=channel, customer=customer)
    return found


async def keys_for(conn: Conn, subject_ids: list[str]) -> dict[str, bytes | None]:
    """Keys by subject id; None for an erased subject."""
    if not subject_ids:
        return {}
    rows = await conn.fetch(
        "SELECT id::text AS id, key FROM subjects WHERE id = ANY($1::uuid[])", subject_ids
    )
    return {r["id"]: bytes(r["key"]) if r["key"] is not None else None for r in rows}


async def subject_ids_of(conn: Conn, customers: list[str]) -> list[str]:
    """Subject ids (aliases included) of these canonical identities, on any channel."""
    rows = await conn.fetch(
        "SELECT id::text AS id FROM subjects WHERE handle = ANY($1::text[])", customers
    )
    return [r["id"] for r in rows]


async def erase(
    conn: Conn, *, channel: str, customer: str, customer_key: str, by: str, now: datetime
) -> tuple[str, dict[str, int], datetime | None]:
    """Destroy the customer's key(s) and scrub their content from mentions, proposals and
    opt-outs; their mentions keep only ``customer_key`` (the suppression key), so they
    stay closed. Returns (subject id, counts, when an active opt-out was registered)."""
    rows = await conn.fetch(
        "UPDATE subjects SET key = NULL, handle = NULL, erased_at = $3, erased_by = $4"
        " WHERE channel = $1 AND handle = $2 AND erased_at IS NULL"
        " RETURNING id::text AS id, alias_of",
        channel,
        customer,
        now,
        by,
    )
    primary = [r["id"] for r in rows if r["alias_of"] is None] or [r["id"] for r in rows]
    if primary:
        subject_id = primary[0]
    else:
        # Never seen (or seen only before subjects existed): the erasure still happens, so
        # that its suppression record refuses the customer's first mention too.
        subject_id = str(uuid.uuid4())
        await conn.execute(
            "INSERT INTO subjects (id, channel, handle, key, erased_at, erased_by)"
            " VALUES ($1, $2, NULL, NULL, $3, $4)",
            uuid.UUID(subject_id),
            channel,
            now,
            by,
        )
    pseudonym = f"erased:{subject_id}"
    mentions = await conn.execute(
        "UPDATE mentions SET text = '', author_display_name = '', author_description = '',"
        " author_handle = $3, channel_data = '{}', intent_features = '[]', url = NULL,"
        " customer_id = NULL, customer_key = $5,"
        " text_purged_at = coalesce(text_purged_at, $4)"
        " WHERE channel = $1 AND customer_id = $2",
        channel,
        customer,
        pseudonym,
        now,
        customer_key,
    )
    proposals = await conn.execute(
        "UPDATE proposals SET text = '', policy_input = NULL, shadow = NULL,"
        " customer_handle = $3 WHERE channel = $1 AND customer_handle = $2",
        channel,
        customer,
        pseudonym,
    )
    opted_out_at = await conn.fetchval(
        "SELECT min(created_at) FROM opt_outs"
        " WHERE channel = $1 AND handle = $2 AND removed_at IS NULL",
        channel,
        customer,
    )
    await conn.execute(
        "UPDATE opt_outs SET handle = $3, reason = '',"
        " removed_reason = CASE WHEN removed_reason IS NULL THEN NULL ELSE '' END"
        " WHERE channel = $1 AND handle = $2",
        channel,
        customer,
        pseudonym,
    )
    return (
        subject_id,
        {"mentions": int(mentions.split()[-1]), "proposals": int(proposals.split()[-1])},
        opted_out_at,
    )
