"""The Policies section for compliance officers (auditors may read): ``/ui/policies``.

The active revision and its history, one revision's page (tests with coverage per line,
the diff against the active revision, impact as a table and a chart with examples),
activation requested by one officer and confirmed by another, rollback as a confirmed
activation, shadow start/stop and its report. Editing (tunables forms, the Rego editor)
is in ``policies_edit.py``. Every action calls ``PolicyService``, the service the API
and the CLI use, so the two-person rule and every check apply unchanged; revisions
nobody approved yet run in its sandbox, never in this process.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.params import PathId, PathRevision
from gateway.pipeline.policies import PolicyService
from gateway.web.pages import page, redirect_with_flash
from gateway.web.policy_pages import (
    coverage_lines,
    diff_lines,
    impact_chart,
    revision_rows,
    service_of,
    short,
    test_summary,
)

READERS = ("compliance", "auditor")
BASE = "/ui/policies"
MAX_IMPACT = 100_000


def _url(revision: str, suffix: str = "") -> str:
    return f"{BASE}/{revision}{suffix}"


class PoliciesController(Controller):
    path = BASE
    guards = (roles(*READERS),)
    include_in_schema = False

    @get("/")
    async def overview(self, request: Request[Any, Any, Any], runtime: Services) -> Template:
        service = service_of(runtime)
        state = await service.state()
        versions = await service.versions()
        history = await service.history(limit=50)
        return page(
            request,
            "policies/index.html",
            state=state,
            versions=revision_rows(versions, state, history),
            pending=await service.requests(),
            history=history,
        )

    @get("/{revision:str}")
    async def revision(
        self, request: Request[Any, Any, Any], runtime: Services, revision: PathRevision
    ) -> Template:
        service = service_of(runtime)
        version = await service.version(revision)
        state = await service.state()
        [row] = revision_rows([version], state, await service.history(limit=200))
        pending = [r for r in await service.requests() if r.revision == revision]
        return page(
            request,
            "policies/revision.html",
            v=version,
            row=row,
            state=state,
            pending=pending,
            tests=test_summary(version.tests),
        )

    @get("/{revision:str}/tests")
    async def tests(
        self, request: Request[Any, Any, Any], runtime: Services, revision: PathRevision
    ) -> Template:
        version = await service_of(runtime).version(revision)
        return page(request, "policies/tests.html", v=version, tests=test_summary(version.tests))

    @post("/{revision:str}/tests", guards=[roles("compliance")])
    async def run_tests(
        self, runtime: Services, user: CurrentUser, revision: PathRevision
    ) -> Redirect:
        _version, report = await service_of(runtime).test(revision, user=user)
        verdict = "all pass" if report.ok else f"{report.failed} failed"
        return redirect_with_flash(
            _url(revision, "/tests"), f"Ran {report.passed + report.failed} tests: {verdict}."
        )

    @get("/{revision:str}/coverage")
    async def coverage(
        self,
        request: Request[Any, Any, Any],
        runtime: Services,
        revision: PathRevision,
        file: Annotated[str, Parameter(min_length=1, max_length=500)],
    ) -> Template:
        version = await service_of(runtime).version(revision)
        lines = coverage_lines(version, file)
        return page(request, "policies/coverage.html", v=version, file=file, lines=lines)

    @get("/{revision:str}/diff")
    async def diff(
        self,
        request: Request[Any, Any, Any],
        runtime: Services,
        revision: PathRevision,
        against: Annotated[str | None, Parameter(max_length=200)] = None,
    ) -> Template:
        service = service_of(runtime)
        base = against or (await service.state()).active_revision or revision
        files = await service.diff(base, revision)
        return page(
            request,
            "policies/diff.html",
            revision=revision,
            base=base,
            files=[(f, diff_lines(f.diff)) for f in files],
        )

    @get("/{revision:str}/impact")
    async def impact_form(
        self, request: Request[Any, Any, Any], runtime: Services, revision: PathRevision
    ) -> Template:
        version = await service_of(runtime).version(revision)
        return page(request, "policies/impact.html", v=version, report=None, last=200)

    @post("/{revision:str}/impact", guards=[roles("compliance")], status_code=200)
    async def impact(
        self, request: Request[Any, Any, Any], runtime: Services, revision: PathRevision
    ) -> Template:
        form = await request.form()
        service = service_of(runtime)
        version = await service.version(revision)
        raw = str(form.get("last") or "").strip()
        last = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 0
        if not 1 <= last <= MAX_IMPACT:
            return page(
                request,
                "policies/impact.html",
                status_code=422,
                v=version,
                report=None,
                last=raw[:20],
                errors=[f"How many decisions: enter a whole number from 1 to {MAX_IMPACT}."],
            )
        report = await service.impact(revision, limit=last)
        return page(
            request,
            "policies/impact.html",
            v=version,
            report=report,
            last=last,
            chart=impact_chart(report),
        )

    @get("/{revision:str}/impact/{proposal_id:int}")
    async def impact_example(
        self,
        request: Request[Any, Any, Any],
        runtime: Services,
        revision: PathRevision,
        proposal_id: PathId,
    ) -> Template:
        example = await service_of(runtime).impact_example(revision, proposal_id)
        return page(request, "policies/example.html", revision=revision, ex=example)

    @post("/{revision:str}/request-activation", guards=[roles("compliance")])
    async def request_activation(
        self, runtime: Services, user: CurrentUser, revision: PathRevision
    ) -> Redirect:
        asked = await service_of(runtime).request_activation(revision, user=user)
        return redirect_with_flash(
            _url(revision),
            f"Activation requested (request {asked.id}). Another compliance officer must "
            "confirm it on the Policies page.",
        )

    @post("/{revision:str}/rollback", guards=[roles("compliance")])
    async def rollback(
        self, runtime: Services, user: CurrentUser, revision: PathRevision
    ) -> Redirect:
        asked = await service_of(runtime).rollback(user=user, to=revision)
        return redirect_with_flash(
            BASE,
            f"Rollback to {short(revision)} proposed (request {asked.id}); another compliance "
            "officer must confirm it.",
        )

    @post("/{revision:str}/shadow", guards=[roles("compliance")])
    async def shadow(
        self, runtime: Services, user: CurrentUser, revision: PathRevision
    ) -> Redirect:
        asked = await service_of(runtime).propose_shadow(revision, user=user)
        return redirect_with_flash(
            _url(revision),
            f"Shadow run proposed (request {asked.id}); it starts when another compliance "
            "officer confirms it.",
        )

    @get("/{revision:str}/shadow-report")
    async def shadow_report(
        self, request: Request[Any, Any, Any], runtime: Services, revision: PathRevision
    ) -> Template:
        service = service_of(runtime)
        report = await service.shadow_report(revision)
        state = await service.state()
        return page(request, "policies/shadow.html", revision=revision, report=report, state=state)

    @post("/shadow/stop", guards=[roles("compliance")])
    async def stop_shadow(self, runtime: Services, user: CurrentUser) -> Redirect:
        await service_of(runtime).stop_shadow(user=user)
        return redirect_with_flash(BASE, "Shadow evaluation stopped.")

    @post("/requests/{request_id:int}/confirm", guards=[roles("compliance")])
    async def confirm(self, runtime: Services, user: CurrentUser, request_id: PathId) -> Redirect:
        service: PolicyService = service_of(runtime)
        state = await service.confirm(request_id, user=user)
        return redirect_with_flash(
            BASE,
            f"Request {request_id} confirmed. Active policy: {short(state.active_revision)}.",
        )

    @post("/requests/{request_id:int}/withdraw", guards=[roles("compliance")])
    async def withdraw(self, runtime: Services, user: CurrentUser, request_id: PathId) -> Redirect:
        await service_of(runtime).withdraw(request_id, user=user)
        return redirect_with_flash(BASE, f"Request {request_id} withdrawn.")
