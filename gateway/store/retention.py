"""Purging old mention texts (retention); audit events are never touched."""

from __future__ import annotations

from datetime import datetime

from gateway.store.connection import Conn


async def purge_mention_texts(conn: Conn, *, older_than: datetime, now: datetime) -> int:
    """Blank the text and profile fields of mentions ingested before ``older_than``."""
    status = await conn.execute(
        "UPDATE mentions SET text = '', author_display_name = '', author_description = '',"
        " text_purged_at = $2 WHERE ingested_at < $1 AND text_purged_at IS NULL",
        older_than,
        now,
    )
    return int(status.split()[-1])
