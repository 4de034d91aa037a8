"""Configuring sources over HTTP (a real uvicorn server on loopback, the real database):
secrets are encrypted at rest and never answered or audited; bad input gets actionable
problem+json; private addresses are refused unless an admin allows them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.domain.sources import SealedSecret
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.store import cursors, users
from gateway.store import sources as sources_store
from tests.integration.sources_support import (
    KEY,
    PUBLIC,
    fake_dns,
    fast,
    parts,
    serving,
    sources_app,
)

TOKEN = "tok-" + "S3CRET" * 4
DNS = fake_dns(
    {
        "feed.example": [PUBLIC],
        "mastodon.example": [PUBLIC],
        "intra.example": ["10.0.0.5"],
        "localhost": ["127.0.0.1", "::1"],
    }
)


class Api:
    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base = base
        self.tokens = tokens

    def client(self, role: str | None = "admin") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.AsyncClient(base_url=self.base, headers=headers, timeout=10)


@pytest.fixture
async def api(runtime: Runtime, settings: Settings) -> AsyncIterator[Api]:
    tokens: dict[str, str] = {}
    async with runtime.db.pool.acquire() as conn:
        for name, role in (("root", "admin"), ("carol", "compliance"), ("alice", "agent")):
            tokens[role] = secrets.token_hex(16)
            await users.add_user(conn, name=name, role=role, token=tokens[role])
    app = sources_app(runtime, parts(runtime, fast(settings), resolver=DNS, environ={}))
    async with serving(app) as base:
        yield Api(base, tokens)


async def _add(api: Api, **body: Any) -> httpx.Response:
    async with api.client() as client:
        return await client.post("/v1/sources", json=body)


async def test_secrets_are_encrypted_at_rest_and_never_answered_or_audited(
    api: Api, runtime: Runtime, settings: Settings
) -> None:
    feed = await _add(api, name="grumbles", kind="rss", config={"url": "https://feed.example/rss"})
    assert feed.status_code == 201, feed.text
    assert feed.json()["secret"] is None and feed.json()["channel"] == "rss"
    assert feed.json()["health"]["items_total"] == 0

    masto = await _add(
        api,
        name="masto",
        kind="mastodon",
        config={"base_url": "https://mastodon.example", "brand_account_id": "43"},
        secret=TOKEN,
        interval_s=60,
    )
    assert masto.status_code == 201, masto.text
    assert masto.json()["secret"] == "stored"
    assert masto.json()["config"]["publish"] is True
    sky = await _add(
        api,
        name="sky",
        kind="bluesky",
        channel="bluesky-support",
        config={"identifier": "acme.bsky.social"},
        secret="env:GATEWAY_SOURCE_SECRET_BSKY_APP_PASSWORD",
    )
    assert sky.status_code == 201, sky.text
    assert sky.json()["secret"] == "env:GATEWAY_SOURCE_SECRET_BSKY_APP_PASSWORD"

    async with api.client("compliance") as client:
        listed = await client.get("/v1/sources")
        one = await client.get("/v1/sources/masto")
    assert listed.status_code == 200
    assert [s["name"] for s in listed.json()] == ["grumbles", "masto", "sky"]
    for answer in (listed.text, one.text, masto.text):
        assert TOKEN not in answer
    assert one.json()["secret"] == "stored"

    async with runtime.db.pool.acquire() as conn:
        rows = await conn.fetch("SELECT row_to_json(s)::text AS r FROM sources s")
        raw = await conn.fetchrow(
            "SELECT secret_ciphertext, secret_key_id FROM sources WHERE name = 'masto'"
        )
        env_row = await conn.fetchval("SELECT secret_env FROM sources WHERE name = 'sky'")
        payloads = await conn.fetch(
            "SELECT kind, payload FROM audit_events WHERE kind = 'source_added' ORDER BY seq"
        )
    assert raw is not None
    assert all(TOKEN not in r["r"] and "S3CRET" not in r["r"] for r in rows)
    assert TOKEN.encode() not in bytes(raw["secret_ciphertext"])
    assert env_row == "GATEWAY_SOURCE_SECRET_BSKY_APP_PASSWORD"
    # What is stored is the token under the key, and nothing else can read it.
    sealed = SealedSecret(ciphertext=bytes(raw["secret_ciphertext"]), key_id=raw["secret_key_id"])
    opened = parts(runtime, settings, resolver=DNS, environ={}).service.secrets
    assert opened.resolve("masto", sealed) == TOKEN
    assert [p["payload"]["name"] for p in payloads] == ["grumbles", "masto", "sky"]
    assert [p["payload"]["secret"] for p in payloads] == [
        None,
        "stored",
        "env:GATEWAY_SOURCE_SECRET_BSKY_APP_PASSWORD",
    ]
    assert all(TOKEN not in str(p["payload"]) for p in payloads)
    assert KEY  # the test key, never the settings' (no key file written)
    assert not (settings.data_dir / "secrets.key").exists()


BAD: list[tuple[dict[str, Any], int, str]] = [
    ({"name": "f", "kind": "rss", "config": {}}, 400, "missing required field `url`"),
    (
        {"name": "f", "kind": "rss", "config": {"url": "https://feed.example/", "x": 1}},
        400,
        "unknown field `x`",
    ),
    (
        {"name": "f", "kind": "rss", "config": {"url": "http://10.0.0.5/feed"}},
        400,
        "refused: config.url resolves to a private address 10.0.0.5; an admin can set "
        "allow_private",
    ),
    (
        {"name": "f", "kind": "rss", "config": {"url": "http://localhost:8080/feed"}},
        400,
        "loopback address 127.0.0.1",
    ),
    (
        {"name": "f", "kind": "rss", "config": {"url": "http://[::1]/feed"}},
        400,
        "loopback address ::1",
    ),
    (
        {"name": "f", "kind": "rss", "config": {"url": "https://intra.example/feed"}},
        400,
        "private address 10.0.0.5",
    ),
    (
        {"name": "m", "kind": "mastodon", "config": {"base_url": "http://169.254.169.254"}},
        400,
        "needs its token",
    ),
    (
        {
            "name": "m",
            "kind": "mastodon",
            "secret": "x",
            "config": {"base_url": "http://169.254.169.254"},
        },
        400,
        "config.base_url resolves to a link-local address 169.254.169.254",
    ),
    (
        {"name": "w", "kind": "webhook", "secret": "s", "config": {"reply_url": "http://0.0.0.0/"}},
        400,
        "unspecified address",
    ),
    (
        {"name": "f", "kind": "rss", "secret": "x", "config": {"url": "https://feed.example/"}},
        400,
        "takes no secret",
    ),
    ({"name": "Bad Name", "kind": "rss", "config": {}}, 400, "source name 'Bad Name'"),
    ({"name": "f", "kind": "irc", "config": {}}, 400, "kind"),
    (
        {"name": "f", "kind": "rss", "config": {"url": "https://feed.example/"}, "tok": 1},
        400,
        "tok",
    ),
    (
        {
            "name": "m",
            "kind": "mastodon",
            "secret": "env:9X",
            "config": {"base_url": "https://mastodon.example"},
        },
        400,
        "environment variable name",
    ),
    (
        {
            "name": "m",
            "kind": "mastodon",
            "secret": "env:DATABASE_URL",
            "config": {"base_url": "https://mastodon.example"},
        },
        400,
        "an env: secret must name a variable starting with GATEWAY_SOURCE_SECRET_",
    ),
    (
        {"name": "w", "kind": "webhook", "secret": "env:HOME", "config": {}},
        400,
        "secret env:HOME is refused",
    ),
]


async def test_bad_sources_get_actionable_problems(api: Api, runtime: Runtime) -> None:
    for body, status, detail in BAD:
        response = await _add(api, **body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert detail in response.json()["detail"], (body, response.json())
    async with runtime.db.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM sources") == 0


async def test_an_admin_may_allow_a_private_address(api: Api) -> None:
    response = await _add(
        api,
        name="lan-feed",
        kind="rss",
        allow_private=True,
        config={"url": "http://10.0.0.5/feed"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["allow_private"] is True


async def test_names_are_unique_and_a_channel_has_one_publisher(api: Api) -> None:
    body = {"name": "f", "kind": "rss", "config": {"url": "https://feed.example/rss"}}
    assert (await _add(api, **body)).status_code == 201
    again = await _add(api, **body)
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    masto = {"kind": "mastodon", "secret": "t", "config": {"base_url": "https://mastodon.example"}}
    assert (await _add(api, name="m1", **masto)).status_code == 201
    second = await _add(api, name="m2", **masto)
    assert second.status_code == 409
    assert "channel 'mastodon' already has a publisher (source 'm1')" in second.json()["detail"]
    read_only = {**masto, "config": {**masto["config"], "publish": False}}  # type: ignore[dict-item]
    assert (await _add(api, name="m3", **read_only)).status_code == 201


async def test_roles(api: Api) -> None:
    body = {"name": "f", "kind": "rss", "config": {"url": "https://feed.example/rss"}}
    async with api.client("compliance") as client:
        assert (await client.post("/v1/sources", json=body)).status_code == 403
        assert (await client.get("/v1/sources")).status_code == 200
    async with api.client("agent") as client:
        assert (await client.get("/v1/sources")).status_code == 403
    async with api.client(None) as client:
        refused = await client.get("/v1/sources")
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")


async def test_patch_and_delete_are_audited_and_remove_the_cursor(
    api: Api, runtime: Runtime
) -> None:
    body = {"name": "f", "kind": "rss", "config": {"url": "https://feed.example/rss"}}
    assert (await _add(api, **body)).status_code == 201
    async with runtime.db.pool.acquire() as conn:
        await cursors.set_cursor(conn, "f", '{"v": 1}')
    async with api.client() as client:
        changed = await client.patch("/v1/sources/f", json={"enabled": False, "interval_s": 600})
        assert changed.status_code == 200, changed.text
        assert changed.json()["enabled"] is False and changed.json()["interval_s"] == 600
        assert changed.json()["version"] == 2
        empty = await client.patch("/v1/sources/f", json={})
        assert empty.status_code == 400 and "nothing to change" in empty.json()["detail"]
        too_fast = await client.patch("/v1/sources/f", json={"interval_s": 0.001})
        assert too_fast.status_code == 400 and "interval_s must be between" in too_fast.text
        assert (await client.patch("/v1/sources/nope", json={"enabled": True})).status_code == 404
        removed = await client.delete("/v1/sources/f")
        assert removed.status_code == 200 and removed.json()["name"] == "f"
        gone = await client.get("/v1/sources/f")
        assert gone.status_code == 404 and "no source named 'f'" in gone.json()["detail"]
        assert (await client.delete("/v1/sources/f")).status_code == 404
    async with runtime.db.pool.acquire() as conn:
        assert await cursors.get_cursor(conn, "f") is None
        kinds = await conn.fetch(
            "SELECT kind, actor, payload FROM audit_events WHERE subject = 'source:f' ORDER BY seq"
        )
    assert [k["kind"] for k in kinds] == ["source_added", "source_updated", "source_removed"]
    assert {k["actor"] for k in kinds} == {"root"}
    assert kinds[1]["payload"]["changes"] == {"enabled": False, "interval_s": 600}


async def test_a_secret_is_replaced_but_never_answered_or_audited(
    api: Api, runtime: Runtime
) -> None:
    body = {
        "name": "masto",
        "kind": "mastodon",
        "config": {"base_url": "https://mastodon.example", "brand_account_id": "43"},
        "secret": TOKEN,
    }
    assert (await _add(api, **body)).status_code == 201
    new_token = "tok-" + "N3WSECRET" * 3
    async with api.client() as client:
        changed = await client.patch("/v1/sources/masto", json={"secret": new_token})
        assert changed.status_code == 200, changed.text
        assert changed.json()["secret"] == "stored" and changed.json()["version"] == 2
        assert new_token not in changed.text
        blank = await client.patch("/v1/sources/masto", json={"secret": "   "})
        assert blank.status_code == 400, blank.text
        feed = {"name": "f", "kind": "rss", "config": {"url": "https://feed.example/rss"}}
        assert (await _add(api, **feed)).status_code == 201
        none = await client.patch("/v1/sources/f", json={"secret": "x"})
        assert none.status_code == 400 and "takes no secret" in none.json()["detail"]
    async with api.client("compliance") as client:
        refused = await client.patch("/v1/sources/masto", json={"secret": "mine"})
        assert refused.status_code == 403
    async with runtime.db.pool.acquire() as conn:
        sealed = await sources_store.sealed_secret(conn, "masto")
        events = await conn.fetch("SELECT payload::text AS p FROM audit_events")
    assert runtime.secrets is not None
    box = parts(runtime, fast(runtime.settings), resolver=DNS, environ={}).service.secrets
    assert box.resolve("masto", sealed) == new_token
    assert not any(new_token in e["p"] or TOKEN in e["p"] for e in events)
    assert any('"secret": "replaced"' in e["p"] for e in events)
