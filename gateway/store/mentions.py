"""Mentions: insert with dedupe, read, filter, claim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec

from gateway.domain.records import Mention, NewMention
from gateway.store._rows import MENTION_COLUMNS, mention_from_row
from gateway.store.connection import Conn
from gateway.store.errors import Conflict, NotFound

_INSERT_COLUMNS = (
    "channel, external_id, url, author_handle, author_display_name, text, created_at,"
    " in_reply_to, thread_id, addressed_hint, intent, intent_features, sentiment_compound,"
    " sentiment_pos, sentiment_neu, sentiment_neg, addressed, addressed_via, optout_requested,"
    " author_bot, author_description, visibility, is_direct, channel_data, customer_id,"
    " optout_signal, language, intents"
)
# One statement for the whole batch: the rows in input order (identity ids follow it), each
# skipped when it conflicts with a stored row or an earlier row of the same batch.
_INSERT_BATCH = (
    f"INSERT INTO mentions ({_INSERT_COLUMNS})"
    " SELECT channel, external_id, url, author_handle, author_display_name, text, created_at,"
    " in_reply_to, thread_id, addressed_hint, intent, intent_features::jsonb,"
    " sentiment_compound, sentiment_pos, sentiment_neu, sentiment_neg, addressed,"
    " addressed_via, optout_requested, author_bot, author_description, visibility,"
    " is_direct, channel_data::jsonb, customer_id, optout_signal, language, intents::jsonb"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
    " $7::timestamptz[], $8::text[], $9::text[], $10::boolean[], $11::text[], $12::text[],"
    " $13::float8[], $14::float8[], $15::float8[], $16::float8[], $17::boolean[],"
    " $18::text[], $19::boolean[], $20::boolean[], $21::text[], $22::text[], $23::boolean[],"
    " $24::text[], $25::text[], $26::text[], $27::text[], $28::text[]) WITH ORDINALITY"
    f" AS r({_INSERT_COLUMNS}, ord)"
    " ORDER BY ord"
    " ON CONFLICT DO NOTHING RETURNING id, channel, external_id, url"
)
_json = msgspec.json.Encoder()


async def insert_mentions(conn: Conn, batch: list[NewMention]) -> list[int | None]:
    """Store a batch with one statement; for each mention, in order, its new id or None
    when it is a duplicate (same channel+external id, or url, as a stored mention or an
    earlier one of the batch: the first is stored, as if inserted one after another)."""
    if not batch:
        return []
    rows = await conn.fetch(
        _INSERT_BATCH,
        [m.channel for m in batch],
        [m.external_id for m in batch],
        [m.url for m in batch],
        [m.author_handle for m in batch],
        [m.author_display_name for m in batch],
        [m.text for m in batch],
        [m.created_at for m in batch],
        [m.in_reply_to for m in batch],
        [m.thread_id for m in batch],
        [m.addressed_hint for m in batch],
        [m.intent for m in batch],
        [_json.encode(m.intent_features).decode() for m in batch],
        [m.sentiment.compound for m in batch],
        [m.sentiment.pos for m in batch],
        [m.sentiment.neu for m in batch],
        [m.sentiment.neg for m in batch],
        [m.addressed for m in batch],
        [m.addressed_via for m in batch],
        [m.optout_requested for m in batch],
        [m.author_bot for m in batch],
        [m.author_description for m in batch],
        [m.visibility for m in batch],
        [m.is_direct for m in batch],
        [_json.encode(m.channel_data).decode() for m in batch],
        [m.customer_id for m in batch],
        [m.optout_signal for m in batch],
        [m.language for m in batch],
        [_json.encode(m.intents).decode() for m in batch],
    )
    # A stored row is the first mention of the batch with its (channel, external id, url):
    # a later one with the same three conflicts with it, and an earlier one that conflicted
    # with something would have conflicted the same way.
    inserted = {(r["channel"], r["external_id"], r["url"]): int(r["id"]) for r in rows}
    ids: list[int | None] = []
    for m in batch:
        ids.append(inserted.pop((m.channel, m.external_id, m.url), None))
    return ids


async def existing_ids(conn: Conn, keys: list[tuple[str, str, str | None]]) -> dict[int, int]:
    """For (channel, external_id, url) keys, the index → id of a mention stored under that
    channel and external id, or that url, in one query."""
    if not keys:
        return {}
    rows = await conn.fetch(
        "SELECT k.ord, found.id FROM unnest($1::text[], $2::text[], $3::text[])"
        " WITH ORDINALITY AS k(channel, external_id, url, ord)"
        " CROSS JOIN LATERAL (SELECT m.id FROM mentions m"
        " WHERE (m.channel = k.channel AND m.external_id = k.external_id)"
        " OR (k.url IS NOT NULL AND m.url = k.url) LIMIT 1) AS found",
        [channel for channel, _, _ in keys],
        [external_id for _, external_id, _ in keys],
        [url for _, _, url in keys],
    )
    return {int(r["ord"]) - 1: int(r["id"]) for r in rows}


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
