"""Decide: evaluate a proposed reply against the active policy and record it.

``propose`` stores the proposal, appends its audit event (input snapshot, decision,
policy revision) and, when allowed, queues the release: all in ONE transaction, so a
proposal without its audit record (or a release without its decision) cannot exist.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import structlog

from connectors.contract import ChannelLimits
from gateway.audit.subjects import sealed_for
from gateway.audit.suppression import SuppressionKeys
from gateway.domain.decisions import Decision, policy_error
from gateway.domain.policy_input import PolicyInput
from gateway.domain.records import CustomerHistory, Mention, Proposal, User
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
        suppression_keys: SuppressionKeys | None = None,
        shadow_wait_s: float = 0.25,
    ) -> None:
        self._committer = committer
        self._keys = suppression_keys
        self._shadow_wait_s = shadow_wait_s
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
        batch, where the claim is checked again under the mention's row lock and the
        customer's contact counts are re-read under the per-customer and per-thread
        locks (``_recheck``). A reply decided just before an opt-out committed is caught
        there or by the release re-check.
        """
        _validate_text(text)
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn:
            mention = await mentions.get_mention(conn, mention_id, now=now)
            _check_claim(mention, user)
            policy_input = await self._input(conn, mention, text, ai_generated, user, now)
        decision = await self.engine.decide(policy_input)
        shadow = await self._shadow(policy_input)
        draft = _Draft(text=text, ai_generated=ai_generated, user=user)
        first = _Decided(input=policy_input, decision=decision, shadow=shadow, now=now)

        async def write(conn: Conn) -> tuple[Proposal, _Decided]:
            locked = await mentions.lock_mention(conn, mention_id, now=datetime.now(UTC))
            _check_claim(locked, user)
            decided = await self._recheck(conn, locked, draft, first)
            return await _store(conn, locked, draft, decided), decided

        if self._committer is not None:
            proposal, decided = await self._committer.submit(write)
        else:
            async with self._pool.acquire() as conn, conn.transaction():
                proposal, decided = await write(conn)
        log.info(
            "policy_decided",
            proposal_id=proposal.id,
            mention_id=mention_id,
            outcome=decided.decision.outcome,
            reasons=[r.code for r in decided.decision.reasons],
            policy_revision=decided.decision.policy_revision,
            agent=user.name,
            redecided=decided is not first,
        )
        return proposal

    async def _recheck(
        self, conn: Conn, mention: Mention, draft: _Draft, first: _Decided
    ) -> _Decided:
        """The decision to store: ``first`` if the customer's facts are unchanged under
        the contact locks, else the policy's decision on the fresh facts.

        Decisions for one customer (and one thread) are serialised here until the batch
        commits, so the counts read now include every contact allowed before this one,
        earlier jobs of the same batch included. The cap itself stays the policy's.
        """
        await proposals.lock_contacts(
            conn,
            channel=mention.channel,
            handle=mention.customer,
            thread_id=mention.thread_id,
        )
        now = datetime.now(UTC)
        history = await self._history(conn, mention, now)
        fresh = self._build(mention, draft.text, draft.ai_generated, draft.user, history, now)
        if fresh.customer == first.input.customer:
            return first
        decision = await self.engine.decide(fresh)
        # No shadow run here: the batch holds its locks, and a shadow may take up to
        # shadow_wait_s; the shadow report counts this decision as skipped instead.
        return _Decided(input=fresh, decision=decision, shadow=self._shadow_skipped(), now=now)

    def _shadow_skipped(self) -> Decision | None:
        shadow = self.engine.shadow if isinstance(self.engine, LivePolicy) else None
        if shadow is None:
            return None
        detail = "shadow decision skipped: re-decided on fresh counts under the contact locks"
        return policy_error(shadow.revision, shadow.name, detail)

    async def _shadow(self, policy_input: PolicyInput) -> Decision | None:
        """The shadow policy's decision, stored beside the real one and never enforced.

        It may delay the proposal by ``shadow_wait_s`` at most: a slower shadow decision
        is recorded as a ``policy_error`` (its run goes on, bounded, in the sandbox)."""
        shadow = self.engine.shadow if isinstance(self.engine, LivePolicy) else None
        if shadow is None:
            return None
        try:
            return await asyncio.wait_for(shadow.decide(policy_input), self._shadow_wait_s)
        except TimeoutError:
            detail = f"shadow decision skipped: no answer within {self._shadow_wait_s:g} s"
            log.info("shadow_decision_skipped", policy_revision=shadow.revision, error=detail)
            return policy_error(shadow.revision, shadow.name, detail)

    async def _input(
        self,
        conn: Conn,
        mention: Mention,
        text: str,
        ai_generated: bool,
        user: User,
        now: datetime,
    ) -> PolicyInput:
        history = await self._history(conn, mention, now)
        return self._build(mention, text, ai_generated, user, history, now)

    async def _history(self, conn: Conn, mention: Mention, now: datetime) -> CustomerHistory:
        return await proposals.customer_history(
            conn,
            channel=mention.channel,
            handle=mention.customer,
            thread_id=mention.thread_id,
            now=now,
            suppression_key=self._keys.for_mention(mention) if self._keys else None,
        )

    def _build(
        self,
        mention: Mention,
        text: str,
        ai_generated: bool,
        user: User,
        history: CustomerHistory,
        now: datetime,
    ) -> PolicyInput:
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


class _Draft(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    ai_generated: bool
    user: User


class _Decided(msgspec.Struct, frozen=True, kw_only=True):
    """A decision with the input it was made from and the time it was made."""

    input: PolicyInput
    decision: Decision
    shadow: Decision | None
    now: datetime


def _check_claim(mention: Mention, user: User) -> None:
    if mention.claim is not None and mention.claim.agent != user.name:
        raise StateConflict(
            f"mention {mention.id} is claimed by {mention.claim.agent} until "
            f"{mention.claim.expires_at.isoformat()}; only they can propose a reply"
        )


async def _store(conn: Conn, mention: Mention, draft: _Draft, decided: _Decided) -> Proposal:
    """Proposal, audit event (input snapshot, decision, revision) and, when allowed, the
    outbox row: all in the caller's transaction, under the mention's row lock."""
    user, decision, now = draft.user, decided.decision, decided.now
    status = STATUS_BY_OUTCOME[decision.outcome]
    proposal_id = await proposals.reserve_proposal_id(conn)
    policy_input = msgspec.to_builtins(decided.input)
    payload = await sealed_for(
        conn,
        {
            "proposal_id": proposal_id,
            "mention_id": mention.id,
            "status": status,
            "input": policy_input,
            "decision": decision_payload(decision),
        },
        channel=mention.channel,
        customer=mention.customer,
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
        customer_handle=mention.customer,
        thread_id=mention.thread_id,
        agent=user.name,
        text=draft.text,
        ai_generated=draft.ai_generated,
        status=status,
        outcome=decision.outcome,
        reasons=[msgspec.to_builtins(r) for r in decision.reasons],
        policy_revision=decision.policy_revision,
        idempotency_key=f"reply-{uuid.uuid4().hex}",
        now=now,
        policy_input=policy_input,
        shadow=decision_payload(decided.shadow) if decided.shadow else None,
        proposal_id=proposal_id,
        audit_seq=event.seq,
    )
    if status == "approved":
        await outbox.enqueue(conn, proposal_id, now=now)
        await conn.execute("SELECT pg_notify('outbox_queued', $1)", str(proposal_id))
    if status != "denied" and mention.status == "new":
        await mentions.set_status(conn, mention.id, "proposed")
    return proposal
