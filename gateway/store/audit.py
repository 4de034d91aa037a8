"""Appending to and reading the audit chain.

Appends must run inside the caller's transaction: the chain head row is locked
(``FOR UPDATE``) so sequence numbers are gap-free and every event links to the one before.
The lock is held until the caller commits, so callers append as late as they can.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import msgspec

from gateway.domain.chain import event_hash
from gateway.domain.records import AuditEvent
from gateway.store._rows import AUDIT_COLUMNS, audit_from_row
from gateway.store.connection import Conn
from gateway.store.errors import NotFound

_encode = msgspec.json.encode
_decode = msgspec.json.decode


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event to append: the chain gives it its seq, time, prev_hash and hash."""

    kind: str
    actor: str
    subject: str
    payload: dict[str, Any]
    policy_revision: str | None = None


async def append(
    conn: Conn,
    *,
    kind: str,
    actor: str,
    subject: str,
    payload: dict[str, Any],
    policy_revision: str | None = None,
) -> AuditEvent:
    event = NewEvent(
        kind=kind, actor=actor, subject=subject, payload=payload, policy_revision=policy_revision
    )
    return (await append_many(conn, [event]))[0]


async def append_many(conn: Conn, events: list[NewEvent]) -> list[AuditEvent]:
    """Append ``events`` in order: the chain head is read (and locked) once, the hashes are
    computed here, the events inserted in one statement and the head moved once."""
    if not conn.is_in_transaction():
        raise RuntimeError("audit.append must run inside a transaction")
    if not events:
        return []
    head = await conn.fetchrow("SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE")
    assert head is not None
    occurred_at = datetime.now(UTC)
    appended, texts = link_events(
        events, seq=int(head["seq"]), prev_hash=str(head["hash"]), occurred_at=occurred_at
    )
    await conn.execute(
        "INSERT INTO audit_events (seq, occurred_at, kind, actor, subject, payload,"
        " policy_revision, prev_hash, hash)"
        " SELECT seq, $2, kind, actor, subject, payload::jsonb, policy_revision, prev_hash, hash"
        " FROM unnest($1::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],"
        " $7::text[], $8::text[], $9::text[])"
        " AS e(seq, kind, actor, subject, payload, policy_revision, prev_hash, hash)",
        [e.seq for e in appended],
        occurred_at,
        [e.kind for e in appended],
        [e.actor for e in appended],
        [e.subject for e in appended],
        texts,
        [e.policy_revision for e in appended],
        [e.prev_hash for e in appended],
        [e.hash for e in appended],
    )
    last = appended[-1]
    await conn.execute(
        "UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1", last.seq, last.hash
    )
    return appended


