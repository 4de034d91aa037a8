"""The one poller: every enabled source polled on its interval, each on its own.

``SourceScheduler.run(stop)`` re-reads the configured sources every
``settings.source_refresh_s`` and keeps one task per enabled polled source (RSS, Mastodon,
Bluesky; webhooks are pushed). A source added, changed (its ``version``), disabled or removed
is picked up at the next re-read: its task is started, restarted or stopped. So a slow or
broken source never delays the others, and each poll (fetch and ingest) is abandoned after
``settings.source_poll_timeout_s``.

One poll::

    wait until next_poll_at (the database's clock)
    take the poll lease (UPDATE ... WHERE due AND lease free)   another instance has it: wait
    fetch(stored cursor) ─► ingest (actor source:NAME)
    ONE transaction: store the new cursor + record success, next_poll_at = interval ±10 %
    on error: record it (last_error, consecutive_failures), next_poll_at = backoff

The lease (a row lock would need a connection held for the whole poll) makes sure two
gateway instances never poll one source at once; it expires after the poll timeout plus a
margin, so a crashed instance's sources are polled again by the others. The cursor is
stored only after the batch is ingested, and only while the lease is still ours: a crash
re-fetches (dedupe absorbs it) rather than skipping mentions.

Backoff after n consecutive failures: ``interval * 2**n``, at most
``source_max_backoff_s`` (never less than the interval), ±10 %; a ``TransientError`` with
``retry_after`` (a 429's Retry-After) waits at least that long (at most a day).

A source built from the settings rather than configured (the demo source) has no row,
health or lease of its own: ``poll_built_in`` polls it on a fixed interval (the caller runs
it once per deployment), with the same cursor rule and a backoff of at most 10 intervals.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets as token
import socket
import time
from collections.abc import Callable

import asyncpg
import httpx
import structlog

from connectors.contract import Batch, ConnectorError, Source, TransientError
from gateway.domain.source_errors import SourceError
from gateway.domain.sources import POLLED_KINDS, SourceRecord
from gateway.pipeline.errors import PipelineError
from gateway.pipeline.ingest import Ingestor
from gateway.secrets import Secrets
from gateway.settings import Settings
from gateway.sources.build import Connectors
from gateway.store import cursors
from gateway.store import sources as store
from gateway.store.errors import LOOP_ERRORS

log = structlog.get_logger(__name__)

MAX_RETRY_AFTER_S = 24 * 3600.0
_LEASE_MARGIN_S = 30.0
_CLAIM_RETRY_S = (0.05, 0.5)
_DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


def next_delay(
    interval_s: float,
    *,
    failures: int = 0,
    max_backoff_s: float = 3600.0,
    retry_after: float | None = None,
    rng: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds until the next poll after a success (``failures == 0``) or the n-th failure."""
    base = interval_s
    if failures > 0:
        base = min(interval_s * 2 ** min(failures, 30), max(max_backoff_s, interval_s))
    delay = base * rng(0.9, 1.1)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return delay


async def fetch_and_ingest(
    pool: asyncpg.Pool, ingestor: Ingestor, name: str, source: Source
) -> Batch:
    """Fetch from the stored cursor and ingest; the caller stores ``batch.cursor`` after."""
    async with pool.acquire() as conn:
        cursor = await cursors.get_cursor(conn, name)
    batch = await source.fetch(cursor)
    if batch.mentions:
        await ingestor.ingest(batch.mentions, actor=f"source:{name}")
    return batch


# A built-in source's channel that fails or a database that went away: logged, backed off.
_BUILT_IN_EXPECTED: tuple[type[Exception], ...] = (ConnectorError, *LOOP_ERRORS)


