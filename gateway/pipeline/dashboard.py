"""The dashboard's figures, for everyone, shaped by role.

Every role sees the mentions per day (by intent and by sentiment), decisions by outcome,
the median time from a mention to its released reply, and what waits for review (an agent
also sees how many of their own replies wait). Compliance officers, auditors and admins
also see the top deny and review reasons.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from gateway.domain.records import User
from gateway.domain.windows import Window
from gateway.pipeline.errors import InvalidInput
from gateway.store import activity
from gateway.store.activity import DayCount, ReasonCount, Waiting

MAX_DAYS = 366
REASON_ROLES = ("compliance", "auditor", "admin")


def window(
    since: datetime | None, until: datetime | None, *, days: int = 14, now: datetime | None = None
) -> Window:
    """The window asked for; the last ``days`` days up to now by default."""
    end = until or (now or datetime.now(UTC))
    start = since or end - timedelta(days=days)
    if start >= end:
        raise InvalidInput(f"since ({start.isoformat()}) must be before until ({end.isoformat()})")
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"the time window is at most {MAX_DAYS} days; narrow since or until")
    return Window(since=start, until=end)


class Dashboard(msgspec.Struct, frozen=True, kw_only=True):
    window: Window
    mentions_by_intent: list[DayCount]
    mentions_by_sentiment: list[DayCount]
    decisions_by_outcome: dict[str, int]
    median_release_seconds: float | None
    waiting_for_review: Waiting
    my_waiting_for_review: Waiting | None  # an agent's own replies waiting
    top_reasons: list[ReasonCount] | None  # deny and review; None for roles not shown them


async def dashboard(pool: asyncpg.Pool, user: User, span: Window) -> Dashboard:
    since, until = span.since, span.until
    async with pool.acquire() as conn:
        by_intent, by_sentiment = await activity.mentions_per_day(conn, since=since, until=until)
        return Dashboard(
            window=span,
            mentions_by_intent=by_intent,
            mentions_by_sentiment=by_sentiment,
            decisions_by_outcome=await activity.decisions_by_outcome(
                conn, since=since, until=until
            ),
            median_release_seconds=await activity.median_release_seconds(
                conn, since=since, until=until
            ),
            waiting_for_review=await activity.waiting_for_review(conn),
            my_waiting_for_review=(
                await activity.waiting_for_review(conn, agent=user.name)
                if user.role == "agent"
                else None
            ),
            top_reasons=(
                await activity.top_reasons(conn, since=since, until=until)
                if user.role in REASON_ROLES
                else None
            ),
        )
