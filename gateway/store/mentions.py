"""Mentions: insert with dedupe, read, filter, claim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec

from gateway.domain.records import Mention, NewMention
from gateway.store._rows import MENTION_COLUMNS, mention_from_row
from gateway.store.connection import Conn
from gateway.store.errors import Conflict, NotFound


async def insert_mention(conn: Conn, mention: NewMention) -> int | None:
    """Store one mention; None when it is a duplicate (same channel+external id, or url)."""
    row = await conn.fetchrow(
        "INSERT INTO mentions (channel, external_id, url, author_handle, author_display_name,"
        " text, created_at, in_reply_to, thread_id, addressed_hint, intent, intent_features,"
        " sentiment_compound, sentiment_pos, sentiment_neu, sentiment_neg, addressed,"
        " addressed_via, optout_requested, author_bot, author_description, visibility,"
        " is_direct, channel_data, customer_id, optout_signal, language, intents)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
        " $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)"
        " ON CONFLICT DO NOTHING RETURNING id",
        mention.channel,
        mention.external_id,
        mention.url,
        mention.author_handle,
        mention.author_display_name,
        mention.text,
        mention.created_at,
        mention.in_reply_to,
        mention.thread_id,
        mention.addressed_hint,
        mention.intent,
        mention.intent_features,
        mention.sentiment.compound,
        mention.sentiment.pos,
        mention.sentiment.neu,
        mention.sentiment.neg,
        mention.addressed,
        mention.addressed_via,
        mention.optout_requested,
        mention.author_bot,
        mention.author_description,
        mention.visibility,
        mention.is_direct,
        mention.channel_data,
        mention.customer_id,
        mention.optout_signal,
        mention.language,
        msgspec.to_builtins(mention.intents),
    )
    return int(row["id"]) if row else None


async def existing_ids(conn: Conn, keys: list[tuple[str, str, str | None]]) -> dict[int, int]:
    """For (channel, external_id, url) keys, the index → id of those already stored."""
    found: dict[int, int] = {}
    for index, (channel, external_id, url) in enumerate(keys):
        row = await conn.fetchrow(
            "SELECT id FROM mentions WHERE (channel = $1 AND external_id = $2)"
            " OR ($3::text IS NOT NULL AND url = $3) LIMIT 1",
            channel,
            external_id,
            url,
        )
        if row:
            found[index] = int(row["id"])
    return found


async def get_mention(conn: Conn, mention_id: int, *, now: datetime) -> Mention:
    row = await conn.fetchrow(f"SELECT {MENTION_COLUMNS} FROM mentions WHERE id = $1", mention_id)
    if row is None:
        raise NotFound(f"mention {mention_id} does not exist")
    return mention_from_row(row, now=now)


@dataclass(frozen=True, kw_only=True)
class MentionFilter:
    status: str | None = None
    intent: str | None = None
    addressed: bool | None = None
    channel: str | None = None
    sentiment_below: float | None = None
    sentiment_above: float | None = None
    after_id: int = 0
    limit: int = 50


async def list_mentions(conn: Conn, where: MentionFilter, *, now: datetime) -> list[Mention]:
    rows = await conn.fetch(
        f"SELECT {MENTION_COLUMNS} FROM mentions WHERE id > $1"
        " AND ($2::text IS NULL OR status = $2)"
        " AND ($3::text IS NULL OR intent = $3)"
        " AND ($4::boolean IS NULL OR addressed = $4)"
        " AND ($5::text IS NULL OR channel = $5)"
        " AND ($6::float8 IS NULL OR sentiment_compound < $6)"
        " AND ($7::float8 IS NULL OR sentiment_compound > $7)"
        " ORDER BY id LIMIT $8",
        where.after_id,
        where.status,
        where.intent,
        where.addressed,
        where.channel,
        where.sentiment_below,
        where.sentiment_above,
        where.limit,
    )
    return [mention_from_row(r, now=now) for r in rows]


async def claim_mention(
    conn: Conn, mention_id: int, *, agent: str, now: datetime, until: datetime
) -> Mention:
    """Reserve a mention for one agent; Conflict while another agent's claim is live."""
    row = await conn.fetchrow(
        f"UPDATE mentions SET claimed_by = $2, claim_expires_at = $4 WHERE id = $1"
        " AND (claimed_by IS NULL OR claimed_by = $2 OR claim_expires_at <= $3)"
        f" RETURNING {MENTION_COLUMNS}",
        mention_id,
        agent,
        now,
        until,
    )
    if row is not None:
        return mention_from_row(row, now=now)
    current = await get_mention(conn, mention_id, now=now)
    holder = current.claim.agent if current.claim else "another agent"
    expires = current.claim.expires_at.isoformat() if current.claim else "soon"
    raise Conflict(f"mention {mention_id} is claimed by {holder} until {expires}")


