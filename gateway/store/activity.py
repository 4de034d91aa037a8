"""Aggregations for the dashboard and the auditors' report charts (read-only).

Every query takes a time window ``[since, until)`` and groups by UTC day where it groups
by time, so a chart's x axis is the same in every panel. Counts come from the tables that
hold the current state (mentions, proposals); the decision report over the audit log
itself is ``gateway.store.reports.decisions_by``.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from gateway.store.connection import Conn

# VADER's own thresholds for a compound score: above 0.05 positive, below -0.05 negative.
_SENTIMENT = (
    "CASE WHEN sentiment_compound > 0.05 THEN 'positive'"
    " WHEN sentiment_compound < -0.05 THEN 'negative' ELSE 'neutral' END"
)
_DAY = "to_char(date_trunc('day', {col} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
# A proposal the policy sent to review that a person then decided on: rejected, or
# approved (and whatever happened after approval: released, failed, withdrawn).
_APPROVED_AFTER_REVIEW = ("approved", "released", "failed", "withdrawn")


class DayCount(msgspec.Struct, frozen=True, kw_only=True):
    day: str  # YYYY-MM-DD (UTC)
    key: str  # what is counted: an intent, a sentiment, a channel, an outcome
    count: int


class ReasonCount(msgspec.Struct, frozen=True, kw_only=True):
    outcome: str
    code: str
    count: int


class ReviewerCount(msgspec.Struct, frozen=True, kw_only=True):
    reviewer: str
    approved: int
    rejected: int


class Waiting(msgspec.Struct, frozen=True, kw_only=True):
    count: int
    oldest: datetime | None


async def mentions_per_day(
    conn: Conn, *, since: datetime, until: datetime
) -> tuple[list[DayCount], list[DayCount]]:
    """Mentions per day by intent, and per day by sentiment (negative, neutral, positive)."""
    day = _DAY.format(col="created_at")
    rows = await conn.fetch(
        f"SELECT {day} AS day, intent, {_SENTIMENT} AS sentiment, count(*) AS n FROM mentions"
        " WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2, 3 ORDER BY 1",
        since,
        until,
    )
    by_intent: dict[tuple[str, str], int] = {}
    by_sentiment: dict[tuple[str, str], int] = {}
    for row in rows:
        key_i, key_s = (row["day"], row["intent"]), (row["day"], row["sentiment"])
        by_intent[key_i] = by_intent.get(key_i, 0) + int(row["n"])
        by_sentiment[key_s] = by_sentiment.get(key_s, 0) + int(row["n"])
    return (
        [DayCount(day=d, key=k, count=n) for (d, k), n in sorted(by_intent.items())],
        [DayCount(day=d, key=k, count=n) for (d, k), n in sorted(by_sentiment.items())],
    )


async def decisions_by_outcome(conn: Conn, *, since: datetime, until: datetime) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT outcome, count(*) AS n FROM proposals"
        " WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1",
        since,
        until,
    )
    return {str(r["outcome"]): int(r["n"]) for r in rows}


async def top_reasons(
    conn: Conn, *, since: datetime, until: datetime, per_outcome: int = 5
) -> list[ReasonCount]:
    """The most frequent reason codes of deny and of review decisions (each its own top)."""
    rows = await conn.fetch(
        "SELECT outcome, code, n FROM ("
        " SELECT outcome, r ->> 'code' AS code, count(*) AS n,"
        "  row_number() OVER (PARTITION BY outcome ORDER BY count(*) DESC, r ->> 'code') AS rank"
        " FROM proposals CROSS JOIN LATERAL jsonb_array_elements(reasons) r"
        " WHERE outcome IN ('deny', 'review') AND created_at >= $1 AND created_at < $2"
        " GROUP BY 1, 2) ranked WHERE rank <= $3 ORDER BY outcome, n DESC, code",
        since,
        until,
        per_outcome,
    )
    return [
        ReasonCount(outcome=r["outcome"], code=r["code"] or "", count=int(r["n"])) for r in rows
    ]


async def median_release_seconds(conn: Conn, *, since: datetime, until: datetime) -> float | None:
    """Median seconds from a mention's post to the release of the reply to it (replies
    released in the window); None when none was."""
    value = await conn.fetchval(
        "SELECT percentile_cont(0.5) WITHIN GROUP"
        " (ORDER BY extract(epoch FROM p.updated_at - m.created_at))"
        " FROM proposals p JOIN mentions m ON m.id = p.mention_id"
        " WHERE p.status = 'released' AND p.updated_at >= $1 AND p.updated_at < $2",
        since,
        until,
    )
    return float(value) if value is not None else None


async def waiting_for_review(conn: Conn, *, agent: str | None = None) -> Waiting:
    """Proposals waiting for a reviewer now (only ``agent``'s own, when given)."""
    row = await conn.fetchrow(
        "SELECT count(*) AS n, min(created_at) AS oldest FROM proposals"
        " WHERE status = 'pending_review' AND ($1::text IS NULL OR agent = $1)",
        agent,
    )
    assert row is not None
    return Waiting(count=int(row["n"]), oldest=row["oldest"])


async def released_per_day(conn: Conn, *, since: datetime, until: datetime) -> list[DayCount]:
    """Replies released per day and channel."""
    day = _DAY.format(col="updated_at")
    rows = await conn.fetch(
        f"SELECT {day} AS day, channel, count(*) AS n FROM proposals"
        " WHERE status = 'released' AND updated_at >= $1 AND updated_at < $2"
        " GROUP BY 1, 2 ORDER BY 1, 2",
        since,
        until,
    )
    return [DayCount(day=r["day"], key=r["channel"], count=int(r["n"])) for r in rows]


async def overrides_by_reviewer(
    conn: Conn, *, since: datetime, until: datetime
) -> list[ReviewerCount]:
    """Per reviewer: review decisions they approved and ones they rejected."""
    rows = await conn.fetch(
        "SELECT reviewed_by,"
        " count(*) FILTER (WHERE status = ANY($3::text[])) AS approved,"
        " count(*) FILTER (WHERE status = 'rejected') AS rejected"
        " FROM proposals WHERE outcome = 'review' AND reviewed_by IS NOT NULL"
        " AND updated_at >= $1 AND updated_at < $2 GROUP BY 1 ORDER BY 1",
        since,
        until,
        list(_APPROVED_AFTER_REVIEW),
    )
    return [
        ReviewerCount(
            reviewer=r["reviewed_by"], approved=int(r["approved"]), rejected=int(r["rejected"])
        )
        for r in rows
    ]
