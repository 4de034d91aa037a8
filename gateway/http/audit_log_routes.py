"""The audit log as the console reads it: search, verification record, reports, dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from litestar import get, post
from litestar.params import FromQuery, QueryParameter

from gateway.audit.reports import AuditReports, audit_reports
from gateway.audit.verification import last_verification, verify_log
from gateway.http.auth import ANY_ROLE, CurrentUser, Services, roles
from gateway.http.params import MAX_INT64, QueryFilter, instant
from gateway.pipeline.dashboard import Dashboard, dashboard, window
from gateway.pipeline.log_search import LogFilter, LogPage, search_log
from gateway.store.audit_search import MAX_PAGE
from gateway.store.errors import NotFound
from gateway.store.verifications import Verification

READERS = ("auditor", "compliance")
Outcome = Literal["allow", "review", "deny"]


@get(
    "/v1/audit/events",
    summary="The audit log, newest first, by any of its filters (auditor, compliance)",
    guards=[roles(*READERS)],
)
async def search_audit(
    runtime: Services,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
    kind: QueryFilter = None,
    actor: QueryFilter = None,
    customer: QueryFilter = None,
    channel: QueryFilter = None,
    outcome: FromQuery[Outcome | None] = None,
    reason: QueryFilter = None,
    revision: QueryFilter = None,
    before: Annotated[
        int | None, QueryParameter(ge=1, le=MAX_INT64, description="next_before of a page")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
) -> LogPage:
    where = LogFilter(
        since=instant("since", since),
        until=instant("until", until),
        kind=kind,
        actor=actor,
        customer=customer,
        channel=channel,
        outcome=outcome,
        reason=reason,
        revision=revision,
    )
    return await search_log(runtime.db.pool, where, before=before, limit=limit)


@post(
    "/v1/audit/verifications",
    status_code=200,
    summary="Verify the chain and every signed checkpoint now, and record it",
    guards=[roles(*READERS)],
)
async def run_verification(user: CurrentUser, runtime: Services) -> Verification:
    return await verify_log(runtime.db.pool, runtime.audit_public_pem, by=user.name)


@get(
    "/v1/audit/verifications/latest",
    summary="When the log was last verified, and the result",
    guards=[roles(*READERS)],
)
async def latest_verification(runtime: Services) -> Verification:
    found = await last_verification(runtime.db.pool)
    if found is None:
        raise NotFound("the audit log has not been verified yet: POST /v1/audit/verifications")
    return found


@get(
    "/v1/audit/reports/activity",
    summary="Decisions per day by outcome and reason, overrides by reviewer, releases per channel",
    guards=[roles(*READERS)],
)
async def activity_reports(
    runtime: Services,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
) -> AuditReports:
    span = window(instant("since", since), instant("until", until), days=30)
    return await audit_reports(runtime.db.pool, span)


@get(
    "/v1/dashboard",
    summary="The dashboard's figures for the signed-in role (everyone)",
    guards=[roles(*ANY_ROLE)],
)
async def dashboard_figures(
    user: CurrentUser,
    runtime: Services,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
) -> Dashboard:
    span = window(instant("since", since), instant("until", until))
    return await dashboard(runtime.db.pool, user, span)


AUDIT_LOG_ROUTES = [
    search_audit,
    run_verification,
    latest_verification,
    activity_reports,
    dashboard_figures,
]
