"""The auditors' console: the audit log with its filters, each event, replay, inclusion
proofs, the verification badge, the evidence download and the report charts.

Auditors only read: every page here is a GET except "Verify now", which runs the
verification and records that it ran (it changes nothing that is audited). The pages call
the services the API calls (``gateway.audit.*``), with the API's role rule.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Stream, Template

from gateway.audit.proofs import inclusion
from gateway.audit.replay import REPLAYABLE, replay_event
from gateway.audit.reports import AuditReports, audit_reports
from gateway.audit.verification import last_verification, verify_log
from gateway.domain.identity import InvalidIdentity
from gateway.http.audit_routes import bundle_download
from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.params import PathId
from gateway.pipeline.dashboard import window
from gateway.pipeline.errors import InvalidInput
from gateway.pipeline.log_search import event_detail, filter_choices, search_log
from gateway.store.activity import DayCount
from gateway.store.errors import Conflict, NotFound
from gateway.web.audit_filters import read_filter
from gateway.web.charts import Chart, grouped, per_day
from gateway.web.pages import page, redirect_with_flash
from gateway.web.report_window import read_window

READERS = ("auditor", "compliance")
OUTCOME_ORDER = ("allow", "review", "deny")
PAGE_SIZE = 50


def _decision(payload: Any) -> dict[str, Any]:
    decision = payload.get("decision") if isinstance(payload, dict) else None
    return decision if isinstance(decision, dict) else {}


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


class AuditController(Controller):
    path = "/ui/audit"
    guards = (roles(*READERS),)
    include_in_schema = False

    @get("/")
    async def log(self, request: Request[Any, Any, Any], runtime: Services) -> Template:
        form = read_filter(request)
        errors = list(form.errors)
        before_text = str(request.query_params.get("before") or "")
        before = int(before_text) if before_text.isdigit() and int(before_text) > 0 else None
        if before_text and before is None:
            errors.append(f"before: {before_text[:20]!r} is not an event number")
        found = None
        if not errors:
            try:
                found = await search_log(
                    runtime.db.pool, form.where, before=before, limit=PAGE_SIZE
                )
            except (InvalidInput, InvalidIdentity) as error:
                errors.append(str(error))
        return page(
            request,
            "audit/log.html",
            status_code=400 if errors else 200,
            errors=errors,
            form=form,
            found=found,
            before=before,
            choices=await filter_choices(runtime.db.pool),
            verification=await last_verification(runtime.db.pool),
            decision_of=_decision,
        )

    @post("/verify", status_code=303)
    async def verify(
        self, request: Request[Any, Any, Any], user: CurrentUser, runtime: Services
    ) -> Redirect:
        result = await verify_log(runtime.db.pool, runtime.audit_public_pem, by=user.name)
        form = read_filter(request)  # the log's filter rides along in the form's action
        if result.ok:
            message = (
                f"Verified: {result.events} events, {result.checkpoints_verified} signed "
                f"checkpoint(s) hold; {result.unanchored} recent event(s) not yet anchored."
            )
        else:
            message = "Verification FAILED: " + "; ".join(result.problems)
        return redirect_with_flash(f"/ui/audit{form.query()}", message)

    @get("/evidence")
    async def evidence(self, request: Request[Any, Any, Any], runtime: Services) -> Any:
        form = read_filter(request)
        if form.errors:
            raise InvalidInput("; ".join(form.errors))
        download: Stream = await bundle_download(runtime, form.where)
        return download

    @get("/events/{seq:int}")
    async def event(
        self, request: Request[Any, Any, Any], runtime: Services, seq: PathId
    ) -> Template:
        event = await event_detail(runtime.db.pool, seq)
        payload = event.payload if isinstance(event.payload, dict) else {}
        return page(
            request,
            "audit/event.html",
            event=event,
            decision=_decision(payload),
            input_json=_pretty(payload["input"]) if "input" in payload else None,
            payload_json=_pretty(payload),
            replayable=event.kind in REPLAYABLE and "input" in payload,
        )

    @get("/events/{seq:int}/replay")
    async def replay(
        self, request: Request[Any, Any, Any], runtime: Services, seq: PathId
    ) -> Template:
        """Replaying evaluates; it stores nothing, so it is a GET like every reading."""
        event = await event_detail(runtime.db.pool, seq)
        result, problem = None, None
        try:
            async with runtime.db.pool.acquire() as conn:
                result = await replay_event(conn, seq)
        except (Conflict, NotFound) as error:
            problem = str(error)
        return page(
            request,
            "audit/replay.html",
            status_code=409 if problem else 200,
            event=event,
            result=result,
            problem=problem,
        )

    @get("/events/{seq:int}/proof")
    async def proof(
        self, request: Request[Any, Any, Any], runtime: Services, seq: PathId
    ) -> Template:
        event = await event_detail(runtime.db.pool, seq)
        found, problem = None, None
        try:
            async with runtime.db.pool.acquire() as conn:
                found = await inclusion(conn, seq, size=None)
        except NotFound as error:
            problem = str(error)
        return page(
            request,
            "audit/proof.html",
            event=event,
            proof=found,
            problem=problem,
        )

    @get("/reports")
    async def reports(self, request: Request[Any, Any, Any], runtime: Services) -> Template:
        values, since, until, errors = read_window(request)
        charts: list[Chart] = []
        span = None
        if not errors:
            try:
                span = window(since, until, days=30)
            except InvalidInput as error:
                errors.append(str(error))
        if span is not None:
            found = await audit_reports(runtime.db.pool, span)
            charts = _report_charts(found)
        return page(
            request,
            "audit/reports.html",
            status_code=400 if errors else 200,
            errors=errors,
            values=values,
            span=span,
            charts=charts,
        )


def _report_charts(found: AuditReports) -> list[Chart]:
    outcomes = [
        DayCount(day=g.group, key=k, count=n)
        for g in found.decisions_per_day
        for k, n in g.by_outcome.items()
    ]
    reasons = [
        DayCount(day=g.group, key=k, count=n)
        for g in found.decisions_per_day
        for k, n in g.by_reason.items()
    ]
    reviewers = [r.reviewer for r in found.overrides_by_reviewer]
    return [
        per_day("outcomes", "Decisions by outcome, per day", outcomes, order=OUTCOME_ORDER),
        per_day("reasons", "Decisions by reason, per day", reasons),
        grouped(
            "overrides",
            "Review decisions by reviewer",
            reviewers,
            {
                "approved": [r.approved for r in found.overrides_by_reviewer],
                "rejected": [r.rejected for r in found.overrides_by_reviewer],
            },
            axis="Reviewer",
        ),
        per_day("released", "Replies released per channel, per day", found.released_per_day),
    ]
