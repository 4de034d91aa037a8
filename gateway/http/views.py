"""What the API accepts and answers: Structs on the wire, and record → view conversion."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from connectors.contract import RawAuthor, RawMention
from gateway.domain.classification import FlaggableIntent, OptOutSignal
from gateway.domain.decisions import Decision
from gateway.domain.records import IntentFlag, Mention, Proposal
from gateway.http.params import NO_CONTROL, TEXT_CHARS, Channel, Id

Text = Annotated[str, Meta(min_length=1, max_length=10_000, pattern=TEXT_CHARS)]
Short = Annotated[str, Meta(min_length=1, max_length=500, pattern=NO_CONTROL)]
Note = Annotated[str, Meta(max_length=2_000, pattern=TEXT_CHARS)]
Line = Annotated[str, Meta(max_length=500, pattern=NO_CONTROL)]


class _In(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class AuthorIn(_In, frozen=True, kw_only=True, forbid_unknown_fields=True):
    handle: Short
    display_name: Line = ""
    bot: bool = False
    description: Annotated[str, Meta(max_length=5_000, pattern=TEXT_CHARS)] = ""


class MentionIn(_In, frozen=True, kw_only=True, forbid_unknown_fields=True):
    channel: Channel
    external_id: Short
    url: Annotated[str, Meta(max_length=2_000, pattern=NO_CONTROL)] | None = None
    author: AuthorIn
    text: Text
    created_at: Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_CONTROL)]
    in_reply_to: Short | None = None
    thread_id: Short | None = None
    addressed: bool | None = None
    is_direct: bool = False
    visibility: Annotated[str, Meta(max_length=32, pattern=NO_CONTROL)] | None = None

    def to_raw(self) -> RawMention:
        return RawMention(
            channel=self.channel,
            external_id=self.external_id,
            url=self.url,
            author=RawAuthor(
                handle=self.author.handle,
                display_name=self.author.display_name,
                bot=self.author.bot,
                description=self.author.description,
            ),
            text=self.text,
            created_at=self.created_at,
            in_reply_to=self.in_reply_to,
            thread_id=self.thread_id,
            addressed=self.addressed,
            is_direct=self.is_direct,
            visibility=self.visibility,
        )


class IngestIn(_In, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mentions: Annotated[list[MentionIn], Meta(min_length=1, max_length=1_000)]


class IngestOut(msgspec.Struct, frozen=True, kw_only=True):
    ids: list[int]
    duplicates: int


class ProposalIn(_In, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mention_id: Id
    text: Text
    ai_generated: bool = False


class PreviewIn(_In, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mention_id: Id
    text: Text
    ai_generated: bool = False


class ReviewIn(_In, frozen=True, kw_only=True, forbid_unknown_fields=True):
    note: Note = ""


class OptOutIn(_In, frozen=True, kw_only=True, forbid_unknown_fields=True):
    channel: Channel
    handle: Short
    reason: Note = ""


class AuthorOut(msgspec.Struct, frozen=True, kw_only=True):
    handle: str  # as the channel shows it
    customer: str | None = None  # the canonical identity (docs/policies.md); None once erased
    display_name: str
    bot: bool
    description: str


class SentimentOut(msgspec.Struct, frozen=True, kw_only=True):
    compound: float
    pos: float
    neu: float
    neg: float


class IntentScoreOut(msgspec.Struct, frozen=True, kw_only=True):
    intent: str
    score: float


class ClaimOut(msgspec.Struct, frozen=True, kw_only=True):
    agent: str
    expires_at: datetime


class MentionOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    channel: str
    external_id: str
    url: str | None
    author: AuthorOut
    text: str
    created_at: datetime
    in_reply_to: str | None
    thread_id: str
    visibility: str | None
    is_direct: bool
    ingested_at: datetime
    intent: str
    intent_features: list[str]
    sentiment: SentimentOut
    addressed: bool
    addressed_via: str | None
    optout_requested: bool
    # "requested": an opt-out was registered from this post; "possible": it may ask not to
    # be answered (replies go to review, reason possible_opt_out); "none".
    optout_signal: OptOutSignal
    status: str
    claim: ClaimOut | None
    # Every intent found, strongest first (intent is the first); [] for mentions stored
    # before the classifier reported them.
    intents: list[IntentScoreOut] = []
    language: str | None = None  # ISO 639-1; null: too little text to tell
    flagged_intent: str | None = None  # the intent an agent said it really has


class IntentFlagIn(_In, frozen=True, kw_only=True, forbid_unknown_fields=True):
    intent: FlaggableIntent
    note: Annotated[str, Meta(max_length=500, pattern=TEXT_CHARS)] = ""


class IntentFlagOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    mention_id: int
    intent: str
    classified_intent: str
    flagged_by: str
    note: str
    created_at: datetime


class ReasonOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    message: str
    rule: str = ""


class DecisionOut(msgspec.Struct, frozen=True, kw_only=True):
    outcome: Literal["allow", "review", "deny"]
    reasons: list[ReasonOut]
    policy_revision: str


class ProposalOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    mention_id: int
    channel: str
    agent: str
    text: str
    ai_generated: bool
    status: str
    decision: DecisionOut
    audit_seq: int
    created_at: datetime
    updated_at: datetime
    reviewed_by: str | None
    review_note: str | None
    receipt: dict[str, Any] | None


class Page(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Any]
    next_cursor: str | None


class VerifyOut(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    events: int
    first_bad_seq: int | None
    detail: str | None


def mention_out(m: Mention) -> MentionOut:
    return MentionOut(
        id=m.id,
        channel=m.channel,
        external_id=m.external_id,
        url=m.url,
        author=AuthorOut(
            handle=m.author_handle,
            customer=m.customer_id,
            display_name=m.author_display_name,
            bot=m.author_bot,
            description=m.author_description,
        ),
        text=m.text,
        created_at=m.created_at,
        in_reply_to=m.in_reply_to,
        thread_id=m.thread_id,
        visibility=m.visibility,
        is_direct=m.is_direct,
        ingested_at=m.ingested_at,
        intent=m.intent,
        intent_features=m.intent_features,
        sentiment=SentimentOut(
            compound=m.sentiment.compound,
            pos=m.sentiment.pos,
            neu=m.sentiment.neu,
            neg=m.sentiment.neg,
        ),
        addressed=m.addressed,
        addressed_via=m.addressed_via,
        optout_requested=m.optout_requested,
        optout_signal=m.optout_signal,
        status=m.status,
        claim=ClaimOut(agent=m.claim.agent, expires_at=m.claim.expires_at) if m.claim else None,
        intents=[IntentScoreOut(intent=s.intent, score=s.score) for s in m.intents],
        language=m.language,
        flagged_intent=m.flagged_intent,
    )


def intent_flag_out(f: IntentFlag) -> IntentFlagOut:
    return IntentFlagOut(
        id=f.id,
        mention_id=f.mention_id,
        intent=f.intent,
        classified_intent=f.classified_intent,
        flagged_by=f.flagged_by,
        note=f.note,
        created_at=f.created_at,
    )


def decision_out(d: Decision) -> DecisionOut:
    return DecisionOut(
        outcome=d.outcome,
        reasons=[ReasonOut(code=r.code, message=r.message, rule=r.rule) for r in d.reasons],
        policy_revision=d.policy_revision,
    )


def proposal_out(p: Proposal) -> ProposalOut:
    return ProposalOut(
        id=p.id,
        mention_id=p.mention_id,
        channel=p.channel,
        agent=p.agent,
        text=p.text,
        ai_generated=p.ai_generated,
        status=p.status,
        decision=DecisionOut(
            outcome=p.outcome,  # type: ignore[arg-type]  # checked by the database
            reasons=[msgspec.convert(r, ReasonOut) for r in p.reasons],
            policy_revision=p.policy_revision,
        ),
        audit_seq=p.audit_seq,
        created_at=p.created_at,
        updated_at=p.updated_at,
        reviewed_by=p.reviewed_by,
        review_note=p.review_note,
        receipt=p.receipt,
    )


def page(items: list[Any], *, limit: int, cursor_of: Any) -> Page:
    next_cursor = str(cursor_of(items[-1])) if len(items) == limit and items else None
    return Page(items=items, next_cursor=next_cursor)
