"""Schema migrations: numbered plain SQL files, each applied once, in order."""

from __future__ import annotations

from importlib import resources

import structlog

from gateway.store.connection import Conn

log = structlog.get_logger(__name__)

_LOCK_KEY = 7_410_221  # advisory lock: two processes starting at once migrate one at a time


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("gateway.store") / "migrations"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in names]


async def apply_migrations(conn: Conn) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied now."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        applied: list[str] = []
        for name, sql in migration_files():
            if name in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            log.info("migration_applied", migration=name)
            applied.append(name)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