async def poll_built_in(
    pool: asyncpg.Pool,
    ingestor: Ingestor,
    name: str,
    source: Source,
    *,
    interval_s: float,
    stop: asyncio.Event,
) -> None:
    """Poll a source built in, not configured, every ``interval_s`` (±10 %) until ``stop``;
    after n failures in a row wait ``interval_s * 2**n``, at most 10 intervals."""
    failures = 0
    while not stop.is_set():
        try:
            batch = await fetch_and_ingest(pool, ingestor, name, source)
            async with pool.acquire() as conn:
                await cursors.set_cursor(conn, name, batch.cursor)
            failures = 0
            log.info("source_polled", source=name, mentions=len(batch.mentions))
        except _BUILT_IN_EXPECTED as exc:
            failures += 1
            log.warning("source_poll_failed", source=name, error=str(exc), failures=failures)
        except Exception as exc:  # a connector bug must not stop this source for good
            failures += 1
            log.exception("source_poll_crashed", source=name, error_type=type(exc).__name__)
        delay = next_delay(interval_s, failures=failures, max_backoff_s=10 * interval_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


class SourceScheduler:
    """Polls the configured sources (behaviour in the module docstring).

    ``http_client_factory(allow_private)`` returns the client a source uses; the caller
    owns the clients (``gateway.net_guard.OutboundClients.client`` fits). ``secrets``
    resolves stored and ``env:`` secrets (default: from ``settings`` and ``os.environ``).
    Pass the ``connectors`` given to ``configured_publishers`` to share Bluesky sessions
    (logins are rate-limited). ``instance`` names this process in leases (default: host,
    pid and a random suffix).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        ingestor: Ingestor,
        http_client_factory: Callable[[bool], httpx.AsyncClient],
        settings: Settings,
        *,
        secrets: Secrets | None = None,
        connectors: Connectors | None = None,
        instance: str | None = None,
    ) -> None:
        self._pool = pool
        self._ingestor = ingestor
        self._settings = settings
        self._secrets = secrets if secrets is not None else Secrets(settings)
        self._connectors = connectors or Connectors(
            http_client_factory, timeout_s=settings.outbound_timeout_s
        )
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}:{token.token_hex(3)}"
        self._running: dict[str, tuple[int, asyncio.Task[None]]] = {}
        self._retired: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("source_scheduler_started", instance=self.instance)
        try:
            while not stop.is_set():
                try:
                    async with self._pool.acquire() as conn:
                        records = await store.list_sources(conn)
                except _DB_ERRORS as exc:
                    log.warning("source_scheduler_refresh_failed", error=str(exc))
                else:
                    self._reconcile(records)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._settings.source_refresh_s)
        finally:
            for _version, task in self._running.values():
                self._retire(task)
            self._running.clear()
            await asyncio.gather(*self._retired, return_exceptions=True)
            log.info("source_scheduler_stopped", instance=self.instance)

    @property
    def polling(self) -> list[str]:
        """The names of the sources with a running poller."""
        return sorted(self._running)

    def _reconcile(self, records: list[SourceRecord]) -> None:
        wanted = {r.name: r for r in records if r.enabled and r.kind in POLLED_KINDS}
        for name, (version, task) in list(self._running.items()):
            record = wanted.get(name)
            if record is None or record.version != version or task.done():
                self._retire(task)
                del self._running[name]
        for name, record in wanted.items():
            if name not in self._running:
                poller = _Poller(self, record)
                task = asyncio.create_task(poller.run(), name=f"source:{name}")
                self._running[name] = (record.version, task)

    def _retire(self, task: asyncio.Task[None]) -> None:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("source_poller_crashed", task=task.get_name(), error=str(task.exception()))
        task.cancel()
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)


class _Poller:
    """Polls one source at one configuration version until cancelled or outdated."""

    def __init__(self, scheduler: SourceScheduler, record: SourceRecord) -> None:
        self._s = scheduler
        self._record = record
        self._name = record.name
        self._source: Source | None = None
        settings = scheduler._settings
        self._timeout_s = settings.source_poll_timeout_s
        self._lease_s = settings.source_poll_timeout_s + _LEASE_MARGIN_S

    async def run(self) -> None:
        while True:
            claimed = False
            try:
                async with self._s._pool.acquire() as conn:
                    slot = await store.poll_slot(conn, self._name)
                    if slot is not None and slot.wait_s == 0:
                        claimed = await store.claim_poll(
                            conn,
                            self._name,
                            version=self._record.version,
                            owner=self._s.instance,
                            lease_s=self._lease_s,
                        )
            except _DB_ERRORS as exc:
                log.warning("source_slot_unreadable", source=self._name, error=str(exc))
                await asyncio.sleep(self._s._settings.source_refresh_s)
                continue
            if slot is None or not slot.enabled or slot.version != self._record.version:
                return  # removed or changed: the scheduler starts what is wanted now
            if slot.wait_s > 0:
                await asyncio.sleep(slot.wait_s)
            elif claimed:
                await self._poll_leased()
            else:
                await asyncio.sleep(random.uniform(*_CLAIM_RETRY_S))

    async def _poll_leased(self) -> None:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._timeout_s):
                batch = await self._fetch_and_ingest()
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(self._release())
            raise
        except TransientError as exc:
            await self._failed(str(exc), retry_after=exc.retry_after)
        except (ConnectorError, SourceError) as exc:
            await self._failed(str(exc))
        except TimeoutError:
            await self._failed(f"no complete poll within {self._timeout_s:g} s; abandoned")
        except PipelineError as exc:
            await self._failed(f"ingest refused the batch: {exc}")
        except _DB_ERRORS as exc:
            await self._failed(f"database unavailable: {exc}")
        except Exception as exc:  # a connector bug must not stop this source for good
            log.exception("source_poll_crashed", source=self._name, error_type=type(exc).__name__)
            await self._failed(f"internal error ({type(exc).__name__}); see the gateway's log")
        else:
            try:
                await self._succeeded(batch, time.monotonic() - started)
            except _DB_ERRORS as exc:  # the lease expires; the batch is re-fetched, deduped
                log.warning("source_health_unrecorded", source=self._name, error=str(exc))

    async def _fetch_and_ingest(self) -> Batch:
        source = await self._built()
        return await fetch_and_ingest(self._s._pool, self._s._ingestor, self._name, source)

    async def _built(self) -> Source:
        if self._source is None:
            async with self._s._pool.acquire() as conn:
                sealed = await store.sealed_secret(conn, self._name)
            secret = self._s._secrets.resolve(self._name, sealed)
            self._source = self._s._connectors.source(self._record, secret)
        return self._source

    async def _succeeded(self, batch: Batch, elapsed_s: float) -> None:
        delay = next_delay(self._record.interval_s)
        async with self._s._pool.acquire() as conn, conn.transaction():
            ours = await store.record_success(
                conn,
                self._name,
                owner=self._s.instance,
                items=len(batch.mentions),
                next_in_s=delay,
            )
            if ours:
                await cursors.set_cursor(conn, self._name, batch.cursor)
        if not ours:
            log.warning("source_lease_lost", source=self._name, mentions=len(batch.mentions))
            return
        log.info(
            "source_polled",
            source=self._name,
            kind=self._record.kind,
            mentions=len(batch.mentions),
            duration_ms=round(elapsed_s * 1000),
            next_in_s=round(delay, 1),
        )

    async def _failed(self, error: str, *, retry_after: float | None = None) -> None:
        settings = self._s._settings
        try:
            async with self._s._pool.acquire() as conn, conn.transaction():
                failures = await store.failures(conn, self._name) + 1
                delay = next_delay(
                    self._record.interval_s,
                    failures=failures,
                    max_backoff_s=settings.source_max_backoff_s,
                    retry_after=retry_after,
                )
                await store.record_failure(
                    conn, self._name, owner=self._s.instance, error=error, next_in_s=delay
                )
        except _DB_ERRORS as exc:
            log.warning("source_health_unrecorded", source=self._name, error=str(exc))
            await asyncio.sleep(settings.source_refresh_s)
            return
        log.warning(
            "source_poll_failed",
            source=self._name,
            kind=self._record.kind,
            error=error,
            failures=failures,
            retry_in_s=round(delay, 1),
        )

    async def _release(self) -> None:
        async with self._s._pool.acquire() as conn:
            await store.release_lease(conn, self._name, owner=self._s.instance)
