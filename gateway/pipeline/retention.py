"""The retention job: mention texts older than ``retention_days`` are purged, audited."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from gateway.store import audit, retention
from gateway.store.errors import LOOP_ERRORS

log = structlog.get_logger(__name__)


async def purge_once(pool: asyncpg.Pool, *, days: int) -> int:
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=days)
    async with pool.acquire() as conn, conn.transaction():
        purged = await retention.purge_mention_texts(conn, older_than=cutoff, now=now)
        if purged:
            await audit.append(
                conn,
                kind="retention_purged",
                actor="system",
                subject="mentions",
                payload={
                    "mentions": purged,
                    "ingested_before": cutoff.isoformat(),
                    "retention_days": days,
                },
            )
    if purged:
        log.info("mention_texts_purged", count=purged, retention_days=days)
    return purged


async def run_retention(
    pool: asyncpg.Pool, *, days: int, stop: asyncio.Event, every_s: float = 3600.0
) -> None:
    while not stop.is_set():
        try:
            await purge_once(pool, days=days)
        except LOOP_ERRORS as exc:
            log.warning("retention_failed", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
