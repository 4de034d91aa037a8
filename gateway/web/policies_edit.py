"""Editing a policy in the console: tunables as forms, rules in a Rego editor.

Both save a new draft revision through ``PolicyService.draft`` (what ``POST
/v1/policies`` and ``policy draft`` call): the draft is compiled and its tests run in the
sandbox; a compile error comes back with its file and line and is shown there. The
tunables form is generated from the data's JSON Schema (``gateway.domain.policy_data``)
by ``gateway.domain.policy_form``; a refused form is shown again as typed, with one
message per field.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from gateway.domain.policy_data import DATA_SCHEMA
from gateway.domain.policy_form import build_form, read_form
from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.params import PathRevision
from gateway.pipeline.errors import InvalidInput
from gateway.policy.bundle import is_test_file
from gateway.policy.errors import PolicyLoadError
from gateway.policy.patterns import invalid_patterns
from gateway.web.pages import page, redirect_with_flash
from gateway.web.policy_pages import numbered, service_of, short

BASE = "/ui/policies"
MAX_DESCRIPTION = 2000
FileParam = Annotated[str | None, Parameter(max_length=500)]


def _form_of(raw: Any) -> dict[str, list[str]]:
    return {key: [str(v) for v in raw.getall(key)] for key in raw}


def _description(form: dict[str, list[str]], default: str) -> str:
    text = (form.get("description") or [""])[-1].strip() or default
    if len(text) > MAX_DESCRIPTION or "\x00" in text:
        raise InvalidInput(f"the description must be at most {MAX_DESCRIPTION} characters")
    return text


class PolicyEditController(Controller):
    path = BASE
    guards = (roles("compliance"),)
    include_in_schema = False

    @get("/{revision:str}/tunables")
    async def tunables(
        self, request: Request[Any, Any, Any], runtime: Services, revision: PathRevision
    ) -> Template:
        version = await service_of(runtime).version(revision)
        fields = build_form(DATA_SCHEMA, version.data)
        return page(request, "policies/tunables.html", v=version, fields=fields, description="")

    @post("/{revision:str}/tunables")
    async def save_tunables(
        self,
        request: Request[Any, Any, Any],
        runtime: Services,
        user: CurrentUser,
        revision: PathRevision,
    ) -> Template | Redirect:
        service = service_of(runtime)
        version = await service.version(revision)
        form = _form_of(await request.form())
        result = await asyncio.to_thread(
            read_form, DATA_SCHEMA, version.data, form, check_patterns=invalid_patterns
        )
        description = (form.get("description") or [""])[-1]
        if not result.ok or not result.changed:
            errors = (
                [f"{len(result.errors)} field(s) need a change before this can be saved."]
                if result.errors
                else ["Nothing changed: edit a value before saving a new draft."]
            )
            fields = build_form(DATA_SCHEMA, version.data, submitted=form, errors=result.errors)
            return page(
                request,
                "policies/tunables.html",
                status_code=422,
                v=version,
                fields=fields,
                description=description,
                errors=errors,
            )
        default = "Tunables: " + ", ".join(result.changed)[:200]
        draft, created = await service.draft(
            files=dict(version.files),
            data=result.data,
            description=_description(form, default),
            user=user,
            parent=revision,
        )
        verdict = "its tests pass" if draft.tests_passed else "its tests FAIL"
        message = (
            f"Saved draft {short(draft.revision)}; {verdict}."
            if created
            else f"That is revision {short(draft.revision)}, which already exists."
        )
        return redirect_with_flash(f"{BASE}/{draft.revision}", message)

    @get("/{revision:str}/rules")
    async def rules(
        self,
        request: Request[Any, Any, Any],
        runtime: Services,
        revision: PathRevision,
        file: FileParam = None,
    ) -> Template:
        version = await service_of(runtime).version(revision)
        names = sorted(version.files)
        chosen = file if file in version.files else _first_policy_file(names)
        return page(
            request,
            "policies/rules.html",
            v=version,
            names=names,
            file=chosen,
            source=version.files.get(chosen, ""),
            problem=None,
            excerpt=[],
            description="",
        )

    @post("/{revision:str}/rules")
    async def save_rules(
        self,
        request: Request[Any, Any, Any],
        runtime: Services,
        user: CurrentUser,
        revision: PathRevision,
    ) -> Template | Redirect:
        service = service_of(runtime)
        version = await service.version(revision)
        form = _form_of(await request.form())
        file = (form.get("file") or [""])[-1]
        source = (form.get("source") or [""])[-1].replace("\r\n", "\n")
        description = (form.get("description") or [""])[-1]
        if file not in version.files:
            raise InvalidInput(f"{file!r} is not a file of {short(revision)}; reload the page")
        if source == version.files[file]:
            return self._editor(
                request, version, file, source, description, "Nothing changed in " + file
            )
        files = {**version.files, file: source}
        try:
            draft, created = await service.draft(
                files=files,
                data=version.data,
                description=_description(form, f"Rules: {file}"),
                user=user,
                parent=revision,
            )
        except PolicyLoadError as exc:
            return self._editor(request, version, file, source, description, exc)
        verdict = "its tests pass" if draft.tests_passed else "its tests FAIL"
        message = (
            f"Saved draft {short(draft.revision)}; {verdict}."
            if created
            else f"That is revision {short(draft.revision)}, which already exists."
        )
        return redirect_with_flash(f"{BASE}/{draft.revision}", message)

    def _editor(
        self,
        request: Request[Any, Any, Any],
        version: Any,
        file: str,
        source: str,
        description: str,
        problem: PolicyLoadError | str,
    ) -> Template:
        load = problem if isinstance(problem, PolicyLoadError) else None
        here = load is not None and load.file == file and load.line is not None
        excerpt_of = source if here else version.files.get(load.file or "", "") if load else ""
        excerpt = numbered(excerpt_of, load.line) if load and load.line else []
        return page(
            request,
            "policies/rules.html",
            status_code=422,
            v=version,
            names=sorted(version.files),
            file=file,
            source=source,
            problem=load,
            message=str(problem) if load is None else None,
            error_here=here,
            excerpt=excerpt,
            description=description,
        )


def _first_policy_file(names: list[str]) -> str:
    for name in names:
        if not is_test_file(name):
            return name
    return names[0] if names else ""
