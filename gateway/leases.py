"""Jobs that run once per deployment, however many gateway processes run.

``run_with_lease(dsn, name, job, stop)`` runs ``job(job_stop)`` only while this process
holds the lease ``name`` (a PostgreSQL session advisory lock on a connection of its own).
Every other process waits and tries again every ``retry_s``; when the holder dies its
session ends, the lock is released by PostgreSQL, and the next try takes it over. The
holder checks its session every ``check_s``: a lost session means a lost lease, so the job
is stopped (the next holder may already run it). A job that ends or crashes while the lease
is held gives the lease up and is started again on the next try.

Correctness never rests on the lease: two release workers could not publish one reply twice
(SKIP LOCKED, the releasing lease, idempotency keys), two checkpointers would write the same
checkpoint. The lease keeps the channel's rate budget and the work in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg
import structlog

from gateway.store import leases

log = structlog.get_logger(__name__)

Job = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
_DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


async def run_with_lease(
    dsn: str,
    name: str,
    job: Job,
    stop: asyncio.Event,
    *,
    retry_s: float = 2.0,
    check_s: float = 2.0,
    check_timeout_s: float | None = None,
) -> None:
    """Hold the lease and run the job until ``stop``; wait for the lease meanwhile.

    The holder checks its session every ``check_s``; a check not answered within
    ``check_timeout_s`` (default ``check_s``) counts as the session lost: the job stops."""
    timeout_s = check_s if check_timeout_s is None else check_timeout_s
    while not stop.is_set():
        conn: asyncpg.Connection | None = None
        try:
            # A direct session of its own: a session lock cannot live behind PgBouncer's
            # transaction pooling, nor in a pooled connection handed to others.
            conn = await asyncio.wait_for(asyncpg.connect(dsn), 10)
            while not stop.is_set():
                if await leases.try_take(conn, name):
                    log.info("lease_taken", lease=name)
                    await _hold(conn, name, job, stop, check_s, timeout_s)
                    break
                await _sleep(stop, retry_s)
        except _DB_ERRORS as exc:
            log.warning("lease_unavailable", lease=name, error=str(exc))
        finally:
            if conn is not None:
                with contextlib.suppress(*_DB_ERRORS):
                    await asyncio.wait_for(conn.close(), 5)  # ends the session: the lease too
        await _sleep(stop, retry_s)


async def _hold(
    conn: asyncpg.Connection,
    name: str,
    job: Job,
    stop: asyncio.Event,
    check_s: float,
    timeout_s: float,
) -> None:
    job_stop = asyncio.Event()
    task = asyncio.create_task(job(job_stop), name=f"lease:{name}")
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while not task.done() and not stop.is_set():
            await asyncio.wait(
                [task, stopping],
                timeout=check_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if task.done() or stop.is_set():
                break
            try:
                await asyncio.wait_for(leases.still_connected(conn), timeout_s)
            except _DB_ERRORS as exc:
                log.warning("lease_lost", lease=name, error=str(exc))
                break
    finally:
        stopping.cancel()
        job_stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), 15)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        except Exception as exc:  # the job crashed: give the lease up, start it again later
            log.error("lease_job_crashed", lease=name, error=repr(exc))
        log.info("lease_released", lease=name)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
