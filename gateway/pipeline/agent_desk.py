"""What an agent sees before and after writing: the inbox, a customer's contact history
against the active policy's caps, a live verdict on a draft, and their own proposals.

Everything here reads; the only decision is :meth:`AgentDesk.verdict`, which is
``Decider.preview`` (the same policy input a proposal would be decided on, the same text
checks, nothing written, nothing released) plus the words each reason names. Who may call
what is the caller's guard (``gateway.http.agent_routes`` and the console's agent pages).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from gateway.audit.subjects import opened
from gateway.audit.suppression import SuppressionKeys
from gateway.domain.access import RoleRefused
from gateway.domain.decisions import Reason
from gateway.domain.highlights import Span, reason_spans
from gateway.domain.records import Mention, OptOut, Proposal, User
from gateway.pipeline.decide import Decider
from gateway.policy.engine import PolicyEngine
from gateway.store import audit, inbox, mentions, opt_outs, proposals
from gateway.store import policies as policy_store
from gateway.store.errors import Conflict, NotFound
from gateway.store.inbox import InboxCounts, InboxFilter

# The caps each window is held against, by key of data.engagement.caps.
CAP_KEYS = {"24h": "per_customer_24h", "7d": "per_customer_7d", "30d": "per_customer_30d"}
THREAD_CAP_KEY = "per_thread_unanswered"
FINAL_STATUSES = frozenset({"released", "denied", "rejected", "failed", "withdrawn"})


class InboxItem(msgspec.Struct, frozen=True, kw_only=True):
    mention: Mention
    opted_out: bool  # the customer may not be contacted (opt-out or erasure)


class InboxPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[InboxItem]
    next_cursor: int | None  # pass as before_id for the next (older) page
    counts: InboxCounts


class ContactWindow(msgspec.Struct, frozen=True, kw_only=True):
    window: str  # "24h", "7d", "30d"
    replies: int  # replies approved or released to the customer in the window
    cap: int | None  # the active policy's cap (None: the policy data sets none)


class ContactHistory(msgspec.Struct, frozen=True, kw_only=True):
    channel: str
    customer: str
    opted_out: bool
    opt_out: OptOut | None  # the active opt-out, when one is registered
    windows: list[ContactWindow]
    last_contact_at: datetime | None
    thread_replies: int
    thread_cap: int | None
    policy_revision: str


class ReasonVerdict(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    message: str
    rule: str
    spans: list[Span]  # the words of the reply that the reason names
    mention_spans: list[Span]  # ... and of the mention (legal language, sensitive topics)


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    outcome: str
    reasons: list[ReasonVerdict]
    policy_revision: str
    claimed_by: str | None  # another agent's live claim: only they can submit


class ProposalView(msgspec.Struct, frozen=True, kw_only=True):
    proposal: Proposal
    final: bool  # no further status change will come
    withdrawn_reasons: list[Reason]  # why the policy stopped it after its decision


class AgentDesk:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        decider: Decider,
        engine: PolicyEngine,
        keys: SuppressionKeys | None,
    ) -> None:
        self._pool = pool
        self._decider = decider
        self._engine = engine
        self._keys = keys
        self._caps: dict[str, dict[str, Any]] = {}  # revision -> data.engagement.caps

    async def inbox(self, where: InboxFilter) -> InboxPage:
        async with self._pool.acquire() as conn:
            found = await inbox.list_inbox(conn, where)
            counts = await inbox.inbox_counts(conn, where)
            flags = await inbox.opted_out_among(
                conn, [(m.channel, m.customer, self._key(m)) for m in found]
            )
        items = [InboxItem(mention=m, opted_out=f) for m, f in zip(found, flags, strict=True)]
        full = len(found) == min(where.limit, inbox.MAX_INBOX_PAGE)
        return InboxPage(
            items=items, next_cursor=found[-1].id if full and found else None, counts=counts
        )

    async def mention(self, mention_id: int) -> InboxItem:
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn:
            found = await mentions.get_mention(conn, mention_id, now=now)
            (flag,) = await inbox.opted_out_among(
                conn, [(found.channel, found.customer, self._key(found))]
            )
        return InboxItem(mention=found, opted_out=flag)

    async def thread(self, mention: Mention, *, limit: int = 50) -> list[Mention]:
        """The latest mentions of the same thread, oldest first (the mention included)."""
        async with self._pool.acquire() as conn:
            return await mentions.thread_mentions(
                conn,
                channel=mention.channel,
                thread_id=mention.thread_id,
                now=datetime.now(UTC),
                limit=limit,
            )

    async def contact_history(self, mention_id: int) -> ContactHistory:
        """The customer's replies in the last 24 h / 7 d / 30 d against the active caps."""
        now = datetime.now(UTC)
        revision = self._engine.revision
        async with self._pool.acquire() as conn:
            found = await mentions.get_mention(conn, mention_id, now=now)
            history = await proposals.customer_history(
                conn,
                channel=found.channel,
                handle=found.customer,
                thread_id=found.thread_id,
                now=now,
                suppression_key=self._key(found),
            )
            opt_out = await opt_outs.active_opt_out(
                conn, channel=found.channel, handle=found.customer
            )
            caps = await self._caps_of(conn, revision)
        counts = {"24h": history.contacts_24h, "7d": history.contacts_7d}
        counts["30d"] = history.contacts_30d
        return ContactHistory(
            channel=found.channel,
            customer=found.customer,
            opted_out=history.opted_out,
            opt_out=opt_out,
            windows=[
                ContactWindow(window=w, replies=counts[w], cap=_int(caps.get(key)))
                for w, key in CAP_KEYS.items()
            ],
            last_contact_at=history.last_contact_at,
            thread_replies=history.thread_replies,
            thread_cap=_int(caps.get(THREAD_CAP_KEY)),
            policy_revision=revision,
        )

    async def verdict(
        self, *, mention_id: int, text: str, user: User, ai_generated: bool = False
    ) -> Verdict:
        """What the policy would decide on this draft now, and the words behind each
        reason. Writes nothing; a claim by another agent is reported, not bypassed (the
        proposal itself is refused for anyone but the holder)."""
        decision = await self._decider.preview(
            mention_id=mention_id, text=text, user=user, ai_generated=ai_generated
        )
        found = (await self.mention(mention_id)).mention
        holder = found.claim.agent if found.claim and found.claim.agent != user.name else None
        return Verdict(
            outcome=decision.outcome,
            reasons=[
                ReasonVerdict(
                    code=r.code,
                    message=r.message,
                    rule=r.rule,
                    spans=reason_spans(r, text),
                    mention_spans=reason_spans(r, found.text),
                )
                for r in decision.reasons
            ],
            policy_revision=decision.policy_revision,
            claimed_by=holder,
        )

    async def my_proposals(
        self, user: User, *, status: str | None = None, limit: int = 50
    ) -> list[Proposal]:
        """The user's own proposals, newest first."""
        async with self._pool.acquire() as conn:
            return await proposals.list_agent_proposals(
                conn, agent=user.name, status=status, limit=limit
            )

    async def proposal(self, proposal_id: int, *, user: User) -> ProposalView:
        """One proposal with why it was withdrawn, if it was; agents see only their own."""
        async with self._pool.acquire() as conn:
            found = await proposals.get_proposal(conn, proposal_id)
            if user.role == "agent" and found.agent != user.name:
                raise RoleRefused(f"proposal {proposal_id} was made by another agent")
            withdrawn: list[Reason] = []
            if found.status in ("withdrawn", "pending_review"):
                events = await audit.list_events(
                    conn, kind="release_withdrawn", subject=f"proposal:{proposal_id}", limit=20
                )
                for event in await opened(conn, events):
                    decision = event.payload.get("decision")
                    if isinstance(decision, dict):
                        withdrawn = [
                            msgspec.convert(r, Reason) for r in decision.get("reasons", [])
                        ]
        return ProposalView(
            proposal=found, final=found.status in FINAL_STATUSES, withdrawn_reasons=withdrawn
        )

    def _key(self, mention: Mention) -> str | None:
        return self._keys.for_mention(mention) if self._keys else None

    async def _caps_of(self, conn: Any, revision: str) -> dict[str, Any]:
        if revision not in self._caps:
            try:
                version = await policy_store.get_version(conn, revision)
            except (NotFound, Conflict):
                return {}  # an engine pinned outside the lifecycle (tests): caps unknown
            caps = version.data.get("caps")
            self._caps[revision] = dict(caps) if isinstance(caps, dict) else {}
        return self._caps[revision]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
