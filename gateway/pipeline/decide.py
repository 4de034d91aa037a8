"""Decide: evaluate a proposed reply against the active policy and record it.

``propose`` stores the proposal, appends its audit event (input snapshot, decision,
policy revision) and, when allowed, queues the release: all in ONE transaction, so a
proposal without its audit record (or a release without its decision) cannot exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import structlog

from connectors.contract import ChannelLimits
from gateway.audit.subjects import sealed_for
from gateway.domain.decisions import Decision
from gateway.domain.policy_input import PolicyInput
from gateway.domain.records import Mention, Proposal, User
from gateway.pipeline.errors import InvalidInput, StateConflict
from gateway.pipeline.policy_input import build_policy_input
from gateway.policy.engine import PolicyEngine
from gateway.policy.live import LivePolicy
from gateway.store import audit, mentions, outbox, proposals
from gateway.store.connection import Conn
from gateway.store.group_commit import GroupCommitter

log = structlog.get_logger(__name__)

MAX_REPLY_CHARS = 10_000  # hard input bound; channel limits are the policy's business

STATUS_BY_OUTCOME = {"allow": "approved", "review": "pending_review", "deny": "denied"}


def _validate_text(text: str) -> str:
    if not text.strip():
        raise InvalidInput("text must not be empty")
    if len(text) > MAX_REPLY_CHARS:
        raise InvalidInput(f"text is {len(text)} characters; the limit is {MAX_REPLY_CHARS}")
    if "\x00" in text:
        raise InvalidInput("text contains a NUL character")
    return text


def decision_payload(decision: Decision) -> dict[str, Any]:
    return msgspec.to_builtins(decision)  # type: ignore[no-any-return]


class Decider:
    def __init__(
        self,
        pool: asyncpg.Pool,
        engine: PolicyEngine,
        *,
        limits: Mapping[str, ChannelLimits | None] | None = None,
        committer: GroupCommitter | None = None,
    ) -> None:
        self._committer = committer
        self._pool = pool
        self.engine = engine
        self._limits = dict(limits or {})  # channel -> its publisher's limits

    async def preview(
        self, *, mention_id: int, text: str, user: User, ai_generated: bool = False
    ) -> Decision:
        """What the policy would decide now; writes nothing."""
        _validate_text(text)
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn:
            mention = await mentions.get_mention(conn, mention_id, now=now)
            policy_input = await self._input(conn, mention, text, ai_generated, user, now)
        return await self.engine.decide(policy_input)

    async def propose(
        self, *, mention_id: int, text: str, user: User, ai_generated: bool = False
    ) -> Proposal:
        """Decide, then store proposal + audit event (+ outbox row) in one transaction.

        The decision is computed from a snapshot; the write runs in the group-commit
        batch, where the claim is checked again under the mention's row lock. A reply
        decided just before an opt-out committed is caught by the release re-check.
        """
        _validate_text(text)
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn:
            mention = await mentions.get_mention(conn, mention_id, now=now)
            _check_claim(mention, user)
            policy_input = await self._input(conn, mention, text, ai_generated, user, now)
        decision = await self.engine.decide(policy_input)
        shadow = await self._shadow(policy_input)

        async def write(conn: Conn) -> Proposal:
            return await _store(
                conn, mention_id, user, text, ai_generated, policy_input, decision, shadow, now
            )

        if self._committer is not None:
            proposal = await self._committer.submit(write)
        else:
            async with self._pool.acquire() as conn, conn.transaction():
                proposal = await write(conn)
        log.info(
            "policy_decided",
            proposal_id=proposal.id,
            mention_id=mention_id,
            outcome=decision.outcome,
            reasons=[r.code for r in decision.reasons],
            policy_revision=decision.policy_revision,
            agent=user.name,
        )
        return proposal

    async def _shadow(self, policy_input: PolicyInput) -> Decision | None:
        """The shadow policy's decision, stored beside the real one and never enforced."""
        shadow = self.engine.shadow if isinstance(self.engine, LivePolicy) else None
        return await shadow.decide(policy_input) if shadow is not None else None

    async def _input(
        self,
        conn: Conn,
        mention: Mention,
        text: str,
        ai_generated: bool,
        user: User,
        now: datetime,
    ) -> Any:
        history = await proposals.customer_history(
            conn,
            channel=mention.channel,
            handle=mention.author_handle,
            thread_id=mention.thread_id,
            now=now,
        )
        return build_policy_input(
            mention=mention,
            text=text,
            ai_generated=ai_generated,
            agent=user.name,
            agent_role=user.role,
            history=history,
            now=now,
            limits=self._limits.get(mention.channel),
        )


def _check_claim(mention: Mention, user: User) -> None:
    if mention.claim is not None and mention.claim.agent != user.name:
        raise StateConflict(
            f"mention {mention.id} is claimed by {mention.claim.agent} until "
            f"{mention.claim.expires_at.isoformat()}; only they can propose a reply"
        )


async def _store(
    conn: Conn,
    mention_id: int,
    user: User,
    text: str,
    ai_generated: bool,
    policy_input: PolicyInput,
    decision: Decision,
    shadow: Decision | None,
    now: datetime,
) -> Proposal:
    """Proposal, audit event (input snapshot, decision, revision) and, when allowed, the
    outbox row: all in the caller's transaction."""
    mention = await mentions.lock_mention(conn, mention_id, now=now)
    _check_claim(mention, user)
    status = STATUS_BY_OUTCOME[decision.outcome]
    proposal_id = await proposals.reserve_proposal_id(conn)
    payload = await sealed_for(
        conn,
        {
            "proposal_id": proposal_id,
            "mention_id": mention.id,
            "status": status,
            "input": msgspec.to_builtins(policy_input),
            "decision": decision_payload(decision),
        },
        channel=mention.channel,
        handle=mention.author_handle,
    )
    event = await audit.append(
        conn,
        kind="proposal_decided",
        actor=user.name,
        subject=f"proposal:{proposal_id}",
        payload=payload,
        policy_revision=decision.policy_revision,
    )
    proposal = await proposals.insert_proposal(
        conn,
        mention_id=mention.id,
        channel=mention.channel,
        customer_handle=mention.author_handle,
        thread_id=mention.thread_id,
        agent=user.name,
        text=text,
        ai_generated=ai_generated,
        status=status,
        outcome=decision.outcome,
        reasons=[msgspec.to_builtins(r) for r in decision.reasons],
        policy_revision=decision.policy_revision,
        idempotency_key=f"reply-{uuid.uuid4().hex}",
        now=now,
        policy_input=msgspec.to_builtins(policy_input),
        shadow=decision_payload(shadow) if shadow else None,
        proposal_id=proposal_id,
        audit_seq=event.seq,
    )
    if status == "approved":
        await outbox.enqueue(conn, proposal_id, now=now)
        await conn.execute("SELECT pg_notify('outbox_queued', $1)", str(proposal_id))
    if status != "denied" and mention.status == "new":
        await mentions.set_status(conn, mention.id, "proposed")
    return proposal
