"""Group commit: many requests' writes in one transaction, one WAL flush.

Audit appends are serialized by the chain head, and a durable commit waits for the WAL
to reach the disk, so one transaction per request caps throughput at about one commit
per flush. The writer takes every job waiting, runs each in its own savepoint (a failing
job fails alone), commits once, and only then answers each job: a request is answered
only after its batch committed. It flushes as soon as jobs arrive (no timer); while one
batch commits, the next accumulates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import structlog

from gateway.store.connection import Conn
from gateway.store.errors import Unavailable

log = structlog.get_logger(__name__)

T = TypeVar("T")
Work = Callable[[Conn], Awaitable[Any]]


class GroupCommitter:
    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = 256) -> None:
        self._pool = pool
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Work, asyncio.Future[Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, work: Callable[[Conn], Awaitable[T]]) -> T:
        """Run ``work`` inside the next batch transaction; its result once committed."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((work, future))
        result: T = await future
        return result

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self._queue.empty():
            _work, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(Unavailable("the gateway is shutting down"))

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < self._max_batch:
                batch.append(self._queue.get_nowait())
            await self._write(batch)

    async def _write(self, batch: list[tuple[Work, asyncio.Future[Any]]]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                for work, future in batch:
                    try:
                        async with conn.transaction():  # a savepoint per job
                            outcomes.append((future, await work(conn), None))
                    except Exception as exc:
                        outcomes.append((future, None, exc))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("group_commit_failed", jobs=len(batch), error=str(exc))
            for _work, future in batch:
                if not future.done():
                    future.set_exception(Unavailable(f"could not store the batch: {exc}"))
            return
        for future, value, error in outcomes:
            if future.done():
                continue  # the caller went away; its write stands, like any committed one
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
