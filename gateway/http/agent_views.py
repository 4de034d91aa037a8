"""What the agent routes accept and answer (gateway/http/agent_routes.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from gateway.domain.highlights import Span
from gateway.http.params import TEXT_CHARS
from gateway.http.views import MentionOut, mention_out
from gateway.pipeline.agent_desk import ContactHistory, InboxPage, Verdict

Text = Annotated[str, Meta(min_length=1, max_length=10_000, pattern=TEXT_CHARS)]


class VerdictIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    text: Text
    ai_generated: bool = False


class SpanOut(msgspec.Struct, frozen=True, kw_only=True):
    start: int  # code point offsets into the text, end exclusive
    end: int
    text: str


class ReasonVerdictOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    message: str
    rule: str
    spans: list[SpanOut]  # words of the reply this reason names
    mention_spans: list[SpanOut]  # words of the mention this reason names


class VerdictOut(msgspec.Struct, frozen=True, kw_only=True):
    outcome: str
    reasons: list[ReasonVerdictOut]
    policy_revision: str
    claimed_by: str | None  # another agent holds the mention: only they can submit


class InboxItemOut(msgspec.Struct, frozen=True, kw_only=True):
    mention: MentionOut
    opted_out: bool


class InboxOut(msgspec.Struct, frozen=True, kw_only=True):
    items: list[InboxItemOut]
    next_cursor: str | None
    counts: dict[str, dict[str, int]]
    total: int


class OptOutBrief(msgspec.Struct, frozen=True, kw_only=True):
    reason: str
    source: str
    created_at: datetime


class WindowOut(msgspec.Struct, frozen=True, kw_only=True):
    window: str
    replies: int
    cap: int | None


class ContactsOut(msgspec.Struct, frozen=True, kw_only=True):
    channel: str
    customer: str
    opted_out: bool
    opt_out: OptOutBrief | None
    windows: list[WindowOut]
    last_contact_at: datetime | None
    thread_replies: int
    thread_cap: int | None
    policy_revision: str


def _spans(spans: list[Span]) -> list[SpanOut]:
    return [SpanOut(start=s.start, end=s.end, text=s.text) for s in spans]


def verdict_out(v: Verdict) -> VerdictOut:
    return VerdictOut(
        outcome=v.outcome,
        reasons=[
            ReasonVerdictOut(
                code=r.code,
                message=r.message,
                rule=r.rule,
                spans=_spans(r.spans),
                mention_spans=_spans(r.mention_spans),
            )
            for r in v.reasons
        ],
        policy_revision=v.policy_revision,
        claimed_by=v.claimed_by,
    )


def inbox_out(p: InboxPage) -> InboxOut:
    c = p.counts
    return InboxOut(
        items=[
            InboxItemOut(mention=mention_out(i.mention), opted_out=i.opted_out) for i in p.items
        ],
        next_cursor=str(p.next_cursor) if p.next_cursor is not None else None,
        counts={
            "status": c.status,
            "intent": c.intent,
            "channel": c.channel,
            "addressed": c.addressed,
            "sentiment": c.sentiment,
            "claim": c.claim,
        },
        total=c.total,
    )


def contacts_out(h: ContactHistory) -> ContactsOut:
    o = h.opt_out
    brief = OptOutBrief(reason=o.reason, source=o.source, created_at=o.created_at) if o else None
    return ContactsOut(
        channel=h.channel,
        customer=h.customer,
        opted_out=h.opted_out,
        opt_out=brief,
        windows=[WindowOut(window=w.window, replies=w.replies, cap=w.cap) for w in h.windows],
        last_contact_at=h.last_contact_at,
        thread_replies=h.thread_replies,
        thread_cap=h.thread_cap,
        policy_revision=h.policy_revision,
    )
