"""Release: hand approved replies to their channel's publisher, audited first.

For each due outbox row (claimed with ``FOR UPDATE SKIP LOCKED``, so any number of
workers share the queue):

1. re-evaluate the policy with fresh state; a deny (say, an opt-out that arrived
   meanwhile) withdraws the reply, audited, and nothing is published;
2. COMMIT a ``releasing`` audit event (attempt, idempotency key, decision);
3. call the publisher with the idempotency key;
4. COMMIT ``delivered`` with the channel's receipt, or schedule a retry with backoff
   (``delivery_retry``), finally ``failed``.

A worker killed between 2 and 4 leaves the row ``releasing`` with a lease; when the lease
runs out another worker retries with the same idempotency key, so the channel still sees
one reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from gateway.audit.subjects import decision_subject_id, sealed_for
from gateway.audit.suppression import SuppressionKeys
from gateway.domain.records import OutboxItem, Proposal
from gateway.pipeline.decide import decision_payload
from gateway.pipeline.recheck import recheck, record_withdrawal
from gateway.policy.engine import PolicyEngine
from gateway.settings import Settings
from gateway.sources.secrets import Secrets
from gateway.store import audit, mentions, outbox, proposals
from gateway.store.connection import Conn
from gateway.store.errors import LOOP_ERRORS

log = structlog.get_logger(__name__)

WORKER_ACTOR = "release-worker"
MIN_RETRY_AFTER_S = 0.05  # never spin on a Retry-After of 0


def channel_limits(publisher: Publisher | None) -> ChannelLimits | None:
    """The channel's limits, when its publisher declares them (``limits``)."""
    limits = getattr(publisher, "limits", None)
    return limits if isinstance(limits, ChannelLimits) else None


