"""Release: hand approved replies to their channel's publisher, audited first.

One batch at a time::

    ONE transaction:
      claim up to release_batch_size due outbox rows (FOR UPDATE SKIP LOCKED)
      lock their proposals; re-evaluate each with fresh state (a deny, say an opt-out that
        arrived meanwhile, withdraws the reply, audited; nothing is published)
      take a slot in the channel's rate budget, or leave the row queued until one frees
      mark the batch releasing (a lease) and append one ``releasing`` event per reply
    COMMIT                                   every publish of the batch starts after this
    publish concurrently, at most the channel's concurrency in flight per channel, each
      with its idempotency key, all within half the lease
    ONE transaction: ``delivered`` with the receipt, or ``delivery_retry`` (backoff; a
      Retry-After is waited for without using an attempt), finally ``failed``

A worker killed between the two commits leaves its rows ``releasing`` with a lease; when
the lease runs out the next claim retries them with the same idempotency keys, so the
channel still sees one reply each.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeAlias

import asyncpg
import msgspec
import structlog
from asyncpg.pool import PoolConnectionProxy

from connectors.contract import (
    ChannelLimits,
    ConnectorError,
    OutgoingReply,
    PermanentError,
    Publisher,
    Receipt,
    TransientError,
)
from gateway.audit.subjects import sealed_for_each
from gateway.audit.suppression import SuppressionKeys
from gateway.domain.records import Mention, OutboxItem, Proposal
from gateway.pipeline import release_outcomes as outcomes
from gateway.pipeline.decide import decision_payload
from gateway.pipeline.publish_budget import PublishBudgets
from gateway.pipeline.recheck import FreshCheck
from gateway.pipeline.release_outcomes import WORKER_ACTOR
from gateway.pipeline.release_recheck import recheck_batch
from gateway.policy.engine import PolicyEngine
from gateway.secrets import Secrets
from gateway.settings import Settings
from gateway.store import audit, outbox, proposals
from gateway.store.connection import Conn
from gateway.store.errors import LOOP_ERRORS

log = structlog.get_logger(__name__)

__all__ = ["WORKER_ACTOR", "ReleaseWorker", "channel_limits"]


def _reply(proposal: Proposal, mention: Mention) -> OutgoingReply:
    return OutgoingReply(
        channel=proposal.channel,
        idempotency_key=proposal.idempotency_key,
        text=proposal.text,
        in_reply_to=mention.external_id,
        in_reply_to_url=mention.url,
        recipient=mention.author_handle,
        thread_id=mention.thread_id,
        metadata={"proposal_id": proposal.id, "mention_id": mention.id},
        visibility=mention.visibility,
        channel_data=mention.channel_data,
    )


def channel_limits(publisher: Publisher | None) -> ChannelLimits | None:
    """The channel's limits, when its publisher declares them (``limits``)."""
    limits = getattr(publisher, "limits", None)
    return limits if isinstance(limits, ChannelLimits) else None


class _Prepared(msgspec.Struct, frozen=True, kw_only=True):
    item: OutboxItem
    proposal: Proposal
    reply: OutgoingReply


class _Release(msgspec.Struct, frozen=True, kw_only=True):
    item: OutboxItem
    proposal: Proposal
    fresh: FreshCheck


class _Withdraw(msgspec.Struct, frozen=True, kw_only=True):
    item: OutboxItem
    proposal: Proposal
    fresh: FreshCheck


class _GiveUp(msgspec.Struct, frozen=True, kw_only=True):
    item: OutboxItem
    proposal: Proposal
    error: str


_Plan: TypeAlias = _Release | _Withdraw | _GiveUp
_Result: TypeAlias = Receipt | ConnectorError


class ReleaseWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        engine: PolicyEngine,
        publishers: Mapping[str, Publisher],
        settings: Settings,
        *,
        heartbeat: Path | None = None,
        suppression_keys: SuppressionKeys | None = None,
    ) -> None:
        self._keys = suppression_keys or SuppressionKeys(Secrets(settings))
        self._heartbeat = heartbeat  # touched every loop: a health check reads its age
        self._last_beat = 0.0
        self._pool = pool
        self._engine = engine
        self._publishers = publishers
        self._settings = settings
        self._limits = {name: channel_limits(p) for name, p in publishers.items()}
        self._budgets = PublishBudgets(publishers, default_concurrency=settings.release_concurrency)
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Release until ``stop`` is set; wakes on NOTIFY outbox_queued or every poll.

        Two batches overlap only between publishes: while one batch's outcomes are
        recorded, the next batch is claimed, re-checked and committed ``releasing``; its
        publishes start once the previous batch's outcomes are recorded. A batch is never
        claimed while another is publishing, so a slow channel cannot use up the lease of
        a batch waiting behind it."""
        listener = await self._listen()
        log.info("release_worker_started")
        recording: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                self._beat()
                try:
                    claimed, prepared, deadline = await self._claim()
                except LOOP_ERRORS as exc:
                    log.warning("release_worker_database_error", error=str(exc))
                    claimed, prepared, deadline = 0, [], 0.0
                worked = claimed > 0
                if recording is not None:
                    await recording
                    recording, worked = None, True
                if prepared:
                    results = await self._publish_all(prepared, deadline)
                    recording = asyncio.create_task(self._record_logged(results))
                if worked:
                    continue
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wait(stop), self._settings.release_poll_s)
            if recording is not None:
                await recording
        finally:
            if recording is not None and not recording.done():
                recording.cancel()  # its rows stay ``releasing``: retried after the lease
            if listener is not None:
                await self._unlisten(listener)
            log.info("release_worker_stopped")

    async def _wait(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _beat(self) -> None:
        now = time.monotonic()
        if self._heartbeat is None or now - self._last_beat < 1.0:
            return
        self._last_beat = now
        try:
            self._heartbeat.touch()
        except OSError as exc:
            log.warning("worker_heartbeat_failed", path=str(self._heartbeat), error=str(exc))

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _listen(self) -> PoolConnectionProxy[asyncpg.Record] | None:
        """A pooled connection LISTENing for new releases (polling still covers misses)."""
        try:
            conn = await self._pool.acquire()
            await conn.add_listener("outbox_queued", self._notified)
        except LOOP_ERRORS as exc:
            log.warning("release_listen_failed", error=str(exc))
            return None
        return conn

    async def _unlisten(self, conn: PoolConnectionProxy[asyncpg.Record]) -> None:
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await conn.remove_listener("outbox_queued", self._notified)
        await self._pool.release(conn)

    async def release_one(self) -> bool:
        """Process one due outbox row; False when none was due."""
        return await self.release_batch(limit=1) > 0

    async def release_batch(self, limit: int | None = None) -> int:
        """Claim up to ``limit`` (default ``release_batch_size``) due rows, commit their
        ``releasing`` events, publish them concurrently and record the outcomes; the
        number of rows claimed (0: none was due)."""
        claimed, prepared, deadline = await self._claim(limit)
        if prepared:
            await self._deliver(prepared, deadline)
        return claimed

    async def _claim(self, limit: int | None = None) -> tuple[int, list[_Prepared], float]:
        """One transaction: claim due rows and prepare them; the number claimed, the
        replies to publish and the event-loop time by which their publishes must end
        (half the lease after the claim, however long they wait to start). On return
        their ``releasing`` events are committed."""
        deadline = asyncio.get_running_loop().time() + self._settings.release_lease_s / 2
        now = datetime.now(UTC)
        size = limit or self._settings.release_batch_size
        async with self._pool.acquire() as conn, conn.transaction():
            items = await outbox.claim_due_batch(conn, now=now, limit=size)
            if not items:
                return 0, [], deadline
            prepared = await self._prepare_batch(conn, items, now)
        return len(items), prepared, deadline

    async def _deliver(self, prepared: list[_Prepared], deadline: float) -> None:
        """Publish a committed batch and record the outcomes."""
        await self._record(await self._publish_all(prepared, deadline))

    async def _publish_all(
        self, prepared: list[_Prepared], deadline: float
    ) -> list[tuple[_Prepared, _Result]]:
        """Publish a committed batch concurrently, each publish abandoned at ``deadline``
        (before the lease runs out)."""
        results = await asyncio.gather(*(self._publish(p, deadline) for p in prepared))
        return list(zip(prepared, results, strict=True))

    async def _record_logged(self, results: list[tuple[_Prepared, _Result]]) -> None:
        try:
            await self._record(results)
        except LOOP_ERRORS as exc:  # the rows stay ``releasing``: retried after the lease
            log.warning("release_worker_database_error", error=str(exc), rows=len(results))

    async def _prepare(self, conn: Conn, item: OutboxItem, now: datetime) -> _Prepared | None:
        """One row's :meth:`_prepare_batch` (tests drive a single release step by step)."""
        prepared = await self._prepare_batch(conn, [item], now)
        return prepared[0] if prepared else None

    async def _prepare_batch(
        self, conn: Conn, items: list[OutboxItem], now: datetime
    ) -> list[_Prepared]:
        """Re-check the claimed rows, then write: rows with nothing to publish done,
        withdrawals and give-ups recorded, rows over their channel's rate budget deferred,
        the rest ``releasing`` with their audit events. The replies to publish."""
        locked = await proposals.lock_proposals(conn, [i.proposal_id for i in items])
        finished: list[int] = []
        deferred: list[tuple[int, datetime]] = []
        plans: list[_Plan] = []
        candidates: list[tuple[OutboxItem, Proposal]] = []
        for item in items:
            proposal = locked.get(item.proposal_id)
            if proposal is None or proposal.status != "approved":
                finished.append(item.id)
            elif item.attempts >= self._settings.release_max_attempts:
                error = f"gave up after {item.attempts} attempts: {item.last_error or 'no answer'}"
                plans.append(_GiveUp(item=item, proposal=proposal, error=error))
            else:
                candidates.append((item, proposal))
        checks = await recheck_batch(
            conn,
            [proposal for _, proposal in candidates],
            engine=self._engine,
            keys=self._keys,
            limits=self._limits,
            now=now,
        )
        for (item, proposal), fresh in zip(candidates, checks, strict=True):
            if fresh.decision.outcome == "deny" or (
                fresh.decision.outcome == "review" and proposal.reviewed_by is None
            ):
                plans.append(_Withdraw(item=item, proposal=proposal, fresh=fresh))
                continue
            wait = self._budgets.reserve(proposal.channel)
            if wait > 0:
                deferred.append((item.id, now + timedelta(seconds=wait)))
                continue
            plans.append(_Release(item=item, proposal=proposal, fresh=fresh))
        # Writes last: the chain head stays locked from the first append to the commit.
        if finished:
            await outbox.mark_done_many(conn, finished, now=now)
        if deferred:
            await outbox.defer(conn, deferred, now=now)
            log.info("release_deferred", rows=len(deferred), reason="channel_rate_budget")
        releasing = [p for p in plans if isinstance(p, _Release)]
        if releasing:
            lease = timedelta(seconds=self._settings.release_lease_s)
            await outbox.mark_releasing_many(
                conn, [p.item.id for p in releasing], now=now, lease_until=now + lease
            )
        for plan in plans:
            if isinstance(plan, _GiveUp):
                await outcomes.fail(conn, plan.item, plan.proposal, now, plan.error)
            elif isinstance(plan, _Withdraw):
                await outcomes.withdraw(conn, plan.item, plan.proposal, plan.fresh, now)
        return await self._releasing(conn, releasing)

    async def _releasing(self, conn: Conn, plans: list[_Release]) -> list[_Prepared]:
        """Append the ``releasing`` events of the batch (the customers' keys read in one
        statement, the events in one append); the replies to publish."""
        if not plans:
            return []
        payloads = await sealed_for_each(
            conn,
            [
                (
                    {
                        "proposal_id": p.proposal.id,
                        "attempt": p.item.attempts + 1,
                        "idempotency_key": p.proposal.idempotency_key,
                        "channel": p.proposal.channel,
                        "input": msgspec.to_builtins(p.fresh.input),
                        "decision": decision_payload(p.fresh.decision),
                    },
                    p.fresh.mention.channel,
                    p.fresh.mention.customer,
                )
                for p in plans
            ],
        )
        await audit.append_many(
            conn,
            [
                audit.NewEvent(
                    kind="releasing",
                    actor=WORKER_ACTOR,
                    subject=f"proposal:{p.proposal.id}",
                    payload=payload,
                    policy_revision=p.fresh.decision.policy_revision,
                )
                for p, payload in zip(plans, payloads, strict=True)
            ],
        )
        return [
            _Prepared(item=p.item, proposal=p.proposal, reply=_reply(p.proposal, p.fresh.mention))
            for p in plans
        ]

    async def _publish(self, prepared: _Prepared, deadline: float) -> _Result:
        """The channel's answer, or the error to record; never raises."""
        channel = prepared.reply.channel
        publisher = self._publishers.get(channel)
        if publisher is None:
            return PermanentError(f"no publisher is configured for channel {channel!r}")
        try:
            # Bounded by the lease: no publish is still in flight when another worker may
            # take the row over (it would still carry the same idempotency key).
            async with asyncio.timeout_at(deadline), self._budgets.slot(channel):
                return await publisher.publish(prepared.reply)
        except ConnectorError as exc:
            return exc
        except TimeoutError:
            return TransientError("the channel did not answer within half the release lease")
        except Exception as exc:  # a publisher bug must not kill the worker
            log.exception("publisher_crashed", channel=channel)
            return TransientError(f"publisher raised {type(exc).__name__}: {exc}")

    async def _record(self, results: list[tuple[_Prepared, _Result]]) -> None:
        """Record every outcome of a batch in one transaction."""
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            items = await outbox.lock_items(conn, [p.item.id for p, _ in results])
            locked = await proposals.lock_proposals(conn, [p.proposal.id for p, _ in results])
            delivered: list[tuple[OutboxItem, Proposal, Receipt]] = []
            for prepared, result in results:
                item = items.get(prepared.item.id)
                proposal = locked.get(prepared.proposal.id)
                if item is None or item.state == "done" or proposal is None:
                    continue
                if isinstance(result, Receipt):
                    delivered.append((item, proposal, result))
                elif isinstance(result, TransientError) and (
                    result.retry_after is not None
                    or item.attempts < self._settings.release_max_attempts
                ):
                    backoff = self._settings.release_backoff_s
                    await outcomes.retry(conn, item, proposal, result, now, backoff_s=backoff)
                else:
                    await outcomes.fail(conn, item, proposal, now, str(result))
            if delivered:
                await outcomes.delivered_many(conn, delivered, now)
