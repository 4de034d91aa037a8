"""One canonical customer identity per channel, over HTTP against the real database and the
default Rego policy: an opt-out in any spelling holds for every other spelling, a Bluesky
handle resolves to its DID, and what cannot be an identity is a 400 naming the field."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from connectors.contract import RawAuthor, RawMention
from gateway.http.audit_routes import AUDIT_ROUTES
from gateway.http.auth import DEPENDENCIES
from gateway.http.controllers import ROUTES
from gateway.http.problems import EXCEPTION_HANDLERS
from gateway.runtime import Runtime
from gateway.store import users
from tests.integration.sources_support import serving

COMPLAINT = "@acme my order #4411 still hasn't arrived after three weeks, this is terrible"
REPLY = "Sorry about the wait. We have escalated order 4411 with the courier today."
ZOE = [
    "zoe@social.example",
    "@zoe@social.example",
    "\uff20zoe\uff20social.example",  # full-width at signs
    "@zoe@social.example\u200b",  # trailing zero-width space
    "@Zoe@Social.Example",
    "\ufeffzo\u00ade@social.example",  # BOM, soft hyphen
]
OO2 = ["OO2\uff20social.example", "oo2@social.example", "@oo2@social.example\u200b"]
BOB_DID = "did:plc:bobbobbobbobbobbobbobbob"


class Api:
    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base = base
        self.tokens = tokens

    def client(self, role: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.AsyncClient(base_url=self.base, headers=headers, timeout=10)

    async def post(self, role: str, path: str, body: dict[str, Any]) -> httpx.Response:
        async with self.client(role) as client:
            return await client.post(path, json=body)


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[Api]:
    tokens: dict[str, str] = {}
    async with runtime.db.pool.acquire() as conn:
        for name, role in (
            ("carol", "compliance"),
            ("alice", "agent"),
            ("ann", "auditor"),
            ("root", "admin"),
        ):
            tokens[role] = secrets.token_hex(16)
            await users.add_user(conn, name=name, role=role, token=tokens[role])
    app = Litestar(
        route_handlers=[*ROUTES, *AUDIT_ROUTES],
        exception_handlers=EXCEPTION_HANDLERS,
        dependencies=DEPENDENCIES,
        debug=False,
    )
    app.state.runtime = runtime
    async with serving(app) as base:
        yield Api(base, tokens)


_n = iter(range(1, 1_000_000))


def mention(handle: str, *, channel: str = "mastodon") -> dict[str, Any]:
    n = next(_n)
    return {
        "channel": channel,
        "external_id": f"id-{n}",
        "url": f"https://social.example/@x/{n}",
        "author": {"handle": handle, "display_name": "Someone"},
        "text": COMPLAINT,
        "created_at": "2026-01-05T10:00:00Z",
        "addressed": True,
    }


async def ingest(api: Api, *mentions: dict[str, Any]) -> list[int]:
    response = await api.post("admin", "/v1/mentions", {"mentions": list(mentions)})
    assert response.status_code == 200, response.text
    ids: list[int] = response.json()["ids"]
    return ids


async def opt_out(api: Api, handle: str, *, channel: str = "mastodon") -> httpx.Response:
    return await api.post(
        "compliance", "/v1/opt-outs", {"channel": channel, "handle": handle, "reason": "asked"}
    )


async def decision_codes(api: Api, mention_id: int) -> tuple[str, list[str]]:
    response = await api.post("agent", "/v1/proposals", {"mention_id": mention_id, "text": REPLY})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["decision"]["outcome"], [r["code"] for r in body["decision"]["reasons"]]


@pytest.mark.parametrize("registered", [ZOE[0], ZOE[1], ZOE[2], ZOE[3]])
async def test_an_opt_out_in_one_spelling_blocks_every_other_spelling(
    api: Api, registered: str
) -> None:
    answer = await opt_out(api, registered)
    assert answer.status_code == 201, answer.text
    assert answer.json()["handle"] == "zoe@social.example"  # answered canonical
    again = await opt_out(api, ZOE[4])  # another spelling: the same opt-out
    assert again.json()["id"] == answer.json()["id"]
    ids = await ingest(
        api, *(mention(spelling) for spelling in ZOE), mention("@yan@social.example")
    )
    *zoes, control = ids
    for mention_id, spelling in zip(zoes, ZOE, strict=True):
        outcome, codes = await decision_codes(api, mention_id)
        assert (outcome, "opted_out" in codes) == ("deny", True), (spelling, codes)
    outcome, codes = await decision_codes(api, control)
    assert "opted_out" not in codes and outcome == "allow", codes


async def test_a_full_width_opt_out_blocks_the_ascii_spellings(api: Api) -> None:
    assert (await opt_out(api, OO2[0])).json()["handle"] == "oo2@social.example"
    for mention_id in await ingest(api, *(mention(s) for s in OO2)):
        assert "opted_out" in (await decision_codes(api, mention_id))[1]


async def test_mentions_answer_with_the_canonical_identity(api: Api) -> None:
    [mention_id] = await ingest(api, mention("\uff20Zoe\uff20social.example\u200b"))
    async with api.client("agent") as client:
        shown = (await client.get(f"/v1/mentions/{mention_id}")).json()
    assert shown["author"]["customer"] == "zoe@social.example"
    assert shown["author"]["handle"] == "@Zoe@social.example"  # display form, cleaned


async def test_a_bluesky_handle_resolves_to_the_did(api: Api, runtime: Runtime) -> None:
    bob = RawMention(
        channel="bluesky",
        external_id=f"at://{BOB_DID}/app.bsky.feed.post/3kabc",
        url=None,
        author=RawAuthor(handle="@bob.bsky.social", display_name="Bob"),
        text=COMPLAINT,
        created_at="2026-01-05T10:00:00Z",
        addressed=True,
        channel_data={"did": BOB_DID, "uri": f"at://{BOB_DID}/app.bsky.feed.post/3kabc"},
    )
    [mention_id] = (await runtime.ingestor.ingest([bob], actor="test")).ids
    answer = await opt_out(api, "bob.bsky.social", channel="bluesky")
    assert answer.status_code == 201, answer.text
    assert answer.json()["handle"] == BOB_DID
    assert (await opt_out(api, "@Bob.bsky.social", channel="bluesky")).json()["handle"] == BOB_DID
    assert "opted_out" in (await decision_codes(api, mention_id))[1]
    # A new mention by the same DID under a changed handle is the same customer.
    moved = RawMention(
        channel="bluesky",
        external_id=f"at://{BOB_DID}/app.bsky.feed.post/3kdef",
        url=None,
        author=RawAuthor(handle="@robert.example.com"),
        text=COMPLAINT,
        created_at="2026-01-06T10:00:00Z",
        addressed=True,
        channel_data={"did": BOB_DID},
    )
    [moved_id] = (await runtime.ingestor.ingest([moved], actor="test")).ids
    assert "opted_out" in (await decision_codes(api, moved_id))[1]
    unknown = await opt_out(api, "nobody.bsky.social", channel="bluesky")
    assert unknown.status_code == 400 and "DID" in unknown.json()["detail"]


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "   ",
        "@",
        "\u200b",
        "zoe smith@social.example",
        "zoe\x00@social.example",
        "zoe\x1b@social.example",
        "a@b@c",
        "z" * 400 + "@social.example",
    ],
)
async def test_what_cannot_be_an_identity_is_a_400_naming_the_field(api: Api, handle: str) -> None:
    for response in (
        await opt_out(api, handle),
        await api.post("admin", "/v1/mentions", {"mentions": [mention(handle)]}),
        await api.post(
            "compliance", "/v1/subjects/erase", {"channel": "mastodon", "handle": handle}
        ),
    ):
        assert response.status_code == 400, (handle, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "handle" in response.json()["detail"]


async def test_the_export_filter_takes_any_spelling(api: Api) -> None:
    [mention_id] = await ingest(api, mention("@zoe@social.example"))
    await decision_codes(api, mention_id)
    counts = []
    for spelling in ("zoe@social.example", "\uff20ZOE\uff20social.example\u200b"):
        async with api.client("auditor") as client:
            response = await client.get("/v1/audit/export", params={"customer": spelling})
        assert response.status_code == 200
        counts.append(len(response.text.splitlines()))
    assert counts[0] == counts[1] and counts[0] >= 1
    async with api.client("auditor") as client:
        bad = await client.get("/v1/audit/export", params={"customer": "a\x00b"})
    assert bad.status_code == 400 and "customer" in bad.json()["detail"]
