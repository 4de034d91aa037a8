"""The audit log as auditors search it: any combination of filters, newest first, one
bounded page at a time.

The WHERE clause names only the filters given, so PostgreSQL plans each combination with
the index that fits it (migration 0020: outcome, channel, reasons, subject and revision
indexes beside 0001's kind, actor and time ones). Payload fields are matched together with
the partial indexes' own predicates (``payload ? 'decision'`` ...) so those indexes apply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import msgspec

from gateway.domain.records import AuditEvent
from gateway.store._rows import AUDIT_COLUMNS, audit_from_row
from gateway.store.connection import Conn

MAX_PAGE = 200


class AuditQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Which events; every field None means no filter on it. ``subject_ids`` are the
    pseudonymous subject ids of a customer (``identities`` + ``subjects`` resolve them)."""

    since: datetime | None = None
    until: datetime | None = None
    kind: str | None = None
    actor: str | None = None
    subject_ids: list[str] | None = None
    channel: str | None = None
    outcome: str | None = None
    reason: str | None = None
    policy_revision: str | None = None


def _where(query: AuditQuery, args: list[Any]) -> list[str]:
    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    clauses: list[str] = []
    if query.since is not None:
        clauses.append(f"occurred_at >= {arg(query.since)}")
    if query.until is not None:
        clauses.append(f"occurred_at < {arg(query.until)}")
    if query.kind is not None:
        clauses.append(f"kind = {arg(query.kind)}")
    if query.actor is not None:
        clauses.append(f"actor = {arg(query.actor)}")
    if query.subject_ids is not None:
        clauses.append(
            f"payload ? 'subject_id' AND payload ->> 'subject_id' = ANY({arg(query.subject_ids)})"
        )
    if query.channel is not None:
        value = arg(query.channel)
        clauses.append(
            f"((payload ? 'input' AND payload -> 'input' -> 'mention' ->> 'channel' = {value})"
            f" OR (payload ? 'channel' AND payload ->> 'channel' = {value}))"
        )
    if query.outcome is not None:
        clauses.append(
            f"payload ? 'decision' AND payload -> 'decision' ->> 'outcome' = {arg(query.outcome)}"
        )
    if query.reason is not None:
        codes = arg([{"code": query.reason}])  # jsonb containment: the GIN index serves it
        clauses.append(f"payload ? 'decision' AND payload -> 'decision' -> 'reasons' @> {codes}")
    if query.policy_revision is not None:
        clauses.append(f"policy_revision = {arg(query.policy_revision)}")
    return clauses


def search_sql(query: AuditQuery, *, before_seq: int | None, limit: int) -> tuple[str, list[Any]]:
    """The statement and arguments ``search_events`` runs (tests EXPLAIN it)."""
    if not 1 <= limit <= MAX_PAGE + 1:  # one more than a page tells whether more follow
        raise ValueError(f"limit must be 1..{MAX_PAGE + 1}")
    args: list[Any] = []
    clauses = _where(query, args)
    if before_seq is not None:
        args.append(before_seq)
        clauses.append(f"seq < ${len(args)}")
    args.append(limit)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"SELECT {AUDIT_COLUMNS} FROM audit_events{where} ORDER BY seq DESC LIMIT ${len(args)}"
    return sql, args


async def search_events(
    conn: Conn, query: AuditQuery, *, before_seq: int | None = None, limit: int = 50
) -> list[AuditEvent]:
    """One page of matching events, newest first: those with ``seq < before_seq``."""
    sql, args = search_sql(query, before_seq=before_seq, limit=limit)
    return [audit_from_row(r) for r in await conn.fetch(sql, *args)]


async def matching_seqs(
    conn: Conn, query: AuditQuery, *, through_seq: int, batch: int = 5000
) -> AsyncIterator[list[tuple[int, str]]]:
    """(seq, hash) of every matching event up to ``through_seq``, oldest first, in batches."""
    after = 0
    while True:
        args: list[Any] = []
        clauses = _where(query, args)
        args += [after, through_seq, batch]
        n = len(args)
        clauses += [f"seq > ${n - 2}", f"seq <= ${n - 1}"]
        rows = await conn.fetch(
            f"SELECT seq, hash FROM audit_events WHERE {' AND '.join(clauses)}"
            f" ORDER BY seq LIMIT ${n}",
            *args,
        )
        if not rows:
            return
        yield [(int(r["seq"]), str(r["hash"])) for r in rows]
        after = int(rows[-1]["seq"])


async def distinct_values(conn: Conn, column: str, *, limit: int = 200) -> list[str]:
    """The distinct kinds or actors of the log (for filter menus): a loose index scan over
    their (column, seq) index, so it costs one index probe per value, not a table scan."""
    if column not in ("kind", "actor"):
        raise ValueError(column)
    rows = await conn.fetch(
        f"WITH RECURSIVE v(x) AS ("
        f" (SELECT {column} FROM audit_events ORDER BY {column} LIMIT 1)"
        f" UNION ALL SELECT (SELECT {column} FROM audit_events WHERE {column} > v.x"
        f"  ORDER BY {column} LIMIT 1) FROM v WHERE v.x IS NOT NULL)"
        " SELECT x FROM v WHERE x IS NOT NULL LIMIT $1",
        limit,
    )
    return [str(r["x"]) for r in rows]
