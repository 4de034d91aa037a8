"""Review: a compliance officer approves or rejects a reply the policy held for review.

The person who proposed a reply can never approve it (two-person rule). Both decisions
are audit events; approval queues the release in the same transaction.

A person may overrule the policy's "review", never its "deny": approving re-evaluates the
reply on today's state, under the customer's contact locks like a new decision, and a reply
the policy now denies (the customer opted out or was erased meanwhile, a cap filled up) is
withdrawn instead of approved, audited with the fresh input and decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import asyncpg
import structlog

from connectors.contract import ChannelLimits
from gateway.audit.subjects import decision_subject_id
from gateway.audit.suppression import SuppressionKeys
from gateway.domain.records import Proposal, User
from gateway.pipeline.errors import Forbidden, InvalidInput, StateConflict
from gateway.pipeline.recheck import FreshCheck, recheck, record_withdrawal
from gateway.pipeline.two_person import ensure_second_person
from gateway.policy.engine import PolicyEngine
from gateway.store import audit, outbox, proposals
from gateway.store.connection import Conn

log = structlog.get_logger(__name__)

MAX_NOTE_CHARS = 2_000


def _note(note: str) -> str:
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"note is {len(note)} characters; the limit is {MAX_NOTE_CHARS}")
    if "\x00" in note:
        raise InvalidInput("note contains a NUL character")
    return note


class Reviewer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        engine: PolicyEngine,
        keys: SuppressionKeys,
        limits: Mapping[str, ChannelLimits | None],
    ) -> None:
        self._pool = pool
        self._engine = engine
        self._keys = keys
        self._limits = limits

    async def approve(self, proposal_id: int, *, user: User, note: str) -> Proposal:
        """Approve and queue the release; never by the person who proposed the reply."""
        return await self._review(proposal_id, user=user, note=note, approve=True)

    async def reject(self, proposal_id: int, *, user: User, note: str) -> Proposal:
        return await self._review(proposal_id, user=user, note=note, approve=False)

    async def _review(self, proposal_id: int, *, user: User, note: str, approve: bool) -> Proposal:
        to_state = "approved" if approve else "rejected"
        note = _note(note)
        denied: FreshCheck | None = None
        async with self._pool.acquire() as conn, conn.transaction():
            current = await proposals.lock_proposal(conn, proposal_id)
            if approve and current.agent == user.name:
                raise Forbidden(
                    f"you proposed reply {proposal_id}, so you cannot approve it; "
                    "another compliance officer must review it"
                )
            if approve:
                ensure_second_person(user, current.agent, did=f"proposed reply {proposal_id}")
            if approve and current.status == "pending_review":
                denied = await self._denied_now(conn, current, user=user, note=note)
            if denied is None:
                updated = await self._record(conn, current, user=user, note=note, to_state=to_state)
        if denied is not None:
            first = denied.decision.reasons[0] if denied.decision.reasons else None
            why = f"{first.code}: {first.message}" if first else "deny"
            raise StateConflict(
                f"the policy now denies reply {proposal_id} ({why}); it was withdrawn, not approved"
            )
        log.info(f"proposal_{to_state}", proposal_id=proposal_id, reviewer=user.name)
        return updated

    async def _record(
        self, conn: Conn, current: Proposal, *, user: User, note: str, to_state: str
    ) -> Proposal:
        """The review itself: the transition, the release queued, the audit event."""
        now = datetime.now(UTC)
        updated = await proposals.transition(
            conn,
            current.id,
            from_states=("pending_review",),
            to_state=to_state,
            now=now,
            reviewed_by=user.name,
            review_note=note,
        )
        if to_state == "approved":
            await outbox.enqueue(conn, current.id, now=now)
        await audit.append(
            conn,
            kind=f"proposal_{to_state}",
            actor=user.name,
            subject=f"proposal:{current.id}",
            payload={
                "proposal_id": current.id,
                "subject_id": await decision_subject_id(conn, current),
                "note": note,
                "proposed_by": current.agent,
                "policy_outcome": current.outcome,
            },
            policy_revision=current.policy_revision,
        )
        if to_state == "approved":
            await conn.execute("SELECT pg_notify('outbox_queued', $1)", str(current.id))
        return updated

    async def _denied_now(
        self, conn: Conn, current: Proposal, *, user: User, note: str
    ) -> FreshCheck | None:
        """The policy again, on today's state, under the contact locks; on deny the reply
        is withdrawn (audited with the fresh input and decision) and the check returned."""
        await proposals.lock_contacts(
            conn,
            channel=current.channel,
            handle=current.customer_handle,
            thread_id=current.thread_id,
        )
        now = datetime.now(UTC)  # after the locks: every contact committed before counts
        fresh = await recheck(
            conn, current, engine=self._engine, keys=self._keys, limits=self._limits, now=now
        )
        if fresh.decision.outcome != "deny":
            return None
        await proposals.transition(
            conn,
            current.id,
            from_states=("pending_review",),
            to_state="withdrawn",
            now=now,
            reviewed_by=user.name,
            review_note=note,
        )
        await record_withdrawal(
            conn, current.id, fresh, actor=user.name, status="withdrawn", stage="approval"
        )
        log.info(
            "approval_withdrawn",
            proposal_id=current.id,
            reviewer=user.name,
            reasons=[r.code for r in fresh.decision.reasons],
        )
        return fresh
