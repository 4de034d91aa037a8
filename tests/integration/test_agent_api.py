"""The agent routes over HTTP: the same token, role checks and problem+json answers as the
rest of the API (401 without a token, 403 for a role that may not, 400 naming the field,
404 for a mention that does not exist)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from gateway.http.agent_routes import AGENT_ROUTES
from gateway.http.auth import DEPENDENCIES, authenticated
from gateway.http.bodies import GatewayRequest
from gateway.http.controllers import ROUTES
from gateway.http.problems import EXCEPTION_HANDLERS
from gateway.runtime import Runtime
from gateway.store import users
from tests.integration.sources_support import serving
from tests.integration.support import COMPLAINT, ingest_one

ROLES = {"agent": "alice", "agent2": "bob", "auditor": "erin", "compliance": "carol"}


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[tuple[str, dict[str, str]]]:
    tokens: dict[str, str] = {}
    async with runtime.db.pool.acquire() as conn:
        for key, name in ROLES.items():
            tokens[key] = secrets.token_hex(16)
            role = key.rstrip("2")
            await users.add_user(conn, name=name, role=role, token=tokens[key])
    app = Litestar(
        route_handlers=[*ROUTES, *AGENT_ROUTES],
        exception_handlers=EXCEPTION_HANDLERS,
        dependencies=DEPENDENCIES,
        guards=[authenticated],
        request_class=GatewayRequest,
        debug=False,
    )
    app.state.runtime = runtime
    async with serving(app) as base:
        yield base, tokens


async def call(
    api: tuple[str, dict[str, str]], role: str | None, method: str, path: str, **kw: Any
) -> httpx.Response:
    base, tokens = api
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
        return await client.request(method, path, **kw)


def problem(r: httpx.Response, status: int, contains: str = "") -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert contains in r.json()["detail"]


async def test_inbox_answers_items_with_marks_and_counts(api: Any, runtime: Runtime) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    r = await call(api, "agent", "GET", "/v1/inbox", params={"claim": "free", "limit": 10})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [i["mention"]["id"] for i in body["items"]] == [mention_id]
    assert body["items"][0]["opted_out"] is False
    assert body["counts"]["claim"] == {"mine": 0, "others": 0, "free": 1}
    assert body["total"] == 1 and body["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 201}, "limit"),
        ({"sentiment_below": "nan"}, "sentiment_below"),
        ({"claim": "everyone"}, "claim"),
        ({"cursor": "x1"}, "cursor"),
    ],
)
async def test_inbox_bad_filters_are_400_naming_the_field(
    api: Any, params: dict[str, Any], field: str
) -> None:
    problem(await call(api, "agent", "GET", "/v1/inbox", params=params), 400, field)


async def test_every_agent_route_needs_a_token_and_the_role(api: Any, runtime: Runtime) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    verdict = f"/v1/mentions/{mention_id}/verdict"
    problem(await call(api, None, "GET", "/v1/inbox"), 401)
    problem(await call(api, None, "POST", verdict, json={"text": "hi"}), 401)
    problem(await call(api, "auditor", "POST", verdict, json={"text": "hi"}), 403)
    problem(await call(api, "compliance", "DELETE", f"/v1/mentions/{mention_id}/claim"), 403)
    assert (await call(api, "auditor", "GET", f"/v1/mentions/{mention_id}/contacts")).is_success


async def test_verdict_names_the_words_and_writes_nothing(api: Any, runtime: Runtime) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    text = "Calm down, we will look at it."
    r = await call(api, "agent", "POST", f"/v1/mentions/{mention_id}/verdict", json={"text": text})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["outcome"] == "deny" and body["claimed_by"] is None
    (reason,) = [x for x in body["reasons"] if x["code"] == "blocked_term"]
    assert reason["spans"] == [{"start": 0, "end": 9, "text": "Calm down"}]
    problem(
        await call(api, "agent", "POST", "/v1/mentions/999999/verdict", json={"text": "x"}),
        404,
        "999999",
    )
    problem(
        await call(api, "agent", "POST", f"/v1/mentions/{mention_id}/verdict", json={"text": ""}),
        400,
    )
    async with runtime.db.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM proposals") == 0


async def test_contacts_and_claim_release(api: Any, runtime: Runtime) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    r = await call(api, "agent", "GET", f"/v1/mentions/{mention_id}/contacts")
    assert r.status_code == 200, r.text
    assert [(w["window"], w["replies"], w["cap"]) for w in r.json()["windows"]] == [
        ("24h", 0, 3),
        ("7d", 0, 6),
        ("30d", 0, 15),
    ]
    claimed = await call(api, "agent", "POST", f"/v1/mentions/{mention_id}/claim")
    assert claimed.json()["claim"]["agent"] == "alice"
    problem(await call(api, "agent2", "DELETE", f"/v1/mentions/{mention_id}/claim"), 409, "alice")
    released = await call(api, "agent", "DELETE", f"/v1/mentions/{mention_id}/claim")
    assert released.status_code == 200 and released.json()["claim"] is None


async def test_a_proposal_resolves_its_dependencies_without_a_task_group(
    api: tuple[str, dict[str, str]], runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Litestar resolves independent dependencies concurrently, one anyio task each, which
    cost about 6 % of the serving process's CPU under proposal load; ``user`` depends on
    ``runtime`` (auth.provide_user) so the two are resolved one after the other."""
    from litestar._kwargs import kwargs_model

    groups: list[object] = []
    real = kwargs_model.create_task_group

    def counting() -> Any:
        groups.append(object())
        return real()

    monkeypatch.setattr(kwargs_model, "create_task_group", counting)
    mention_id = await ingest_one(runtime, COMPLAINT, handle="@deps@social.example")
    created = await call(
        api, "agent", "POST", "/v1/proposals", json={"mention_id": mention_id, "text": "Sorry!"}
    )
    listed = await call(api, "agent", "GET", "/v1/proposals")
    assert created.status_code == 201, created.text
    assert listed.status_code == 200, listed.text
    assert groups == []
