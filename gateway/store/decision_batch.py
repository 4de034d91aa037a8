"""A group-commit batch of decisions in four round trips (``pipeline/decide.py``'s writer):
``BEGIN``, ``prepare_batch``, ``record_batch``, ``COMMIT``, whatever the batch's size.

- ``prepare_batch``: one call of ``prepare_decisions`` (migration 0023), whose statements
  run in order inside the caller's transaction: lock the batch's mentions, take the
  contact locks of their customers and threads (in one fixed order, so two batches or
  instances wait for each other instead of deadlocking), read every job's contact facts
  (a statement of its own, after the locks were granted, so they include every contact
  committed by whoever held those locks before: the caps hold), reserve the proposal
  ids, read the audit chain head (not locked) and create or read the customers' audit
  keys.
- ``record_batch``: the audit events (numbered, hashed and linked here onto that head),
  the chain head moved over them, the proposals, the outbox rows of the allowed ones with
  one NOTIFY, and the mentions marked proposed: one call of ``record_decisions``
  (migration 0022). It locks the chain head first; if another writer moved it since it
  was read, nothing is written, the events are linked again onto the head it returns,
  and the second call (under the head's lock, held since the first) writes them.

The chain head is locked only from the write to the commit, so a slow re-decision in the
batch never holds up the other writers of the audit chain.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from gateway.domain.records import AuditEvent, ContactFacts, Mention, Proposal
from gateway.store._rows import mention_from_row
from gateway.store.audit import NewEvent, link_events
from gateway.store.connection import Conn
from gateway.store.errors import Unavailable
from gateway.store.proposals import NewProposal, facts_from_row

_PREPARE = "SELECT * FROM prepare_decisions($1, $2, $3, $4, $5)"

_json = msgspec.json.Encoder()


class PreparedJob(msgspec.Struct, frozen=True, kw_only=True):
    """What the batch read for one job under its locks. ``mention`` is None when the
    mention does not exist (then nothing else is set but the proposal id)."""

    mention: Mention | None
    facts: ContactFacts | None
    channel_suppressions: bool  # whether the channel has any suppression record at all
    subject: tuple[str, bytes] | None  # the customer's audit subject id and key
    proposal_id: int  # reserved for the job's proposal


class BatchRead(msgspec.Struct, frozen=True, kw_only=True):
    jobs: list[PreparedJob]  # in the order of the jobs
    head_seq: int  # the audit chain head as read (record_batch checks it under its lock)
    head_hash: str


async def prepare_batch(
    conn: Conn,
    mention_ids: list[int],
    suppression_keys: list[str | None],
    *,
    as_of: datetime,
) -> BatchRead:
    """Lock, read and reserve for a batch of decisions (see the module docstring): one
    round trip. ``suppression_keys[i]``: the key job i's customer is suppressed under
    (None: not computable), checked besides the one kept on an erased mention;
    ``as_of``: the writer's clock before the call (the contact windows' start, and when
    a claim must still hold). Must run inside the batch's transaction; a
    deadlock with some other locker is reported as Unavailable (try again)."""
    if not conn.is_in_transaction():
        raise RuntimeError("prepare_batch must run inside a transaction")
    try:
        rows = await conn.fetch(
            _PREPARE,
            mention_ids,
            suppression_keys,
            as_of,
            [uuid.uuid4() for _ in mention_ids],
            [os.urandom(32) for _ in mention_ids],
        )
    except asyncpg.exceptions.DeadlockDetectedError as exc:
        raise Unavailable(f"contact decisions collided; try again ({exc})") from exc
    first = rows[0]
    return BatchRead(
        jobs=[_prepared(r, as_of) for r in rows],
        head_seq=int(first["head_seq"]),
        head_hash=str(first["head_hash"]),
    )


def _prepared(row: asyncpg.Record, now: datetime) -> PreparedJob:
    locked = row["m"]
    if locked is None or locked["id"] is None:
        return PreparedJob(
            mention=None,
            facts=None,
            channel_suppressions=False,
            subject=None,
            proposal_id=int(row["proposal_id"]),
        )
    subject = (
        None if row["subject_id"] is None else (str(row["subject_id"]), bytes(row["subject_key"]))
    )
    return PreparedJob(
        mention=mention_from_row(locked, now=now),
        facts=facts_from_row(row),
        channel_suppressions=row["channel_suppressions"],
        subject=subject,
        proposal_id=int(row["proposal_id"]),
    )


def _text(value: Any) -> str | None:
    return None if value is None else _json.encode(value).decode()


async def record_batch(
    conn: Conn,
    *,
    read: BatchRead,
    events: list[NewEvent],
    proposals: list[NewProposal],
    occurred_at: datetime,
    queued_at: datetime,
    proposed: list[int],
) -> tuple[list[AuditEvent], list[Proposal]]:
    """Write the batch (see the module docstring): ``events[i]`` is the decision event of
    ``proposals[i]``, whose ``audit_seq`` is filled in here. Returns the stored events and
    proposals, in order."""
    seq, prev_hash = read.head_seq, read.head_hash
    for _attempt in range(2):
        appended, texts = link_events(events, seq=seq, prev_hash=prev_hash, occurred_at=occurred_at)
        rows = [
            msgspec.structs.replace(p, audit_seq=e.seq)
            for p, e in zip(proposals, appended, strict=True)
        ]
        moved = await conn.fetchrow(
            _RECORD,
            *_arguments(seq, prev_hash, appended, texts, rows),
            [p.id for p in rows if p.status == "approved"],
            queued_at,
            sorted(set(proposed)),
        )
        if moved is None:
            return appended, [_stored(p) for p in rows]
        # Another writer appended since the head was read; its lock is ours now.
        seq, prev_hash = int(moved["head_seq"]), str(moved["head_hash"])
        occurred_at = datetime.now(UTC)
    raise RuntimeError("the audit chain head moved while this writer held its lock")


_RECORD = "SELECT * FROM record_decisions(" + ", ".join(f"${i}" for i in range(1, 32)) + ")"


def _arguments(
    seq: int, prev_hash: str, appended: list[AuditEvent], texts: list[str], rows: list[NewProposal]
) -> list[Any]:
    return [
        seq,
        prev_hash,
        [e.seq for e in appended],
        appended[0].occurred_at,
        [e.kind for e in appended],
        [e.actor for e in appended],
        [e.subject for e in appended],
        texts,
        [e.policy_revision for e in appended],
        [e.prev_hash for e in appended],
        [e.hash for e in appended],
        [p.id for p in rows],
        [p.audit_seq for p in rows],
        [p.mention_id for p in rows],
        [p.channel for p in rows],
        [p.customer_handle for p in rows],
        [p.thread_id for p in rows],
        [p.agent for p in rows],
        [p.text for p in rows],
        [p.ai_generated for p in rows],
        [p.status for p in rows],
        [p.outcome for p in rows],
        [_text(p.reasons) for p in rows],
        [p.policy_revision for p in rows],
        [p.idempotency_key for p in rows],
        [p.now for p in rows],
        [_text(p.policy_input) for p in rows],
        [_text(p.shadow) for p in rows],
    ]


def _stored(new: NewProposal) -> Proposal:
    """The proposal as its row now reads (what ``INSERT ... RETURNING`` would give)."""
    return Proposal(
        id=new.id,
        mention_id=new.mention_id,
        channel=new.channel,
        customer_handle=new.customer_handle,
        thread_id=new.thread_id,
        agent=new.agent,
        text=new.text,
        ai_generated=new.ai_generated,
        status=new.status,  # type: ignore[arg-type]
        outcome=new.outcome,
        reasons=new.reasons,
        policy_revision=new.policy_revision,
        audit_seq=new.audit_seq,
        created_at=new.now,
        updated_at=new.now,
        reviewed_by=None,
        review_note=None,
        receipt=None,
        idempotency_key=new.idempotency_key,
    )
