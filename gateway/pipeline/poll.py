"""Polling a source: fetch from the stored cursor, ingest, then store the new cursor.

The cursor is stored only after the batch is ingested, so a crash re-fetches (and dedupe
absorbs) rather than skipping mentions.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

import asyncpg
import structlog

from connectors.contract import ConnectorError, Source
from gateway.pipeline.ingest import Ingestor
from gateway.store import cursors
from gateway.store.errors import LOOP_ERRORS

log = structlog.get_logger(__name__)


# A channel that fails or a database that went away: logged, backed off, polled again.
_EXPECTED: tuple[type[Exception], ...] = (ConnectorError, *LOOP_ERRORS)


async def poll_once(pool: asyncpg.Pool, ingestor: Ingestor, name: str, source: Source) -> int:
    async with pool.acquire() as conn:
        cursor = await cursors.get_cursor(conn, name)
    batch = await source.fetch(cursor)
    if batch.mentions:
        await ingestor.ingest(batch.mentions, actor=f"source:{name}")
    async with pool.acquire() as conn:
        await cursors.set_cursor(conn, name, batch.cursor)
    return len(batch.mentions)


async def poll_forever(
    pool: asyncpg.Pool,
    ingestor: Ingestor,
    name: str,
    source: Source,
    *,
    interval_s: float,
    stop: asyncio.Event,
) -> None:
    """Poll on an interval with jitter; back off (up to 10 intervals) after errors."""
    failures = 0
    while not stop.is_set():
        try:
            count = await poll_once(pool, ingestor, name, source)
            failures = 0
            log.info("source_polled", source=name, mentions=count)
        except _EXPECTED as exc:
            failures += 1
            log.warning("source_poll_failed", source=name, error=str(exc), failures=failures)
        except Exception as exc:  # a connector bug must not stop this source for good
            failures += 1
            log.exception("source_poll_crashed", source=name, error_type=type(exc).__name__)
        delay = interval_s * min(2**failures, 10) * random.uniform(0.9, 1.1)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
