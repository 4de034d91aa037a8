"""Source cursors: where each source's next fetch starts (the gateway owns them)."""

from __future__ import annotations

from gateway.store.connection import Conn


async def get_cursor(conn: Conn, source: str) -> str | None:
    value = await conn.fetchval("SELECT cursor FROM source_cursors WHERE source = $1", source)
    return str(value) if value is not None else None


async def set_cursor(conn: Conn, source: str, cursor: str | None) -> None:
    await conn.execute(
        "INSERT INTO source_cursors (source, cursor, updated_at) VALUES ($1, $2, now())"
        " ON CONFLICT (source) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()",
        source,
        cursor,
    )
