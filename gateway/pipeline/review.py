"""Review: a compliance officer approves or rejects a reply the policy held for review.

The person who proposed a reply can never approve it (two-person rule). Both decisions
are audit events; approval queues the release in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import structlog

from gateway.audit.subjects import customer_subject_id
from gateway.domain.records import Proposal, User
from gateway.pipeline.errors import Forbidden, InvalidInput
from gateway.store import audit, outbox, proposals

log = structlog.get_logger(__name__)

MAX_NOTE_CHARS = 2_000


def _note(note: str) -> str:
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"note is {len(note)} characters; the limit is {MAX_NOTE_CHARS}")
    if "\x00" in note:
        raise InvalidInput("note contains a NUL character")
    return note


class Reviewer:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def approve(self, proposal_id: int, *, user: User, note: str) -> Proposal:
        """Approve and queue the release; never by the person who proposed the reply."""
        return await self._review(proposal_id, user=user, note=note, approve=True)

    async def reject(self, proposal_id: int, *, user: User, note: str) -> Proposal:
        return await self._review(proposal_id, user=user, note=note, approve=False)

    async def _review(self, proposal_id: int, *, user: User, note: str, approve: bool) -> Proposal:
        now = datetime.now(UTC)
        to_state = "approved" if approve else "rejected"
        async with self._pool.acquire() as conn, conn.transaction():
            current = await proposals.lock_proposal(conn, proposal_id)
            if approve and current.agent == user.name:
                raise Forbidden(
                    f"you proposed reply {proposal_id}, so you cannot approve it; "
                    "another compliance officer must review it"
                )
            updated = await proposals.transition(
                conn,
                proposal_id,
                from_states=("pending_review",),
                to_state=to_state,
                now=now,
                reviewed_by=user.name,
                review_note=_note(note),
            )
            if approve:
                await outbox.enqueue(conn, proposal_id, now=now)
            await audit.append(
                conn,
                kind=f"proposal_{to_state}",
                actor=user.name,
                subject=f"proposal:{proposal_id}",
                payload={
                    "proposal_id": proposal_id,
                    "subject_id": await customer_subject_id(
                        conn, channel=current.channel, handle=current.customer_handle
                    ),
                    "note": note,
                    "proposed_by": current.agent,
                    "policy_outcome": current.outcome,
                },
                policy_revision=current.policy_revision,
            )
            if approve:
                await conn.execute("SELECT pg_notify('outbox_queued', $1)", str(proposal_id))
        log.info(f"proposal_{to_state}", proposal_id=proposal_id, reviewer=user.name)
        return updated
