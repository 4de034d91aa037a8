"""Inbound signed webhooks over real HTTP (uvicorn on loopback, the real database): a good
signature ingests; a tampered body, a stale timestamp, a wrong secret or a replay is refused
and stores nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from connectors.webhook import sign
from gateway.domain.records import User
from gateway.net_guard import OutboundClients
from gateway.runtime import Runtime
from gateway.secrets import Secrets
from gateway.settings import Settings
from gateway.sources.inbound import REFUSED
from gateway.sources.scheduler import SourceScheduler
from gateway.sources.service import SourceSpec
from tests.integration.sources_support import (
    KEY,
    PUBLIC,
    fake_dns,
    fast,
    parts,
    rss,
    serving,
    sources_app,
)

SECRET = b"whsec-0123456789abcdef"


class Hook:
    def __init__(self, base: str, runtime: Runtime) -> None:
        self.base = base
        self.runtime = runtime

    async def post(
        self,
        source: str,
        body: bytes,
        *,
        secret: bytes = SECRET,
        timestamp: int | None = None,
        signed_body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        sent = {
            "Content-Type": "application/json",
            "X-Gateway-Timestamp": stamp,
            "X-Gateway-Signature": sign(secret, stamp, signed_body or body),
        }
        if headers is not None:
            sent = {"Content-Type": "application/json", **headers}
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as client:
            return await client.post(f"/v1/webhooks/{source}", content=body, headers=sent)

    async def count(self, sql: str, *args: Any) -> int:
        async with self.runtime.db.pool.acquire() as conn:
            return int(await conn.fetchval(sql, *args))

    async def stored(self) -> tuple[int, int]:
        """(mentions, audit events): both must stay put when a delivery is refused."""
        return (
            await self.count("SELECT count(*) FROM mentions"),
            await self.count("SELECT count(*) FROM audit_events"),
        )


@pytest.fixture
async def hook(runtime: Runtime, settings: Settings) -> AsyncIterator[Hook]:
    environ = {"GATEWAY_SOURCE_SECRET_PARTNER_SECRET": "from-the-environment"}
    source_parts = parts(runtime, fast(settings), resolver=fake_dns({}), environ=environ)
    service = source_parts.service
    await service.add(
        SourceSpec(name="crm", kind="webhook", config={}, secret=SECRET.decode()), actor="test"
    )
    await service.add(
        SourceSpec(
            name="partner",
            kind="webhook",
            channel="partner",
            config={},
            secret="env:GATEWAY_SOURCE_SECRET_PARTNER_SECRET",
        ),
        actor="test",
    )
    await service.add(
        SourceSpec(name="blog", kind="rss", config={"url": "https://blog.example/feed"}),
        actor="test",
    )
    await service.add(
        SourceSpec(
            name="partner-unset",
            kind="webhook",
            channel="partner2",
            config={},
            secret="env:GATEWAY_SOURCE_SECRET_NOT_SET_ANYWHERE",
        ),
        actor="test",
    )
    async with serving(sources_app(runtime, source_parts)) as base:
        yield Hook(base, runtime)


def delivery(*mentions: dict[str, Any]) -> bytes:
    return json.dumps({"mentions": list(mentions)}).encode()


def mention(n: int, *, channel: str = "webhook", url: str | None = None) -> dict[str, Any]:
    return {
        "channel": channel,
        "external_id": f"ticket-{n}",
        "url": url or f"https://forum.example/t/{n}",
        "author": {"handle": "@dana", "display_name": "Dana"},
        "text": "@acme my parcel has been stuck in customs for two weeks",
        "created_at": "2024-05-06T10:00:00Z",
    }


async def test_a_signed_delivery_is_ingested_as_the_webhook(hook: Hook) -> None:
    response = await hook.post("crm", delivery(mention(1), mention(2)))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["duplicates"] == 0 and len(answer["ids"]) == 2
    actors = await hook.count(
        "SELECT count(*) FROM audit_events WHERE kind = 'mentions_ingested' AND actor = $1",
        "webhook:crm",
    )
    assert actors == 1
    async with hook.runtime.db.pool.acquire() as conn:
        health = await conn.fetchrow(
            "SELECT items_last, items_total, last_success_at FROM sources WHERE name = 'crm'"
        )
    assert health is not None
    assert health["items_last"] == 2 and health["items_total"] == 2
    assert health["last_success_at"] is not None

    again = await hook.post("crm", delivery(mention(1)))  # re-signed: a new delivery
    assert again.status_code == 200 and again.json() == {"ids": answer["ids"][:1], "duplicates": 1}


async def test_an_env_referenced_secret_verifies(hook: Hook) -> None:
    response = await hook.post(
        "partner", delivery(mention(7, channel="partner")), secret=b"from-the-environment"
    )
    assert response.status_code == 200, response.text
    wrong = await hook.post("partner", delivery(mention(8, channel="partner")))
    assert wrong.status_code == 401


REFUSALS = ["tampered", "stale", "future", "wrong-secret", "no-headers", "bad-timestamp"]


async def _refused_delivery(hook: Hook, case: str) -> httpx.Response:
    body = delivery(mention(3))
    now = int(time.time())
    if case == "tampered":
        return await hook.post("crm", body.replace(b"customs", b"CUSTOMS"), signed_body=body)
    if case == "stale":
        return await hook.post("crm", body, timestamp=now - 600)
    if case == "future":
        return await hook.post("crm", body, timestamp=now + 600)
    if case == "wrong-secret":
        return await hook.post("crm", body, secret=b"guessed")
    if case == "no-headers":
        return await hook.post("crm", body, headers={})
    stamp = "2024-05-06T10:00:00Z"
    headers = {"X-Gateway-Timestamp": stamp, "X-Gateway-Signature": sign(SECRET, stamp, body)}
    return await hook.post("crm", body, headers=headers)


async def _health(hook: Hook, name: str) -> tuple[Any, ...]:
    async with hook.runtime.db.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT last_error, last_error_at, consecutive_failures, updated_at, version"
            " FROM sources WHERE name = $1",
            name,
        )
    return tuple(row) if row is not None else ()


def assert_uniform_refusal(response: httpx.Response) -> None:
    """One answer for every delivery that fails authentication: no configuration detail."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "X-Gateway-Signature" in response.headers["www-authenticate"]
    assert response.json()["detail"] == REFUSED


