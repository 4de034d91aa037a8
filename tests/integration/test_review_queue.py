"""The review queue over HTTP, on the real database and the default policy: each waiting
reply comes with its mention, its thread and the policy's reasons; the count is what waits;
approving and rejecting go through the same Reviewer (never your own reply)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from gateway.domain.records import Proposal, User
from gateway.http.auth import DEPENDENCIES, authenticated
from gateway.http.compliance_routes import COMPLIANCE_ROUTES
from gateway.http.controllers import ROUTES
from gateway.http.problems import EXCEPTION_HANDLERS
from gateway.pipeline.review_queue import ReviewQueue
from gateway.runtime import Runtime
from gateway.store import users
from tests.integration.sources_support import serving
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[tuple[str, dict[str, str]]]:
    tokens: dict[str, str] = {}
    async with runtime.db.pool.acquire() as conn:
        for name, role in (("carol", "compliance"), ("ann", "auditor"), ("alice", "agent")):
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
        yield base, tokens


async def _get(api: tuple[str, dict[str, str]], who: str, path: str) -> httpx.Response:
    base, tokens = api
    headers = {"Authorization": f"Bearer {tokens[who]}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
        return await client.get(path)


async def _held(runtime: Runtime, agent: User, thread: str, *, earlier: bool = False) -> Proposal:
    if earlier:  # an earlier post in the same thread
        await ingest_one(runtime, "@acme I ordered the Aero speaker a month ago", thread_id=thread)
    mention_id = await ingest_one(runtime, COMPLAINT, thread_id=thread)
    held = await runtime.decider.propose(
        mention_id=mention_id, text=GOOD_REPLY, user=agent, ai_generated=True
    )
    assert held.status == "pending_review", held.reasons
    return held


async def test_each_waiting_reply_comes_with_its_mention_thread_and_reasons(
    runtime: Runtime, api: tuple[str, dict[str, str]]
) -> None:
    agent = await users_by_name(runtime, "alice")
    first = await _held(runtime, agent, "t-1", earlier=True)
    second = await _held(runtime, agent, "t-2")

    answer = await _get(api, "carol", "/v1/review-queue")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    assert [i["proposal"]["id"] for i in items] == [first.id, second.id]  # oldest first
    item = items[0]
    assert item["proposal"]["text"] == GOOD_REPLY
    assert [r["code"] for r in item["proposal"]["decision"]["reasons"]] == ["ai_generated"]
    assert item["mention"]["text"] == COMPLAINT
    assert [m["text"] for m in item["thread"]] == [
        "@acme I ordered the Aero speaker a month ago",
        COMPLAINT,
    ]
    assert item["opted_out"] is False
    assert (await _get(api, "carol", "/v1/review-queue/count")).json() == {"waiting": 2}

    # paging: one at a time
    page = (await _get(api, "carol", "/v1/review-queue?limit=1")).json()
    assert [i["proposal"]["id"] for i in page["items"]] == [first.id]
    rest = await _get(api, "carol", f"/v1/review-queue?limit=1&cursor={page['next_cursor']}")
    assert [i["proposal"]["id"] for i in rest.json()["items"]] == [second.id]

    # a rejected reply leaves the queue and the count
    reviewer = await users_by_name(runtime, "carol")
    await runtime.reviewer.reject(first.id, user=reviewer, note="wrong tone")
    assert (await _get(api, "carol", "/v1/review-queue/count")).json() == {"waiting": 1}
    after = (await _get(api, "carol", "/v1/review-queue")).json()["items"]
    assert [i["proposal"]["id"] for i in after] == [second.id]


async def test_an_opt_out_meanwhile_is_shown_on_the_item(
    runtime: Runtime, api: tuple[str, dict[str, str]]
) -> None:
    agent = await users_by_name(runtime, "alice")
    held = await _held(runtime, agent, "t-opt")
    officer = await users_by_name(runtime, "carol")
    await runtime.consent.add(
        channel="demo", handle="@Dana@Social.Example", reason="asked by phone", user=officer
    )
    items = (await _get(api, "carol", "/v1/review-queue")).json()["items"]
    assert [(i["proposal"]["id"], i["opted_out"]) for i in items] == [(held.id, True)]


@pytest.mark.parametrize("who", ["ann", "alice"])
async def test_only_compliance_reads_the_queue(
    runtime: Runtime, api: tuple[str, dict[str, str]], who: str
) -> None:
    for path in ("/v1/review-queue", "/v1/review-queue/count"):
        answer = await _get(api, who, path)
        assert answer.status_code == 403, answer.text


async def users_by_name(runtime: Runtime, name: str) -> User:
    async with runtime.db.pool.acquire() as conn:
        found = await users.user_by_name(conn, name)
    assert found is not None
    return found


async def test_the_queue_tells_new_arrivals_from_those_already_seen(runtime: Runtime) -> None:
    """The console's "N new since this page was loaded": the newest id at load, then the
    count of those after it."""
    agent = await make_user(runtime, "bea", "agent")
    queue = ReviewQueue(runtime.db.pool)
    assert await queue.newest_id() == 0
    first = await _held(runtime, agent, "t-a")
    seen = await queue.newest_id()
    assert seen == first.id
    assert await queue.waiting(after_id=seen) == 0
    await _held(runtime, agent, "t-b")
    await _held(runtime, agent, "t-c")
    assert await queue.waiting(after_id=seen) == 2
    assert await queue.waiting() == 3
