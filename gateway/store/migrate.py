"""Schema migrations: numbered plain SQL files, each applied once, in order.

A migration that SQL alone cannot do has a Python step (``_PYTHON_STEPS``), run in the
same transaction right after its file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

import structlog

from gateway.store.connection import Conn
from gateway.store.identity_backfill import backfill_identities
from gateway.store.policies import backfill_content

log = structlog.get_logger(__name__)

_LOCK_KEY = 7_410_221  # advisory lock: two processes starting at once migrate one at a time
_PYTHON_STEPS: dict[str, Callable[[Conn], Awaitable[Any]]] = {
    "0009_identity.sql": backfill_identities,
    "0012_policy_revision_bytes.sql": backfill_content,
}


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("gateway.store") / "migrations"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in names]


async def apply_migrations(conn: Conn, *, stop_before: str | None = None) -> list[str]:
    """Apply every migration not yet recorded (those before ``stop_before`` only, when
    given: tests of a migration start from the schema before it); returns the names
    applied now."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        applied: list[str] = []
        for name, sql in migration_files():
            if stop_before is not None and name >= stop_before:
                break
            if name in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                if name in _PYTHON_STEPS:
                    await _PYTHON_STEPS[name](conn)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            log.info("migration_applied", migration=name)
            applied.append(name)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