async def test_bad_signatures_get_one_uniform_answer_and_change_nothing(hook: Hook) -> None:
    health = await _health(hook, "crm")
    for case in REFUSALS:
        before = await hook.stored()
        response = await _refused_delivery(hook, case)
        assert_uniform_refusal(response)
        assert await hook.stored() == before, case
    # Not even the source's health: unsigned calls cannot mark a source failing.
    assert await _health(hook, "crm") == health
    # The same delivery, signed right, goes through: the refusals were about the signature.
    assert (await hook.post("crm", delivery(mention(3)))).status_code == 200


async def test_a_replayed_delivery_is_refused(hook: Hook) -> None:
    body = delivery(mention(4))
    stamp = str(int(time.time()))
    headers = {"X-Gateway-Timestamp": stamp, "X-Gateway-Signature": sign(SECRET, stamp, body)}
    first = await hook.post("crm", body, headers=headers)
    assert first.status_code == 200
    before = await hook.stored()
    replay = await hook.post("crm", body, headers=headers)
    assert replay.status_code == 409
    assert "already received" in replay.json()["detail"]
    assert await hook.stored() == before


async def test_a_delivery_ingest_refuses_may_be_resent_as_is(hook: Hook) -> None:
    body = delivery(mention(5, channel="mastodon"))
    stamp = str(int(time.time()))
    headers = {"X-Gateway-Timestamp": stamp, "X-Gateway-Signature": sign(SECRET, stamp, body)}
    for _ in range(2):  # refused for its content, not as a replay
        response = await hook.post("crm", body, headers=headers)
        assert response.status_code == 400
        assert "takes mentions on channel 'webhook' only" in response.json()["detail"]
    broken = b'{"mentions": [{"channel": "webhook"}]}'
    response = await hook.post("crm", broken)
    assert response.status_code == 400 and "missing required field" in response.json()["detail"]
    assert await hook.count("SELECT count(*) FROM mentions") == 0


@pytest.mark.parametrize(
    "name", ["nope", "blog", "partner-unset", "UPPER", "x%00y", "%00", "crm%00"]
)
async def test_unknown_unusable_and_non_webhook_sources_answer_the_same(
    hook: Hook, name: str
) -> None:
    before = await hook.stored()
    health = {n: await _health(hook, n) for n in ("crm", "blog", "partner-unset")}
    response = await hook.post(name, delivery(mention(6)))
    assert_uniform_refusal(response)
    for leak in ("nope", "blog", "rss", "not set", "UNSET", "disabled", "secret of"):
        assert leak not in response.text
    assert await hook.stored() == before
    assert {n: await _health(hook, n) for n in health} == health


async def test_the_same_url_from_a_feed_and_a_webhook_is_stored_once(
    hook: Hook, runtime: Runtime, settings: Settings
) -> None:
    url = "https://forum.example/t/99"

    def blog(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=rss([(url, "@acme my parcel is stuck in customs")]))

    clients = OutboundClients(
        transport=httpx.MockTransport(blog), resolver=fake_dns({"blog.example": [PUBLIC]})
    )
    quick = fast(settings)
    scheduler = SourceScheduler(
        runtime.db.pool,
        runtime.ingestor,
        clients.client,
        quick,
        secrets=Secrets(quick, environ={}, key=KEY),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    try:
        for _ in range(100):
            if await hook.count("SELECT count(*) FROM mentions") == 1:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        await clients.aclose()
    from_feed = await hook.count("SELECT id FROM mentions WHERE channel = 'rss'")
    response = await hook.post("crm", delivery(mention(99, url=url)))
    assert response.status_code == 200
    assert response.json() == {"ids": [from_feed], "duplicates": 1}
    assert await hook.count("SELECT count(*) FROM mentions") == 1


async def test_a_webhook_author_marked_as_a_bot_is_not_answered(hook: Hook, agent: User) -> None:
    pushed = mention(40)
    pushed["author"]["bot"] = True  # the sender knows the author is automated
    response = await hook.post("crm", delivery(pushed))
    assert response.status_code == 200, response.text
    [mention_id] = response.json()["ids"]
    proposal = await hook.runtime.decider.propose(
        mention_id=mention_id, text="Sorry, we are on it.", user=agent
    )
    assert proposal.status == "denied"
    assert "author_is_bot" in [r["code"] for r in proposal.reasons]
