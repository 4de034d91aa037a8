"""Read-only report queries for auditors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from gateway.store.connection import Conn

_GROUPS = {
    "day": "to_char(date_trunc('day', occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
    "agent": "actor",
    "policy_revision": "coalesce(policy_revision, '')",
}


class DecisionGroup(msgspec.Struct, frozen=True, kw_only=True):
    """One group of the decisions report.

    ``decisions`` counts decisions; ``by_outcome`` splits them by outcome (it sums to
    ``decisions``); ``by_reason`` counts, for each reason code, the decisions that gave it:
    a decision with two reasons counts once under each, so it does not sum to anything.
    """

    group: str
    decisions: int
    by_outcome: dict[str, int]
    by_reason: dict[str, int]


async def decisions_by(
    conn: Conn, *, group_by: str, since: datetime | None, until: datetime | None
) -> list[DecisionGroup]:
    """Decisions per group: a total, a total per outcome, and per reason code, apart."""
    group = _GROUPS[group_by]
    where = (
        " WHERE kind = 'proposal_decided'"
        " AND ($1::timestamptz IS NULL OR occurred_at >= $1)"
        " AND ($2::timestamptz IS NULL OR occurred_at < $2)"
    )
    outcomes = await conn.fetch(
        f"SELECT {group} AS grp, payload -> 'decision' ->> 'outcome' AS outcome, count(*) AS n"
        f" FROM audit_events{where} GROUP BY 1, 2 ORDER BY 1, 2",
        since,
        until,
    )
    reasons = await conn.fetch(
        f"SELECT {group} AS grp, r ->> 'code' AS reason, count(DISTINCT seq) AS n"
        " FROM audit_events"
        " CROSS JOIN LATERAL jsonb_array_elements(payload -> 'decision' -> 'reasons') r"
        f"{where} GROUP BY 1, 2 ORDER BY 1, 2",
        since,
        until,
    )
    by_outcome: dict[str, dict[str, int]] = {}
    for row in outcomes:
        by_outcome.setdefault(row["grp"], {})[row["outcome"] or ""] = int(row["n"])
    by_reason: dict[str, dict[str, int]] = {}
    for row in reasons:
        by_reason.setdefault(row["grp"], {})[row["reason"] or ""] = int(row["n"])
    return [
        DecisionGroup(
            group=name,
            decisions=sum(counts.values()),
            by_outcome=counts,
            by_reason=by_reason.get(name, {}),
        )
        for name, counts in by_outcome.items()
    ]


async def released_to(conn: Conn, *, channel: str, handle: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, mention_id, agent, text, policy_revision, audit_seq, updated_at, receipt,"
        " reviewed_by FROM proposals WHERE channel = $1 AND customer_handle = $2"
        " AND status = 'released' ORDER BY id",
        channel,
        handle,  # the canonical identity
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
