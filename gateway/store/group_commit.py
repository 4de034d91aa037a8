"""Group commit: many requests' writes in one transaction, one WAL flush, few statements.

Audit appends are serialized by the chain head, and a durable commit waits for the WAL
to reach the disk, so one transaction per request caps throughput at about one commit
per flush. Running each request's statements one after another inside a shared
transaction still costs a round trip per statement per request, so the writer hands the
whole batch to ``flush``, which runs one statement per kind for all of its jobs.

``flush(conn, jobs)`` runs inside the batch's transaction and returns one outcome per job,
in order: a result, or an exception for a job that failed validation (it must have
written nothing: validation comes before the batch's writes, so no savepoint is needed
and a refused job does not poison the others). The writer commits once and only then
answers each job: a request is answered only after its batch committed. It flushes as
soon as jobs arrive (no timer); while one batch commits, the next accumulates.

If the database refuses the batch (a constraint, a deadlock, a lost connection), nothing
of it was committed; each job is then tried again alone, so a job the database refuses
fails alone, with ``Unavailable`` (the request may be retried).

If the writer task itself dies (an unexpected exception, someone cancels it), every job
waiting for it (the batch it was writing and those queued) is answered ``Unavailable``
at once instead of waiting forever; for ``restart_delay_s`` the writer is reported down
(``ready``) and new jobs are refused with ``Unavailable``; then it starts again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import asyncpg
import structlog

from gateway.store.connection import Conn
from gateway.store.errors import Unavailable

log = structlog.get_logger(__name__)

J = TypeVar("J")
R = TypeVar("R")
Flush = Callable[[Conn, list[J]], Awaitable[Sequence[R | Exception]]]

_DATABASE_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, Unavailable)


class GroupCommitter(Generic[J, R]):
    def __init__(
        self,
        pool: asyncpg.Pool,
        flush: Flush[J, R],
        *,
        max_batch: int = 256,
        restart_delay_s: float = 1.0,
    ) -> None:
        self._pool = pool
        self._flush = flush
        self._max_batch = max_batch
        self.restart_delay_s = restart_delay_s
        self._queue: asyncio.Queue[tuple[J, asyncio.Future[R]]] = asyncio.Queue()
        self._writing: list[tuple[J, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self._restart: asyncio.TimerHandle | None = None
        self._closing = False
        self.deaths = 0  # how often the writer died (and was restarted)

    @property
    def ready(self) -> bool:
        """False while the writer is down, between its death and its restart."""
        return self._restart is None

    @property
    def idle(self) -> bool:
        """Nothing is being written and nothing waits: a job submitted now is written
        next, alone unless others arrive before the writer takes it."""
        return self.ready and not self._writing and self._queue.empty()

    @property
    def waiting(self) -> int:
        """Jobs queued for the next batch."""
        return self._queue.qsize()

    async def submit(self, job: J) -> R:
        """Write ``job`` in the next batch transaction; its result once committed.

        ``Unavailable`` when the writer is down (restarting) or dies before answering."""
        if not self.ready:
            raise Unavailable(
                "the decision writer is restarting after a failure; try again in a moment"
            )
        self._closing = False
        self._start()
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((job, future))
        return await future

    async def close(self) -> None:
        self._closing = True
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._fail_waiting("the gateway is shutting down")

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")
            self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        """The writer task stopped: unless closing, it died. Answer everyone waiting for
        it, report it down, and start it again after ``restart_delay_s``."""
        if task is not self._task or self._closing:
            return
        self._task = None
        self.deaths += 1
        error = "cancelled" if task.cancelled() else repr(task.exception())
        waiting = self._fail_waiting(
            "the decision writer failed before this proposal was confirmed; "
            "list the mention's proposals, then try again"
        )
        log.error(
            "group_commit_writer_died",
            error=error,
            jobs_failed=waiting,
            restart_in_s=self.restart_delay_s,
        )
        self._restart = asyncio.get_running_loop().call_later(self.restart_delay_s, self._restarted)

    def _restarted(self) -> None:
        self._restart = None
        if not self._closing:
            self._start()
            log.info("group_commit_writer_restarted", deaths=self.deaths)

    def _fail_waiting(self, message: str) -> int:
        waiting = [*self._writing]
        self._writing = []
        while not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        for _job, future in waiting:
            _answer(future, Unavailable(message))
        return len(waiting)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < self._max_batch:
                batch.append(self._queue.get_nowait())
            self._writing = batch
            await self._write(batch)
            self._writing = []

    async def _write(self, batch: list[tuple[J, asyncio.Future[R]]]) -> None:
        try:
            outcomes = await self._commit([job for job, _future in batch])
        except _DATABASE_ERRORS as exc:
            log.warning("group_commit_failed", jobs=len(batch), error=str(exc))
            if len(batch) == 1:
                _answer(batch[0][1], _unavailable(exc))
                return
            for job, future in batch:  # find the job the database refuses: alone
                try:
                    [outcome] = await self._commit([job])
                except _DATABASE_ERRORS as alone:
                    outcome = _unavailable(alone)
                _answer(future, outcome)
            return
        for (_job, future), outcome in zip(batch, outcomes, strict=True):
            _answer(future, outcome)

    async def _commit(self, jobs: list[J]) -> Sequence[R | Exception]:
        async with self._pool.acquire() as conn, conn.transaction():
            outcomes = await self._flush(conn, jobs)
            if len(outcomes) != len(jobs):  # a bug: roll the batch back
                raise RuntimeError(f"flush answered {len(outcomes)} of {len(jobs)} jobs")
        return outcomes


def _unavailable(exc: BaseException) -> Unavailable:
    if isinstance(exc, Unavailable):
        return exc
    error = Unavailable(f"could not store the batch: {exc}")
    error.__cause__ = exc
    return error


def _answer(future: asyncio.Future[R], outcome: R | Exception) -> None:
    if future.done():
        return  # the caller went away; its write stands, like any committed one
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
