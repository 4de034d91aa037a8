"""What the release worker writes about replies once it knows what happened to them.

Each function runs inside the caller's transaction, which holds the outbox rows and the
proposals locked: ``delivered`` (the channel's receipts, a batch at a time),
``delivery_retry`` (back off, or wait for the channel's Retry-After without using an
attempt), ``failed`` (given up), and the withdrawal of a reply the fresh re-check stopped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
import structlog

from connectors.contract import Receipt, TransientError
from gateway.audit.subjects import decision_subject_id
from gateway.domain.records import OutboxItem, Proposal
from gateway.pipeline.recheck import FreshCheck, record_withdrawal
from gateway.store import audit, mentions, outbox, proposals
from gateway.store.connection import Conn

log = structlog.get_logger(__name__)

WORKER_ACTOR = "release-worker"
MIN_RETRY_AFTER_S = 0.05  # never spin on a Retry-After of 0


async def delivered_many(
    conn: Conn, done: list[tuple[OutboxItem, Proposal, Receipt]], now: datetime
) -> None:
    """The ``delivered`` events of a whole batch with the channels' receipts: one
    statement per kind, one event each."""
    docs = [msgspec.to_builtins(receipt) for _, _, receipt in done]
    moved = await proposals.mark_released(
        conn,
        [
            (p.id, msgspec.json.encode(doc).decode())
            for (_, p, _), doc in zip(done, docs, strict=True)
        ],
        now=now,
    )
    await mentions.set_status_many(conn, [p.mention_id for _, p, _ in done], "replied")
    await outbox.mark_done_many(conn, [item.id for item, _, _ in done], now=now)
    subject_ids = await audit.payload_fields(conn, [p.audit_seq for _, p, _ in done], "subject_id")
    events: list[audit.NewEvent] = []
    for (item, proposal, _receipt), doc in zip(done, docs, strict=True):
        if proposal.id not in moved:  # delivered all the same: the record must say so
            log.warning("released_proposal_not_approved", proposal_id=proposal.id)
        events.append(
            audit.NewEvent(
                kind="delivered",
                actor=WORKER_ACTOR,
                subject=f"proposal:{proposal.id}",
                payload={
                    "proposal_id": proposal.id,
                    "subject_id": subject_ids.get(proposal.audit_seq),
                    "attempt": item.attempts,
                    "idempotency_key": proposal.idempotency_key,
                    "receipt": doc,
                },
                policy_revision=proposal.policy_revision,
            )
        )
    await audit.append_many(conn, events)  # one chain-head lock, one INSERT for the batch
    for _item, proposal, receipt in done:
        log.info(
            "reply_released",
            proposal_id=proposal.id,
            channel=receipt.channel,
            external_id=receipt.external_id,
            duplicate=receipt.duplicate,
        )


async def retry(
    conn: Conn,
    item: OutboxItem,
    proposal: Proposal,
    error: TransientError,
    now: datetime,
    *,
    backoff_s: float,
) -> None:
    # A channel that says when to come back (429/503 with Retry-After) is waited for,
    # and that wait does not use up an attempt: the release waits, it does not fail.
    rate_limited = error.retry_after is not None
    if rate_limited:
        delay = max(error.retry_after or 0.0, MIN_RETRY_AFTER_S)
    else:
        delay = backoff_s * (2 ** max(item.attempts - 1, 0))
    at = now + timedelta(seconds=delay)
    await outbox.reschedule(conn, item.id, now=now, at=at, error=str(error), refund=rate_limited)
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


async def fail(conn: Conn, item: OutboxItem, proposal: Proposal, now: datetime, error: str) -> None:
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


async def withdraw(
    conn: Conn, item: OutboxItem, proposal: Proposal, fresh: FreshCheck, now: datetime
) -> None:
    """The re-check said deny (withdrawn) or review without a reviewer (back to review)."""
    to_state = "withdrawn" if fresh.decision.outcome == "deny" else "pending_review"
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
        reasons=[r.code for r in fresh.decision.reasons],
    )
