"""The gateway's records as the rest of the code sees them (the store returns these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from gateway.domain.classification import IntentScore, OptOutSignal

Role = Literal["agent", "compliance", "auditor", "admin"]
ROLES: tuple[str, ...] = ("agent", "compliance", "auditor", "admin")

MentionStatus = Literal["new", "proposed", "replied"]
ProposalStatus = Literal[
    "approved", "pending_review", "denied", "rejected", "released", "failed", "withdrawn"
]


class User(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    role: Role
    created_at: datetime
    # who issued the current token (an admin's name, "cli"); None when not recorded
    token_issued_by: str | None = None


class UserAccount(msgspec.Struct, frozen=True, kw_only=True):
    """A user as admins see it: never the token, only when it was last replaced."""

    id: int
    name: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None = None
    token_rotated_at: datetime | None = None


class SentimentScores(msgspec.Struct, frozen=True, kw_only=True):
    compound: float
    pos: float
    neu: float
    neg: float


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    agent: str
    expires_at: datetime


class Mention(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    channel: str
    external_id: str
    url: str | None
    author_handle: str
    author_display_name: str
    author_bot: bool
    author_description: str
    text: str
    created_at: datetime
    in_reply_to: str | None
    thread_id: str
    visibility: str | None
    is_direct: bool
    channel_data: dict[str, Any]
    ingested_at: datetime
    intent: str
    intent_features: list[str]
    sentiment: SentimentScores
    addressed: bool
    addressed_via: str | None
    optout_requested: bool
    optout_signal: OptOutSignal = "none"  # "requested" exactly when optout_requested
    status: MentionStatus
    claim: Claim | None
    customer_id: str | None = None  # canonical identity (domain/identity.py); None once erased
    customer_key: str | None = None  # suppression key, kept on the mention once erased
    language: str | None = None  # ISO 639-1; None: too little text, or stored before 0015
    intents: list[IntentScore] = []  # every intent found, strongest first
    flagged_intent: str | None = None  # the intent an agent last said it really has

    @property
    def customer(self) -> str:
        """The customer's canonical identity; the erasure pseudonym once erased."""
        return self.customer_id or self.author_handle


class NewMention(msgspec.Struct, frozen=True, kw_only=True):
    """A classified mention ready to be stored."""

    channel: str
    external_id: str
    url: str | None
    author_handle: str
    author_display_name: str
    author_bot: bool = False
    author_description: str = ""
    text: str
    created_at: datetime
    in_reply_to: str | None
    thread_id: str
    visibility: str | None = None
    is_direct: bool = False
    channel_data: dict[str, Any] = {}
    addressed_hint: bool | None
    intent: str
    intent_features: list[str]
    sentiment: SentimentScores
    addressed: bool
    addressed_via: str | None
    optout_requested: bool
    customer_id: str | None = None  # canonical identity of the author
    optout_signal: OptOutSignal = "none"  # "requested" exactly when optout_requested
    language: str | None = None
    intents: list[IntentScore] = []


class IntentFlag(msgspec.Struct, frozen=True, kw_only=True):
    """An agent's statement that a mention's classified intent is wrong."""

    id: int
    mention_id: int
    intent: str  # what the agent believes it is
    classified_intent: str  # what the classifier said when the flag was raised
    flagged_by: str
    note: str
    created_at: datetime


class OptOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    channel: str
    handle: str
    reason: str
    source: str
    mention_id: int | None
    created_by: str
    created_at: datetime
    removed_at: datetime | None = None
    removed_by: str | None = None
    removed_reason: str | None = None  # why it was lifted (None: lifted without one)


class Proposal(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    mention_id: int
    channel: str
    customer_handle: str
    thread_id: str
    agent: str
    text: str
    ai_generated: bool
    status: ProposalStatus
    outcome: str
    reasons: list[dict[str, Any]]
    policy_revision: str
    audit_seq: int
    created_at: datetime
    updated_at: datetime
    reviewed_by: str | None
    review_note: str | None
    receipt: dict[str, Any] | None
    idempotency_key: str


class CustomerHistory(msgspec.Struct, frozen=True, kw_only=True):
    opted_out: bool
    contacts_24h: int
    contacts_7d: int
    contacts_30d: int
    last_contact_at: datetime | None
    thread_replies: int
    replied_since_last_contact: bool


class ContactFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the store knows of a customer's contacts and thread, as of one moment: the
    counts of ``CustomerHistory`` plus what it is derived from, so that contacts not
    committed yet (earlier decisions of the same group-commit batch) can be added."""

    opted_out: bool
    contacts_24h: int
    contacts_7d: int
    contacts_30d: int
    last_contact_at: datetime | None
    thread_replies: int
    thread_last_reply_at: datetime | None
    last_mention_in_thread_at: datetime | None  # the customer's latest mention in the thread

    def history(self) -> CustomerHistory:
        last_reply = self.thread_last_reply_at
        latest = self.last_mention_in_thread_at
        return CustomerHistory(
            opted_out=self.opted_out,
            contacts_24h=self.contacts_24h,
            contacts_7d=self.contacts_7d,
            contacts_30d=self.contacts_30d,
            last_contact_at=self.last_contact_at,
            thread_replies=self.thread_replies,
            replied_since_last_contact=last_reply is None
            or (latest is not None and latest > last_reply),
        )


class AuditEvent(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    occurred_at: datetime
    kind: str
    actor: str
    subject: str
    payload: dict[str, Any]
    policy_revision: str | None
    prev_hash: str
    hash: str


class OutboxItem(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    proposal_id: int
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


class PolicyVersion(msgspec.Struct, frozen=True, kw_only=True):
    revision: str
    files: dict[str, str]
    data: dict[str, Any]
    author: str
    description: str
    parent: str | None
    created_at: datetime
    tests: dict[str, Any] | None
    tests_passed: bool | None
    tested_at: datetime | None
    activated_at: datetime | None


class PolicyRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A change to what is enforced, proposed by one compliance officer and carried out only
    when another confirms it: ``rollback`` (re-activate ``revision``, enforced before),
    ``shadow`` (evaluate ``revision`` beside every live decision) or ``activate`` (enforce
    a draft never enforced before; the confirming officer is not its author either)."""

    id: int
    action: Literal["rollback", "shadow", "activate"]
    revision: str
    base_revision: str | None  # the active revision when proposed
    proposed_by: str
    proposed_at: datetime
    status: Literal["pending", "confirmed", "withdrawn"]
    decided_by: str | None = None
    decided_at: datetime | None = None


class PolicyState(msgspec.Struct, frozen=True, kw_only=True):
    active_revision: str | None
    previous_revision: str | None
    shadow_revision: str | None
    activated_by: str | None
    activated_at: datetime | None
    shadow_since: datetime | None
