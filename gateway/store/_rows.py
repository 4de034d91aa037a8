"""Row-to-Struct conversion shared by the store modules."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from gateway.domain.classification import IntentScore
from gateway.domain.records import (
    AuditEvent,
    Claim,
    IntentFlag,
    Mention,
    OptOut,
    OutboxItem,
    Proposal,
    SentimentScores,
    User,
)

MENTION_COLUMNS = (
    "id, channel, external_id, url, author_handle, author_display_name, author_bot,"
    " author_description, text, created_at, in_reply_to, thread_id, visibility, is_direct,"
    " channel_data, ingested_at, intent, intent_features, sentiment_compound,"
    " sentiment_pos, sentiment_neu, sentiment_neg, addressed, addressed_via,"
    " optout_requested, optout_signal, status, claimed_by, claim_expires_at, customer_id,"
    " customer_key, language, intents, flagged_intent"
)
PROPOSAL_COLUMNS = (
    "id, mention_id, channel, customer_handle, thread_id, agent, text, ai_generated, status,"
    " outcome, reasons, policy_revision, audit_seq, created_at, updated_at, reviewed_by,"
    " review_note, receipt, idempotency_key"
)
OPT_OUT_COLUMNS = (
    "id, channel, handle, reason, source, mention_id, created_by, created_at, removed_at,"
    " removed_by, removed_reason"
)
AUDIT_COLUMNS = "seq, occurred_at, kind, actor, subject, payload, policy_revision, prev_hash, hash"
OUTBOX_COLUMNS = "id, proposal_id, state, attempts, next_attempt_at, last_error"


def user_from_row(row: asyncpg.Record) -> User:
    return User(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        created_at=row["created_at"],
        token_issued_by=row["token_issued_by"],
    )


def mention_from_row(row: asyncpg.Record, *, now: Any = None) -> Mention:
    claim = None
    if row["claimed_by"] is not None and (now is None or row["claim_expires_at"] > now):
        claim = Claim(agent=row["claimed_by"], expires_at=row["claim_expires_at"])
    return Mention(
        id=row["id"],
        channel=row["channel"],
        external_id=row["external_id"],
        url=row["url"],
        author_handle=row["author_handle"],
        author_display_name=row["author_display_name"],
        author_bot=row["author_bot"],
        author_description=row["author_description"],
        text=row["text"],
        created_at=row["created_at"],
        in_reply_to=row["in_reply_to"],
        thread_id=row["thread_id"],
        visibility=row["visibility"],
        is_direct=row["is_direct"],
        channel_data=dict(row["channel_data"]),
        ingested_at=row["ingested_at"],
        intent=row["intent"],
        intent_features=list(row["intent_features"]),
        sentiment=SentimentScores(
            compound=row["sentiment_compound"],
            pos=row["sentiment_pos"],
            neu=row["sentiment_neu"],
            neg=row["sentiment_neg"],
        ),
        addressed=row["addressed"],
        addressed_via=row["addressed_via"],
        optout_requested=row["optout_requested"],
        optout_signal=row["optout_signal"],
        status=row["status"],
        claim=claim,
        customer_id=row["customer_id"],
        customer_key=row["customer_key"],
        language=row["language"],
        intents=msgspec.convert(row["intents"], list[IntentScore]),
        flagged_intent=row["flagged_intent"],
    )


def proposal_from_row(row: asyncpg.Record) -> Proposal:
    return Proposal(
        id=row["id"],
        mention_id=row["mention_id"],
        channel=row["channel"],
        customer_handle=row["customer_handle"],
        thread_id=row["thread_id"],
        agent=row["agent"],
        text=row["text"],
        ai_generated=row["ai_generated"],
        status=row["status"],
        outcome=row["outcome"],
        reasons=list(row["reasons"]),
        policy_revision=row["policy_revision"],
        audit_seq=row["audit_seq"] or 0,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        reviewed_by=row["reviewed_by"],
        review_note=row["review_note"],
        receipt=row["receipt"],
        idempotency_key=row["idempotency_key"],
    )


def opt_out_from_row(row: asyncpg.Record) -> OptOut:
    return OptOut(**{k: row[k] for k in OPT_OUT_COLUMNS.replace(" ", "").split(",")})


def audit_from_row(row: asyncpg.Record) -> AuditEvent:
    return AuditEvent(**{k: row[k] for k in AUDIT_COLUMNS.replace(" ", "").split(",")})


def outbox_from_row(row: asyncpg.Record) -> OutboxItem:
    return OutboxItem(**{k: row[k] for k in OUTBOX_COLUMNS.replace(" ", "").split(",")})


INTENT_FLAG_COLUMNS = "id, mention_id, intent, classified_intent, flagged_by, note, created_at"


def intent_flag_from_row(row: asyncpg.Record) -> IntentFlag:
    return IntentFlag(**{k: row[k] for k in INTENT_FLAG_COLUMNS.replace(" ", "").split(",")})
