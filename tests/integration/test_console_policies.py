"""The console's Policies pages over HTTP (no browser): forms refuse bad values field by
field and store nothing, the two-person rule holds for every request, shadow and rollback
work as confirmed requests, and auditors read but cannot change anything."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.runtime import Runtime
from tests.integration.console_support import add_person, console_app, form_csrf, sign_in


@pytest.fixture
async def base(runtime: Runtime) -> AsyncIterator[str]:
    for name, role in (("carol", "compliance"), ("dave", "compliance"), ("erin", "auditor")):
        await add_person(runtime, name, role)
    async with console_app(runtime) as url:
        yield url


@contextlib.asynccontextmanager
async def _as(base: str, name: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        signed = await sign_in(client, name)
        assert signed.status_code == 303, signed.text
        yield client


async def _active(runtime: Runtime) -> str:
    assert runtime.policies is not None
    state = await runtime.policies.state()
    assert state.active_revision
    return state.active_revision


def _form(doc: str) -> dict[str, list[str]]:
    """The tunables form's fields as the browser would send them (values as shown)."""
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', doc):
        fields.setdefault(name, []).append(value)
    for tag in re.findall(r"<input [^>]*>", doc):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or 'type="hidden"' in tag or 'type="checkbox"' in tag:
            continue
        fields.setdefault(name.group(1), []).append(html.unescape(value.group(1)) if value else "")
    for tag in re.findall(r"<input [^>]*checked[^>]*>", doc):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        assert name and value
        fields.setdefault(name.group(1), []).append(value.group(1))
    for name, text in re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', doc, re.S):
        fields[name] = [html.unescape(text)]
    for name, body in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', doc, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        fields[name] = [chosen.group(1) if chosen else ""]
    return fields


async def test_a_refused_form_names_the_field_and_stores_nothing(
    runtime: Runtime, base: str
) -> None:
    active = await _active(runtime)
    async with _as(base, "carol") as carol:
        page = await carol.get(f"/ui/policies/{active}/tunables")
        assert page.status_code == 200
        form = _form(page.text)
        assert form["caps/per_customer_7d"] == ["6"]
        form["caps/per_customer_7d"] = ["-4"]
        form["blocked_terms"] = [form["blocked_terms"][0] + "\nRubbish"]
        refused = await carol.post(f"/ui/policies/{active}/tunables", data=form)
        assert refused.status_code == 422
        assert "-4 is too small: use 0 or more" in refused.text
        assert "write it as &#39;rubbish&#39;" in refused.text
        assert 'value="-4"' in refused.text  # shown as typed
        assert runtime.policies is not None
        assert len(await runtime.policies.versions()) == 1

        unchanged = await carol.post(f"/ui/policies/{active}/tunables", data=_form(page.text))
        assert unchanged.status_code == 422 and "Nothing changed" in unchanged.text

        form = _form(page.text)
        form["caps/per_customer_7d"] = ["7"]
        saved = await carol.post(f"/ui/policies/{active}/tunables", data=form)
        assert saved.status_code == 303
        draft = saved.headers["location"].rsplit("/", 1)[-1]
        version = await runtime.policies.version(draft)
        assert version.data["caps"]["per_customer_7d"] == 7
        assert version.author == "carol" and version.parent == active
        assert {k: v for k, v in version.data.items() if k != "caps"} == {
            k: v for k, v in (await runtime.policies.version(active)).data.items() if k != "caps"
        }


async def test_every_request_needs_a_second_officer_and_auditors_only_read(
    runtime: Runtime, base: str
) -> None:
    assert runtime.policies is not None
    active = await _active(runtime)
    async with _as(base, "carol") as carol, _as(base, "dave") as dave, _as(base, "erin") as erin:
        page = await carol.get(f"/ui/policies/{active}/tunables")
        form = _form(page.text)
        form["caps/per_customer_24h"] = ["2"]
        saved = await carol.post(f"/ui/policies/{active}/tunables", data=form)
        draft = saved.headers["location"].rsplit("/", 1)[-1]

        # Auditors read every page, change nothing.
        assert (await erin.get("/ui/policies")).status_code == 200
        assert (await erin.get(f"/ui/policies/{draft}/tests")).status_code == 200
        erin_csrf = form_csrf((await erin.get("/ui/policies")).text)
        refused = await erin.post(
            f"/ui/policies/{draft}/request-activation", data={"_csrf": erin_csrf}
        )
        assert refused.status_code == 403
        assert (await erin.get(f"/ui/policies/{active}/tunables")).status_code == 403

        # A shadow run: carol proposes, carol cannot confirm, dave does; then stop it.
        csrf = form_csrf((await carol.get("/ui/policies")).text)
        proposed = await carol.post(f"/ui/policies/{draft}/shadow", data={"_csrf": csrf})
        assert proposed.status_code == 303
        [request] = await runtime.policies.requests()
        own = await carol.post(f"/ui/policies/requests/{request.id}/confirm", data={"_csrf": csrf})
        assert own.status_code == 403 and "two-person rule" in own.text
        dave_csrf = form_csrf((await dave.get("/ui/policies")).text)
        confirmed = await dave.post(
            f"/ui/policies/requests/{request.id}/confirm", data={"_csrf": dave_csrf}
        )
        assert confirmed.status_code == 303
        assert (await runtime.policies.state()).shadow_revision == draft
        report = await erin.get(f"/ui/policies/{draft}/shadow-report")
        assert report.status_code == 200 and "live decisions compared" in report.text
        stopped = await carol.post("/ui/policies/shadow/stop", data={"_csrf": csrf})
        assert stopped.status_code == 303
        assert (await runtime.policies.state()).shadow_revision is None

        # Activation by request; then a rollback is a confirmed request too.
        asked = await carol.post(f"/ui/policies/{draft}/request-activation", data={"_csrf": csrf})
        assert asked.status_code == 303
        [request] = await runtime.policies.requests()
        await dave.post(f"/ui/policies/requests/{request.id}/confirm", data={"_csrf": dave_csrf})
        assert (await runtime.policies.state()).active_revision == draft
        back = await dave.post(f"/ui/policies/{active}/rollback", data={"_csrf": dave_csrf})
        assert back.status_code == 303
        [request] = await runtime.policies.requests()
        assert (request.action, request.proposed_by) == ("rollback", "dave")
        await carol.post(f"/ui/policies/requests/{request.id}/confirm", data={"_csrf": csrf})
        assert (await runtime.policies.state()).active_revision == active

        overview = (await erin.get("/ui/policies")).text
        for kind in ("activated", "rolled back", "shadow started", "shadow stopped", "drafted"):
            assert kind in overview
