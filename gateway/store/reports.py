"""Read-only report queries for auditors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.store.connection import Conn

_GROUPS = {
    "day": "to_char(date_trunc('day', occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
    "agent": "actor",
    "policy_revision": "coalesce(policy_revision, '')",
}


async def decisions_by(
    conn: Conn, *, group_by: str, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    """Counts of decisions per group, outcome and reason code ('' for none)."""
    group = _GROUPS[group_by]
    rows = await conn.fetch(
        f"SELECT {group} AS grp, payload -> 'decision' ->> 'outcome' AS outcome,"
        " coalesce(r ->> 'code', '') AS reason, count(*) AS n"
        " FROM audit_events"
        " LEFT JOIN LATERAL jsonb_array_elements(payload -> 'decision' -> 'reasons') r ON true"
        " WHERE kind = 'proposal_decided'"
        " AND ($1::timestamptz IS NULL OR occurred_at >= $1)"
        " AND ($2::timestamptz IS NULL OR occurred_at < $2)"
        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        since,
        until,
    )
    return [
        {"group": r["grp"], "outcome": r["outcome"], "reason": r["reason"], "count": r["n"]}
        for r in rows
    ]


async def released_to(conn: Conn, *, channel: str, handle: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, mention_id, agent, text, policy_revision, audit_seq, updated_at, receipt,"
        " reviewed_by FROM proposals WHERE channel = $1 AND customer_handle = lower($2)"
        " AND status = 'released' ORDER BY id",
        channel,
        handle.strip(),
    )
    return [dict(r) for r in rows]


async def human_overrides(conn: Conn, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Decisions the policy sent to review that a person then approved or rejected."""
    rows = await conn.fetch(
        "SELECT id, mention_id, agent, outcome AS policy_outcome, status, reviewed_by,"
        " review_note, reasons, policy_revision, audit_seq, updated_at FROM proposals"
        " WHERE outcome = 'review' AND reviewed_by IS NOT NULL ORDER BY id DESC LIMIT $1",
        limit,
    )
    return [dict(r) for r in rows]