class _Prepared(msgspec.Struct, frozen=True, kw_only=True):
    item: OutboxItem
    proposal: Proposal
    reply: OutgoingReply


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
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Release until ``stop`` is set; wakes on NOTIFY outbox_queued or every poll."""
        listener = await self._listen()
        log.info("release_worker_started")
        try:
            while not stop.is_set():
                self._beat()
                try:
                    worked = await self.release_one()
                except LOOP_ERRORS as exc:
                    log.warning("release_worker_database_error", error=str(exc))
                    worked = False
                if worked:
                    continue
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wait(stop), self._settings.release_poll_s)
        finally:
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
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            item = await outbox.claim_due(conn, now=now)
            if item is None:
                return False
            prepared = await self._prepare(conn, item, now)
        if prepared is None:
            return True
        await self._deliver(prepared)
        return True

    async def _prepare(self, conn: Conn, item: OutboxItem, now: datetime) -> _Prepared | None:
        """Re-check and commit ``releasing``; None when nothing is to be published."""
        proposal = await proposals.lock_proposal(conn, item.proposal_id)
        if proposal.status != "approved":
            await outbox.mark_done(conn, item.id, now=now)
            return None
        if item.attempts >= self._settings.release_max_attempts:
            await self._fail(
                conn,
                item,
                proposal,
                now,
                f"gave up after {item.attempts} attempts: {item.last_error or 'no answer'}",
            )
            return None
        fresh = await recheck(
            conn,
            proposal,
            engine=self._engine,
            keys=self._keys,
            limits={proposal.channel: channel_limits(self._publishers.get(proposal.channel))},
            now=now,
        )
        mention, policy_input, decision = fresh.mention, fresh.input, fresh.decision
        human_approved = proposal.reviewed_by is not None
        if decision.outcome == "deny" or (decision.outcome == "review" and not human_approved):
            to_state = "withdrawn" if decision.outcome == "deny" else "pending_review"
            await proposals.transition(
                conn, proposal.id, from_states=("approved",), to_state=to_state, now=now
            )
            await outbox.mark_done(conn, item.id, now=now)
            await record_withdrawal(
                conn, proposal.id, fresh, actor=WORKER_ACTOR, status=to_state, stage="release"
            )
            log.info(
                "release_withdrawn",
                proposal_id=proposal.id,
                status=to_state,
                reasons=[r.code for r in decision.reasons],
            )
            return None
        lease = timedelta(seconds=self._settings.release_lease_s)
        await outbox.mark_releasing(conn, item.id, now=now, lease_until=now + lease)
        await audit.append(
            conn,
            kind="releasing",
            actor=WORKER_ACTOR,
            subject=f"proposal:{proposal.id}",
            payload=await sealed_for(
                conn,
                {
                    "proposal_id": proposal.id,
                    "attempt": item.attempts + 1,
                    "idempotency_key": proposal.idempotency_key,
                    "channel": proposal.channel,
                    "input": msgspec.to_builtins(policy_input),
                    "decision": decision_payload(decision),
                },
                channel=mention.channel,
                customer=mention.customer,
            ),
            policy_revision=decision.policy_revision,
        )
        reply = OutgoingReply(
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
        return _Prepared(item=item, proposal=proposal, reply=reply)

    async def _deliver(self, prepared: _Prepared) -> None:
        publisher = self._publishers.get(prepared.reply.channel)
        receipt: Receipt | None = None
        error: ConnectorError
        if publisher is None:
            error = PermanentError(
                f"no publisher is configured for channel {prepared.reply.channel!r}"
            )
        else:
            try:
                receipt = await publisher.publish(prepared.reply)
            except ConnectorError as exc:
                error = exc
            except Exception as exc:  # a publisher bug must not kill the worker
                log.exception("publisher_crashed", channel=prepared.reply.channel)
                error = TransientError(f"publisher raised {type(exc).__name__}: {exc}")
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            item = await outbox.lock_item(conn, prepared.item.id)
            if item is None or item.state == "done":
                return
            proposal = await proposals.lock_proposal(conn, prepared.proposal.id)
            if receipt is not None:
                await self._delivered(conn, item, proposal, receipt, now)
            elif isinstance(error, TransientError) and (
                error.retry_after is not None or item.attempts < self._settings.release_max_attempts
            ):
                await self._retry(conn, item, proposal, error, now)
            else:
                await self._fail(conn, item, proposal, now, str(error))

    async def _delivered(
        self,
        conn: Conn,
        item: OutboxItem,
        proposal: Proposal,
        receipt: Receipt,
        now: datetime,
    ) -> None:
        receipt_doc = msgspec.to_builtins(receipt)
        await proposals.transition(
            conn,
            proposal.id,
            from_states=("approved",),
            to_state="released",
            now=now,
            receipt=receipt_doc,
        )
        await mentions.set_status(conn, proposal.mention_id, "replied")
        await outbox.mark_done(conn, item.id, now=now)
        await audit.append(
            conn,
            kind="delivered",
            actor=WORKER_ACTOR,
            subject=f"proposal:{proposal.id}",
            payload={
                "proposal_id": proposal.id,
                "subject_id": await decision_subject_id(conn, proposal),
                "attempt": item.attempts,
                "idempotency_key": proposal.idempotency_key,
                "receipt": receipt_doc,
            },
            policy_revision=proposal.policy_revision,
        )
        log.info(
            "reply_released",
            proposal_id=proposal.id,
            channel=receipt.channel,
            external_id=receipt.external_id,
            duplicate=receipt.duplicate,
        )

    async def _retry(
        self,
        conn: Conn,
        item: OutboxItem,
        proposal: Proposal,
        error: TransientError,
        now: datetime,
    ) -> None:
        # A channel that says when to come back (429/503 with Retry-After) is waited for,
        # and that wait does not use up an attempt: the release waits, it does not fail.
        rate_limited = error.retry_after is not None
        if rate_limited:
            delay = max(error.retry_after or 0.0, MIN_RETRY_AFTER_S)
        else:
            delay = self._settings.release_backoff_s * (2 ** max(item.attempts - 1, 0))
        at = now + timedelta(seconds=delay)
        await outbox.reschedule(
            conn, item.id, now=now, at=at, error=str(error), refund=rate_limited
        )
        await audit.append(
            conn,
            kind="delivery_retry",
            actor=WORKER_ACTOR,
            subject=f"proposal:{proposal.id}",
            payload={
                "proposal_id": proposal.id,
                "subject_id": await decision_subject_id(conn, proposal),
                "attempt": item.attempts,
                "error": str(error),
                "retry_at": at.isoformat(),
                "rate_limited": rate_limited,
                "idempotency_key": proposal.idempotency_key,
            },
            policy_revision=proposal.policy_revision,
        )
        log.warning(
            "delivery_retry_scheduled",
            proposal_id=proposal.id,
            attempt=item.attempts,
            delay_s=delay,
            error=str(error),
        )

    async def _fail(
        self,
        conn: Conn,
        item: OutboxItem,
        proposal: Proposal,
        now: datetime,
        error: str,
    ) -> None:
        await proposals.transition(
            conn,
            proposal.id,
            from_states=("approved",),
            to_state="failed",
            now=now,
            receipt={"error": error},
        )
        await outbox.mark_done(conn, item.id, now=now)
        await audit.append(
            conn,
            kind="failed",
            actor=WORKER_ACTOR,
            subject=f"proposal:{proposal.id}",
            payload={
                "proposal_id": proposal.id,
                "subject_id": await decision_subject_id(conn, proposal),
                "attempts": item.attempts,
                "error": error,
                "idempotency_key": proposal.idempotency_key,
            },
            policy_revision=proposal.policy_revision,
        )
        log.warning("reply_failed", proposal_id=proposal.id, attempts=item.attempts, error=error)
