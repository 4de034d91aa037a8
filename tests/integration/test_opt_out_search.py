"""Opt-outs searched in any spelling of a handle, lifted with a reason, and their history,
over HTTP on the real database (the console's opt-out page calls the same service)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from gateway.audit.subjects import erase_subject
from gateway.http.auth import DEPENDENCIES, authenticated
from gateway.http.compliance_routes import COMPLIANCE_ROUTES
from gateway.http.controllers import ROUTES
from gateway.http.problems import EXCEPTION_HANDLERS
from gateway.pipeline.errors import InvalidInput
from gateway.runtime import Runtime
from gateway.store import audit, users
from tests.integration.sources_support import serving


class Api:
    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base, self.tokens = base, tokens

    async def call(
        self, who: str, method: str, path: str, body: Any = None, **params: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        async with httpx.AsyncClient(base_url=self.base, headers=headers, timeout=10) as client:
            return await client.request(method, path, json=body, params=params or None)


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[Api]:
    tokens: dict[str, str] = {}
    async with runtime.db.pool.acquire() as conn:
        for name, role in (("carol", "compliance"), ("ann", "auditor")):
            tokens[name] = secrets.token_hex(16)
            await users.add_user(conn, name=name, role=role, token=tokens[name])
    app = Litestar(
        route_handlers=[*ROUTES, *COMPLIANCE_ROUTES],
        exception_handlers=EXCEPTION_HANDLERS,
        dependencies=DEPENDENCIES,
        guards=[authenticated],
        debug=False,
    )
    app.state.runtime = runtime
    async with serving(app) as base:
        yield Api(base, tokens)


async def _add(api: Api, handle: str, channel: str = "mastodon") -> dict[str, Any]:
    answer = await api.call(
        "carol", "POST", "/v1/opt-outs", {"channel": channel, "handle": handle, "reason": "asked"}
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _handles(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [o["handle"] for o in answer.json()["items"]]


@pytest.mark.parametrize(
    "typed",
    [
        "@Zoe@Social.Example",
        "\uff20zoe\uff20social.example",  # full-width at signs
        "zoe@social.example.",  # the instance's fully qualified name
        "@zoe@social.example\u200b",  # a zero-width space
    ],
)
async def test_search_finds_a_customer_in_any_spelling(api: Api, typed: str) -> None:
    await _add(api, "zoe@social.example")
    await _add(api, "@yan@social.example")
    found = await api.call("carol", "GET", "/v1/opt-outs", channel="mastodon", handle=typed)
    assert _handles(found) == ["zoe@social.example"]


async def test_search_by_part_of_a_handle_and_on_every_channel(api: Api) -> None:
    await _add(api, "zoe@social.example")
    await _add(api, "zoe-fan", channel="webhook")
    await _add(api, "@yan@social.example")
    assert _handles(await api.call("carol", "GET", "/v1/opt-outs", handle="ZOE")) == [
        "zoe@social.example",
        "zoe-fan",
    ]
    assert _handles(await api.call("carol", "GET", "/v1/opt-outs", handle="100%_")) == []
    every = _handles(await api.call("ann", "GET", "/v1/opt-outs"))  # auditors read
    assert len(every) == 3


async def test_lifting_needs_a_reason_and_keeps_the_history(runtime: Runtime, api: Api) -> None:
    first = await _add(api, "@Zoe@social.example")
    blank = await api.call("carol", "POST", f"/v1/opt-outs/{first['id']}/lift", {"reason": "  "})
    assert blank.status_code == 400, blank.text
    assert "why" in blank.json()["detail"]

    lifted = await api.call(
        "carol", "POST", f"/v1/opt-outs/{first['id']}/lift", {"reason": "customer asked again"}
    )
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["removed_by"] == "carol"
    assert lifted.json()["removed_reason"] == "customer asked again"
    twice = await api.call("carol", "POST", f"/v1/opt-outs/{first['id']}/lift", {"reason": "x"})
    assert twice.status_code == 404, twice.text

    again = await _add(api, "zoe@social.example")  # opted out again later
    history = await api.call("ann", "GET", f"/v1/opt-outs/{again['id']}/history")
    assert history.status_code == 200, history.text
    rows = history.json()
    assert [(r["id"], r["removed_reason"]) for r in rows] == [
        (first["id"], "customer asked again"),
        (again["id"], None),
    ]
    lifted_only = await api.call(
        "carol", "GET", "/v1/opt-outs", handle="zoe@social.example", include_removed="true"
    )
    assert len(lifted_only.json()["items"]) == 2

    async with runtime.db.pool.acquire() as conn:
        events = await audit.list_events(conn, kind="opt_out_removed")
    assert [e.actor for e in events] == ["carol"]
    assert "reason" in events[0].payload  # sealed under the customer's key, like the handle


async def test_history_of_an_unknown_opt_out_is_404(api: Api) -> None:
    answer = await api.call("carol", "GET", "/v1/opt-outs/999/history")
    assert answer.status_code == 404, answer.text


async def test_erasure_blanks_the_reason_an_opt_out_was_lifted(
    runtime: Runtime, api: Api, database_url: str
) -> None:
    first = await _add(api, "@quinn@social.example")
    lifted = await api.call(
        "carol", "POST", f"/v1/opt-outs/{first['id']}/lift", {"reason": "Quinn phoned 0170 55"}
    )
    assert lifted.status_code == 200, lifted.text
    async with runtime.db.pool.acquire() as conn:
        await erase_subject(
            conn,
            channel="mastodon",
            handle="quinn@social.example",
            by="carol",
            keys=runtime.suppression_keys,
        )
    conn = await asyncpg.connect(database_url)
    try:
        rows = [dict(r) for r in await conn.fetch("SELECT * FROM opt_outs")]
    finally:
        await conn.close()
    assert len(rows) == 1 and rows[0]["removed_reason"] == ""
    assert "quinn" not in str(rows).lower() and "0170" not in str(rows)


async def test_the_service_bounds_what_a_console_form_may_send(runtime: Runtime) -> None:
    """The API's body types bound channel and reason; the console's forms reach the
    service directly, so it bounds them too (400, nothing stored)."""
    async with runtime.db.pool.acquire() as conn:
        carol = await users.add_user(conn, name="carol", role="compliance", token="t" * 32)
    with pytest.raises(InvalidInput, match="at most 64"):
        await runtime.consent.add(channel="c" * 65, handle="zoe", reason="", user=carol)
    with pytest.raises(InvalidInput, match="at most 2000"):
        await runtime.consent.add(channel="webhook", handle="zoe", reason="r" * 2001, user=carol)
    assert await runtime.consent.search() == []
