"""A group-commit batch of decisions in few round trips (``pipeline/decide.py``'s writer).

Under the mentions' row locks and the batch's contact locks (taken before, in that
order), a batch needs two more statements:

- ``read_for_batch``: the contact facts of every job, the batch's proposal ids and the
  audit chain head as it is now (not locked);
- ``record_batch``: the audit events (numbered, hashed and linked here onto that head),
  the chain head moved over them, the proposals, the outbox rows of the allowed ones with
  one NOTIFY, and the mentions marked proposed: one call of ``record_decisions``
  (migration 0022), whose statements run in order inside the caller's transaction. It
  locks the chain head first; if another writer moved it since it was read, nothing is
  written, the events are linked again onto the head it returns, and the second call
  (under the head's lock, held since the first) writes them.

The facts are read after the contact locks were granted (a statement of its own), so they
include every contact committed by whoever held those locks before: the caps hold. The
chain head is locked only from the write to the commit, so a slow re-decision in the
batch never holds up the other writers of the audit chain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from gateway.domain.records import AuditEvent, ContactFacts, Proposal
from gateway.store.audit import NewEvent, link_events
from gateway.store.connection import Conn
from gateway.store.proposals import FACTS_CTE, HistoryQuery, NewProposal, facts_from_row

_READ = (
    FACTS_CTE + ", head AS (SELECT seq, hash FROM audit_chain_head WHERE id = 1)"
    " SELECT f.*, head.seq AS head_seq, head.hash AS head_hash,"
    "  (SELECT array_agg(nextval(pg_get_serial_sequence('proposals', 'id')))"
    "   FROM generate_series(1, $7)) AS ids"
    " FROM f CROSS JOIN head ORDER BY f.ord"
)

_json = msgspec.json.Encoder()


class BatchRead(msgspec.Struct, frozen=True, kw_only=True):
    facts: list[ContactFacts]  # in the order of the queries
    proposal_ids: list[int]  # reserved for the batch's proposals
    head_seq: int  # the audit chain head as read (record_batch checks it under its lock)
    head_hash: str


async def read_for_batch(conn: Conn, queries: list[HistoryQuery], *, now: datetime) -> BatchRead:
    """Facts of each query as of ``now``, one proposal id per query, and the chain head:
    one round trip. Must run inside the batch's transaction."""
    if not conn.is_in_transaction():
        raise RuntimeError("read_for_batch must run inside a transaction")
    rows = await conn.fetch(
        _READ,
        [q.channel for q in queries],
        [q.handle for q in queries],
        [q.thread_id for q in queries],
        [q.suppression_key for q in queries],
        [q.exclude_proposal for q in queries],
        now,
        len(queries),
    )
    first = rows[0]
    return BatchRead(
        facts=[facts_from_row(r) for r in rows],
        proposal_ids=[int(i) for i in first["ids"]],
        head_seq=int(first["head_seq"]),
        head_hash=str(first["head_hash"]),
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