def link_events(
    events: list[NewEvent], *, seq: int, prev_hash: str, occurred_at: datetime
) -> tuple[list[AuditEvent], list[str]]:
    """``events`` as they will be stored after the chain head ``(seq, prev_hash)``: each
    numbered, hashed and linked to the one before; with each payload's JSON text (what the
    jsonb column receives; the hash covers the payload as jsonb gives it back)."""
    appended: list[AuditEvent] = []
    texts: list[str] = []
    for new in events:
        seq += 1
        raw = _encode(new.payload)
        texts.append(raw.decode())
        stored: dict[str, Any] = _decode(raw)
        digest = event_hash(
            prev_hash=prev_hash,
            seq=seq,
            occurred_at=occurred_at,
            kind=new.kind,
            actor=new.actor,
            subject=new.subject,
            payload=stored,
            policy_revision=new.policy_revision,
        )
        appended.append(
            AuditEvent(
                seq=seq,
                occurred_at=occurred_at,
                kind=new.kind,
                actor=new.actor,
                subject=new.subject,
                payload=stored,
                policy_revision=new.policy_revision,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        prev_hash = digest
    return appended, texts


async def list_events(
    conn: Conn,
    *,
    kind: str | None = None,
    actor: str | None = None,
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_seq: int = 0,
    limit: int = 100,
) -> list[AuditEvent]:
    rows = await conn.fetch(
        f"SELECT {AUDIT_COLUMNS} FROM audit_events"
        " WHERE seq > $1"
        " AND ($2::text IS NULL OR kind = $2)"
        " AND ($3::text IS NULL OR actor = $3)"
        " AND ($4::text IS NULL OR subject = $4)"
        " AND ($5::timestamptz IS NULL OR occurred_at >= $5)"
        " AND ($6::timestamptz IS NULL OR occurred_at < $6)"
        " ORDER BY seq LIMIT $7",
        after_seq,
        kind,
        actor,
        subject,
        since,
        until,
        limit,
    )
    return [audit_from_row(r) for r in rows]


async def iterate_all(conn: Conn, *, batch: int = 2000) -> AsyncIterator[AuditEvent]:
    """Every event in seq order, fetched in batches (constant memory)."""
    after = 0
    while True:
        rows = await conn.fetch(
            f"SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
            after,
            batch,
        )
        if not rows:
            return
        for row in rows:
            yield audit_from_row(row)
        after = rows[-1]["seq"]


async def chain_head(conn: Conn) -> tuple[int, str]:
    row = await conn.fetchrow("SELECT seq, hash FROM audit_chain_head WHERE id = 1")
    assert row is not None
    return int(row["seq"]), str(row["hash"])


async def find_event(
    conn: Conn, *, kind: str, subject: str, key: str, value: str
) -> AuditEvent | None:
    row = await conn.fetchrow(
        f"SELECT {AUDIT_COLUMNS} FROM audit_events"
        " WHERE kind = $1 AND subject = $2 AND payload ->> $3 = $4 ORDER BY seq DESC LIMIT 1",
        kind,
        subject,
        key,
        value,
    )
    return audit_from_row(row) if row else None


class ExportFilter(msgspec.Struct, frozen=True, kw_only=True):
    kind: str | None = None
    actor: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    subject_ids: list[str] | None = None  # the customer's pseudonymous subject ids
    outcome: str | None = None
    reason: str | None = None
    policy_revision: str | None = None


async def iterate_filtered(
    conn: Conn, where: ExportFilter, *, batch: int = 2000
) -> AsyncIterator[AuditEvent]:
    """Events matching ``where`` in seq order, fetched in batches (constant memory)."""
    after = 0
    while True:
        rows = await conn.fetch(
            f"SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq > $1"
            " AND ($2::text IS NULL OR kind = $2)"
            " AND ($3::text IS NULL OR actor = $3)"
            " AND ($4::text IS NULL OR subject = $4)"
            " AND ($5::timestamptz IS NULL OR occurred_at >= $5)"
            " AND ($6::timestamptz IS NULL OR occurred_at < $6)"
            " AND ($7::text[] IS NULL OR payload ->> 'subject_id' = ANY($7::text[]))"
            " AND ($8::text IS NULL OR payload -> 'decision' ->> 'outcome' = $8)"
            " AND ($9::text IS NULL OR payload -> 'decision' -> 'reasons'"
            "      @> jsonb_build_array(jsonb_build_object('code', $9::text)))"
            " AND ($10::text IS NULL OR policy_revision = $10)"
            " ORDER BY seq LIMIT $11",
            after,
            where.kind,
            where.actor,
            where.subject,
            where.since,
            where.until,
            where.subject_ids,
            where.outcome,
            where.reason,
            where.policy_revision,
            batch,
        )
        if not rows:
            return
        for row in rows:
            yield audit_from_row(row)
        after = rows[-1]["seq"]


async def payload_field(conn: Conn, seq: int, key: str) -> str | None:
    """One top-level text field of event ``seq``'s payload (None if absent)."""
    value = await conn.fetchval("SELECT payload ->> $2 FROM audit_events WHERE seq = $1", seq, key)
    return str(value) if value is not None else None


async def get_event(conn: Conn, seq: int) -> AuditEvent:
    row = await conn.fetchrow(f"SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq = $1", seq)
    if row is None:
        raise NotFound(f"audit event {seq} does not exist")
    return audit_from_row(row)


async def payload_fields(conn: Conn, seqs: list[int], key: str) -> dict[int, str | None]:
    """One top-level text field of each event's payload, by seq (None if absent)."""
    rows = await conn.fetch(
        "SELECT seq, payload ->> $2 AS value FROM audit_events WHERE seq = ANY($1::bigint[])",
        seqs,
        key,
    )
    return {int(r["seq"]): (str(r["value"]) if r["value"] is not None else None) for r in rows}
