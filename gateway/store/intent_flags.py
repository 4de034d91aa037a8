"""Intent flags: agents' statements that a mention's classified intent is wrong."""

from __future__ import annotations

from datetime import datetime

import msgspec

from gateway.domain.classification import IntentScore
from gateway.domain.records import IntentFlag
from gateway.store._rows import INTENT_FLAG_COLUMNS, intent_flag_from_row
from gateway.store.connection import Conn


class FlaggedExample(msgspec.Struct, frozen=True, kw_only=True):
    """A flagged mention as the evaluation set needs it (latest flag per mention)."""

    flag: IntentFlag
    text: str
    language: str | None
    intents: list[IntentScore]
    sentiment_compound: float


async def add_flag(
    conn: Conn,
    *,
    mention_id: int,
    intent: str,
    classified_intent: str,
    flagged_by: str,
    note: str,
    now: datetime,
) -> IntentFlag:
    """Record the flag and mark the mention with the flagged intent (caller's transaction;
    the mention must exist and be locked by the caller)."""
    row = await conn.fetchrow(
        "INSERT INTO intent_flags (mention_id, intent, classified_intent, flagged_by, note,"
        f" created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {INTENT_FLAG_COLUMNS}",
        mention_id,
        intent,
        classified_intent,
        flagged_by,
        note,
        now,
    )
    assert row is not None
    await conn.execute("UPDATE mentions SET flagged_intent = $2 WHERE id = $1", mention_id, intent)
    return intent_flag_from_row(row)


async def flags_of(conn: Conn, mention_id: int) -> list[IntentFlag]:
    rows = await conn.fetch(
        f"SELECT {INTENT_FLAG_COLUMNS} FROM intent_flags WHERE mention_id = $1 ORDER BY id",
        mention_id,
    )
    return [intent_flag_from_row(r) for r in rows]


async def flagged_examples(
    conn: Conn, *, after_id: int = 0, limit: int = 1000
) -> list[FlaggedExample]:
    """The latest flag of each flagged mention whose text is still stored (not purged by
    retention or erased), by flag id."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (f.mention_id) f.id, f.mention_id, f.intent, f.classified_intent,"
        " f.flagged_by, f.note, f.created_at, m.text, m.language, m.intents,"
        " m.sentiment_compound"
        " FROM intent_flags f JOIN mentions m ON m.id = f.mention_id"
        " WHERE m.text <> '' ORDER BY f.mention_id, f.id DESC",
    )
    examples = [
        FlaggedExample(
            flag=intent_flag_from_row(r),
            text=r["text"],
            language=r["language"],
            intents=msgspec.convert(r["intents"], list[IntentScore]),
            sentiment_compound=r["sentiment_compound"],
        )
        for r in rows
    ]
    examples.sort(key=lambda e: e.flag.id)
    return [e for e in examples if e.flag.id > after_id][:limit]
