"""Decide: evaluate a proposed reply against the active policy and record it.

``propose`` stores the proposal, appends its audit event (input snapshot, decision,
policy revision) and, when allowed, queues the release: all in ONE transaction, so a
proposal without its audit record (or a release without its decision) cannot exist.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import structlog

from connectors.contract import ChannelLimits
from gateway.audit.personal import seal
from gateway.audit.subjects import sealed_for
from gateway.audit.suppression import SuppressionKeys
from gateway.domain.decisions import Decision, policy_error
from gateway.domain.policy_input import PolicyInput
from gateway.domain.records import ContactFacts, CustomerHistory, Mention, Proposal, User
from gateway.pipeline.errors import InvalidInput, StateConflict
from gateway.pipeline.policy_input import build_policy_input
from gateway.policy.engine import PolicyEngine
from gateway.policy.live import LivePolicy
from gateway.store import audit, decision_batch, proposals, suppressions
from gateway.store.connection import Conn
from gateway.store.errors import NotFound
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
        group_commit: bool = False,
        suppression_keys: SuppressionKeys | None = None,
        shadow_wait_s: float = 0.25,
    ) -> None:
        """With ``group_commit`` proposals are written in batches by one writer
        (``self.committer``); without, each in its own transaction."""
        self.committer: GroupCommitter[_Job, _Written] | None = (
            GroupCommitter(pool, self._flush) if group_commit else None
        )
        self._keys = suppression_keys
        self._shadow_wait_s = shadow_wait_s
        self._pool = pool
        self.engine = engine
        self._limits = dict(limits or {})  # channel -> its publisher's limits
        self._proposing = 0  # proposals being decided or written now

    async def preview(
        self, *, mention_id: int, text: str, user: User, ai_generated: bool = False
    ) -> Decision:
        """What the policy would decide now; writes nothing."""
        _validate_text(text)
        now = datetime.now(UTC)
        mention, history, _key = await self._read(mention_id, now)
        policy_input = self._build(mention, text, ai_generated, user, history, now)
        return await self.engine.decide(policy_input)

    async def propose(
        self, *, mention_id: int, text: str, user: User, ai_generated: bool = False
    ) -> Proposal:
        """Decide, then store proposal + audit event (+ outbox row) in one transaction.

        While the group-commit writer is busy, the decision is computed from a snapshot
        (so that evaluations overlap with the writer's batches); the write runs in the
        next batch, where the claim is checked again under the mention's row lock and the
        customer's contact counts are re-read under the per-customer and per-thread
        locks (``_recheck``): changed facts are decided again there. A proposal alone
        (no other in progress, the writer idle, no shadow policy) has nothing to overlap
        with: it goes to the writer undecided and is decided there, once, on the facts
        read under the locks. A reply decided just before an opt-out committed is caught
        there or by the release re-check.
        """
        _validate_text(text)
        draft = _Draft(text=text, ai_generated=ai_generated, user=user)
        committer = self.committer
        alone = self._proposing == 0 and committer is not None and committer.idle
        self._proposing += 1
        try:
            if alone and self._shadow_policy() is None:
                # Nothing to overlap with: the writer decides it under the locks, on the
                # facts it reads there anyway (one round trip less than reading first).
                job = _Job(mention_id=mention_id, draft=draft, first=None, suppression_key=None)
            else:
                job = await self._decided_job(mention_id, draft)
            written = await self._write(job)
        finally:
            self._proposing -= 1
        proposal, decided = written.proposal, written.decided
        log.info(
            "policy_decided",
            proposal_id=proposal.id,
            mention_id=mention_id,
            outcome=decided.decision.outcome,
            reasons=[r.code for r in decided.decision.reasons],
            policy_revision=decided.decision.policy_revision,
            agent=user.name,
            redecided=job.first is not None and decided is not job.first,
            decided_in_writer=job.first is None,
        )
        return proposal

    async def _write(self, job: _Job) -> _Written:
        committer = self.committer
        if committer is not None:
            return await committer.submit(job)
        async with self._pool.acquire() as conn, conn.transaction():
            [outcome] = await self._flush(conn, [job])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def _decided_job(self, mention_id: int, draft: _Draft) -> _Job:
        """A job decided before it is queued (on a snapshot, re-checked in the writer), so
        that its policy evaluation and shadow run overlap with the writer's batches."""
        now = datetime.now(UTC)
        mention, history, key = await self._read(mention_id, now)
        _check_claim(mention, draft.user)
        policy_input = self._build(
            mention, draft.text, draft.ai_generated, draft.user, history, now
        )
        decision = await self.engine.decide(policy_input)
        shadow = await self._shadow(policy_input)
        first = _Decided(input=policy_input, decision=decision, shadow=shadow, now=now)
        return _Job(
            mention_id=mention_id,
            draft=draft,
            first=first,
            suppression_key=key,
        )

    async def _flush(self, conn: Conn, jobs: list[_Job]) -> list[_Written | Exception]:
        """Write a batch of proposals (decided on a snapshot, or to be decided here) in the
        caller's transaction, one statement per kind for the whole batch; a job refused
        by validation (its mention gone or claimed by someone else) gets its error and
        writes nothing."""
        as_of = datetime.now(UTC)
        read = await decision_batch.prepare_batch(
            conn,
            [j.mention_id for j in jobs],
            [j.suppression_key for j in jobs],
            as_of=as_of,
        )
        outcomes: list[_Written | Exception | None] = []
        valid: list[tuple[int, _Job, decision_batch.PreparedJob]] = []
        for index, (job, prepared) in enumerate(zip(jobs, read.jobs, strict=True)):
            try:
                if prepared.mention is None:
                    raise NotFound(f"mention {job.mention_id} does not exist")
                _check_claim(prepared.mention, job.draft.user)
            except (NotFound, StateConflict) as refused:
                outcomes.append(refused)
                continue
            outcomes.append(None)  # written below, with the rest of the batch
            valid.append((index, job, await self._suppressed(conn, job, prepared)))
        if valid:
            batch = [(job, prepared) for _, job, prepared in valid]
            decided = await self._recheck(batch)
            stored = await _store(conn, batch, decided, read)
            for (index, _job, _p), proposal, one in zip(valid, stored, decided, strict=True):
                outcomes[index] = _Written(proposal=proposal, decided=one)
        return [o if o is not None else RuntimeError("job left unwritten") for o in outcomes]

    async def _suppressed(
        self, conn: Conn, job: _Job, prepared: decision_batch.PreparedJob
    ) -> decision_batch.PreparedJob:
        """The job as prepared, its opt-out fact checked against the suppression key of
        the customer as the locked mention names them: the batch checked the key computed
        when the job was decided and the one kept on an erased mention; a mention whose
        customer changed since (rare) costs one more look-up."""
        mention, facts = prepared.mention, prepared.facts
        assert mention is not None and facts is not None
        checked = await _suppression_checked(
            conn,
            mention,
            facts,
            key=self._suppression_key(mention),
            checked=(job.suppression_key, mention.customer_key),
            channel_suppressions=prepared.channel_suppressions,
        )
        return prepared if checked is facts else msgspec.structs.replace(prepared, facts=checked)

    async def _recheck(self, jobs: list[tuple[_Job, decision_batch.PreparedJob]]) -> list[_Decided]:
        """The decisions to store: each job's first decision if the customer's facts are
        unchanged under the contact locks, else the policy's decision on the fresh facts.

        Decisions for one customer (and one thread) are serialised until the batch
        commits: ``prepare_batch`` took the locks of the whole batch (in one fixed order)
        and read the counts after, and each job's counts here include every contact
        allowed before it, earlier jobs of the same batch included. The cap itself stays
        the policy's.
        """
        now = datetime.now(UTC)  # after the locks: every contact committed before is seen
        earlier = _BatchContacts()
        decided: list[_Decided] = []
        for job, prepared in jobs:
            mention, stored = prepared.mention, prepared.facts
            assert mention is not None and stored is not None
            history = earlier.added_to(stored, mention, now).history()
            draft, first = job.draft, job.first
            fresh = self._build(mention, draft.text, draft.ai_generated, draft.user, history, now)
            if first is not None and fresh.customer == first.input.customer:
                one = first
            else:
                decision = await self.engine.decide(fresh)
                # No shadow run here: the batch holds its locks, and a shadow may take up
                # to shadow_wait_s; the shadow report counts this decision as skipped.
                one = _Decided(
                    input=fresh, decision=decision, shadow=self._shadow_skipped(), now=now
                )
            if one.decision.outcome == "allow":
                earlier.add(mention, one.now)
            decided.append(one)
        return decided

    def _shadow_policy(self) -> PolicyEngine | None:
        return self.engine.shadow if isinstance(self.engine, LivePolicy) else None

    def _shadow_skipped(self) -> Decision | None:
        shadow = self._shadow_policy()
        if shadow is None:
            return None
        detail = "shadow decision skipped: re-decided on fresh counts under the contact locks"
        return policy_error(shadow.revision, shadow.name, detail)

    async def _shadow(self, policy_input: PolicyInput) -> Decision | None:
        """The shadow policy's decision, stored beside the real one and never enforced.

        It may delay the proposal by ``shadow_wait_s`` at most: a slower shadow decision
        is recorded as a ``policy_error`` (its run goes on, bounded, in the sandbox)."""
        shadow = self._shadow_policy()
        if shadow is None:
            return None
        try:
            return await asyncio.wait_for(shadow.decide(policy_input), self._shadow_wait_s)
        except TimeoutError:
            detail = f"shadow decision skipped: no answer within {self._shadow_wait_s:g} s"
            log.info("shadow_decision_skipped", policy_revision=shadow.revision, error=detail)
            return policy_error(shadow.revision, shadow.name, detail)

    async def _read(
        self, mention_id: int, now: datetime
    ) -> tuple[Mention, CustomerHistory, str | None]:
        """The mention (with its claim), its customer's history and suppression key: one
        round trip, and a second only when the channel has suppression records and the
        customer's key has to be computed from their identity to look theirs up."""
        async with self._pool.acquire() as conn:
            read = await proposals.mention_facts(conn, mention_id, now=now)
            mention = read.mention
            key = self._suppression_key(mention)
            facts = await _suppression_checked(
                conn,
                mention,
                read.facts,
                key=key,
                checked=(mention.customer_key,),
                channel_suppressions=read.channel_suppressions,
            )
        return mention, facts.history(), key

    def _suppression_key(self, mention: Mention) -> str | None:
        return self._keys.for_mention(mention) if self._keys else None

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


class _Job(msgspec.Struct, frozen=True, kw_only=True):
    mention_id: int
    draft: _Draft
    first: _Decided | None  # None: decided by the writer, under the locks
    suppression_key: str | None  # the customer's, as the mention read when decided


class _Written(msgspec.Struct, frozen=True, kw_only=True):
    proposal: Proposal
    decided: _Decided


class _BatchContacts:
    """Contacts allowed by earlier jobs of the batch (not committed yet, so not counted
    by the store): their approval times by customer and by thread."""

    def __init__(self) -> None:
        self._customer: dict[tuple[str, str], list[datetime]] = {}
        self._thread: dict[tuple[str, str], list[datetime]] = {}

    def add(self, mention: Mention, at: datetime) -> None:
        self._customer.setdefault((mention.channel, mention.customer), []).append(at)
        self._thread.setdefault((mention.channel, mention.thread_id), []).append(at)

    def added_to(self, facts: ContactFacts, mention: Mention, now: datetime) -> ContactFacts:
        contacts = self._customer.get((mention.channel, mention.customer), [])
        replies = self._thread.get((mention.channel, mention.thread_id), [])
        if not contacts and not replies:
            return facts
        within = [t for t in contacts if t <= now]
        return msgspec.structs.replace(
            facts,
            contacts_24h=facts.contacts_24h + sum(t > now - _DAY for t in within),
            contacts_7d=facts.contacts_7d + sum(t > now - 7 * _DAY for t in within),
            contacts_30d=facts.contacts_30d + sum(t > now - 30 * _DAY for t in within),
            last_contact_at=_latest(facts.last_contact_at, *within),
            thread_replies=facts.thread_replies + len(replies),
            thread_last_reply_at=_latest(facts.thread_last_reply_at, *replies),
        )


_DAY = timedelta(days=1)


def _latest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


async def _suppression_checked(
    conn: Conn,
    mention: Mention,
    facts: ContactFacts,
    *,
    key: str | None,
    checked: tuple[str | None, ...],
    channel_suppressions: bool,
) -> ContactFacts:
    """``facts`` with the opt-out fact also covering a suppression record under ``key``
    (the customer's suppression key), unless the read already checked that key
    (``checked``), found the customer opted out, or the channel has no suppression
    record at all: then ``facts`` itself, with no query."""
    if key is None or key in checked or facts.opted_out or not channel_suppressions:
        return facts
    suppressed = await suppressions.is_suppressed(conn, channel=mention.channel, customer_key=key)
    return msgspec.structs.replace(facts, opted_out=suppressed)


def _check_claim(mention: Mention, user: User) -> None:
    if mention.claim is not None and mention.claim.agent != user.name:
        raise StateConflict(
            f"mention {mention.id} is claimed by {mention.claim.agent} until "
            f"{mention.claim.expires_at.isoformat()}; only they can propose a reply"
        )


async def _store(
    conn: Conn,
    jobs: list[tuple[_Job, decision_batch.PreparedJob]],
    decided: list[_Decided],
    read: decision_batch.BatchRead,
) -> list[Proposal]:
    """Proposals, their audit events (input snapshot, decision, revision, sealed under the
    customer's key the batch read) and, for those allowed, their outbox rows (one
    NOTIFY): all in the caller's transaction, under the mentions' row locks, in one
    statement (``store.decision_batch``)."""
    statuses = [STATUS_BY_OUTCOME[d.decision.outcome] for d in decided]
    inputs = [msgspec.to_builtins(d.input) for d in decided]
    events: list[audit.NewEvent] = []
    new: list[proposals.NewProposal] = []
    for (job, prepared), one, status, policy_input in zip(
        jobs, decided, statuses, inputs, strict=True
    ):
        mention, proposal_id = prepared.mention, prepared.proposal_id
        assert mention is not None
        payload = {
            "proposal_id": proposal_id,
            "mention_id": mention.id,
            "status": status,
            "input": policy_input,
            "decision": decision_payload(one.decision),
        }
        if prepared.subject is not None:
            subject_id, key = prepared.subject
            sealed = seal(payload, subject_id=subject_id, key=key)
        else:  # its subject was erased or re-keyed after the batch's read: read it again
            sealed = await sealed_for(
                conn, payload, channel=mention.channel, customer=mention.customer
            )
        events.append(
            audit.NewEvent(
                kind="proposal_decided",
                actor=job.draft.user.name,
                subject=f"proposal:{proposal_id}",
                payload=sealed,
                policy_revision=one.decision.policy_revision,
            )
        )
        new.append(
            proposals.NewProposal(
                id=proposal_id,
                audit_seq=0,  # the event's seq, given when the batch is linked onto the chain
                mention_id=mention.id,
                channel=mention.channel,
                customer_handle=mention.customer,
                thread_id=mention.thread_id,
                agent=job.draft.user.name,
                text=job.draft.text,
                ai_generated=job.draft.ai_generated,
                status=status,
                outcome=one.decision.outcome,
                reasons=[msgspec.to_builtins(r) for r in one.decision.reasons],
                policy_revision=one.decision.policy_revision,
                idempotency_key=f"reply-{uuid.uuid4().hex}",
                now=one.now,
                policy_input=policy_input,
                shadow=decision_payload(one.shadow) if one.shadow else None,
            )
        )
    _events, stored = await decision_batch.record_batch(
        conn,
        read=read,
        events=events,
        proposals=new,
        occurred_at=datetime.now(UTC),
        queued_at=datetime.now(UTC),
        proposed=[
            p.mention.id
            for (_job, p), status in zip(jobs, statuses, strict=True)
            if p.mention is not None and status != "denied" and p.mention.status == "new"
        ],
    )
    return stored
