"""The auditors' reports over a time window, as the console charts them.

Decisions by outcome and by reason per day come from the audit log itself (each
``proposal_decided`` event); overrides by reviewer and replies released per channel come
from the proposals' current state.
"""

from __future__ import annotations

import asyncpg
import msgspec

from gateway.domain.windows import Window
from gateway.store import activity, reports
from gateway.store.activity import DayCount, ReviewerCount
from gateway.store.reports import DecisionGroup


class AuditReports(msgspec.Struct, frozen=True, kw_only=True):
    window: Window
    decisions_per_day: list[DecisionGroup]  # by_outcome and by_reason per UTC day
    overrides_by_reviewer: list[ReviewerCount]
    released_per_day: list[DayCount]  # key: the channel


async def audit_reports(pool: asyncpg.Pool, span: Window) -> AuditReports:
    since, until = span.since, span.until
    async with pool.acquire() as conn:
        return AuditReports(
            window=span,
            decisions_per_day=await reports.decisions_by(
                conn, group_by="day", since=since, until=until
            ),
            overrides_by_reviewer=await activity.overrides_by_reviewer(
                conn, since=since, until=until
            ),
            released_per_day=await activity.released_per_day(conn, since=since, until=until),
        )