async def set_status(conn: Conn, mention_id: int, status: str) -> None:
    await conn.execute("UPDATE mentions SET status = $2 WHERE id = $1", mention_id, status)


async def release_claim(conn: Conn, mention_id: int, *, agent: str, now: datetime) -> Mention:
    """Give a claim up; Conflict when another agent holds it (an expired claim, or none,
    releases as a no-op)."""
    row = await conn.fetchrow(
        "UPDATE mentions SET claimed_by = NULL, claim_expires_at = NULL WHERE id = $1"
        " AND (claimed_by IS NULL OR claimed_by = $2 OR claim_expires_at <= $3)"
        f" RETURNING {MENTION_COLUMNS}",
        mention_id,
        agent,
        now,
    )
    if row is not None:
        return mention_from_row(row, now=now)
    current = await get_mention(conn, mention_id, now=now)
    holder = current.claim.agent if current.claim else "another agent"
    raise Conflict(f"mention {mention_id} is claimed by {holder}; only they can release it")


async def thread_mentions(
    conn: Conn, *, channel: str, thread_id: str, now: datetime, limit: int = 20
) -> list[Mention]:
    """The latest mentions of one thread, oldest first."""
    rows = await conn.fetch(
        f"SELECT {MENTION_COLUMNS} FROM mentions WHERE channel = $1 AND thread_id = $2"
        " ORDER BY created_at DESC, id DESC LIMIT $3",
        channel,
        thread_id,
        limit,
    )
    return [mention_from_row(r, now=now) for r in reversed(rows)]


async def set_status_many(conn: Conn, mention_ids: list[int], status: str) -> None:
    await conn.execute(
        "UPDATE mentions SET status = $2 WHERE id = ANY($1::bigint[])", mention_ids, status
    )


async def intents_by_external_id(
    conn: Conn, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The stored intent of each (channel, external_id) that is a stored mention."""
    if not keys:
        return {}
    rows = await conn.fetch(
        "SELECT channel, external_id, intent FROM mentions"
        " WHERE (channel, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        [channel for channel, _ in keys],
        [external_id for _, external_id in keys],
    )
    return {(r["channel"], r["external_id"]): r["intent"] for r in rows}


async def lock_mention(conn: Conn, mention_id: int, *, now: datetime) -> Mention:
    """Read a mention and lock it against concurrent claims for this transaction."""
    row = await conn.fetchrow(
        f"SELECT {MENTION_COLUMNS} FROM mentions WHERE id = $1 FOR UPDATE", mention_id
    )
    if row is None:
        raise NotFound(f"mention {mention_id} does not exist")
    return mention_from_row(row, now=now)


async def lock_mentions(conn: Conn, mention_ids: list[int], *, now: datetime) -> dict[int, Mention]:
    """Read and lock these mentions (in id order, so two batches cannot deadlock on
    them) for this transaction; a missing id is simply absent from the result."""
    rows = await conn.fetch(
        f"SELECT {MENTION_COLUMNS} FROM mentions WHERE id = ANY($1::bigint[])"
        " ORDER BY id FOR UPDATE",
        sorted(set(mention_ids)),
    )
    return {int(r["id"]): mention_from_row(r, now=now) for r in rows}


async def mark_proposed(conn: Conn, mention_ids: list[int]) -> None:
    """Mentions still ``new`` become ``proposed`` (a reply was proposed for them)."""
    await conn.execute(
        "UPDATE mentions SET status = 'proposed' WHERE id = ANY($1::bigint[]) AND status = 'new'",
        sorted(set(mention_ids)),
    )
