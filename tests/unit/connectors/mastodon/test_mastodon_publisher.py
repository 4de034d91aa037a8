"""The Mastodon publisher: what it posts, how visibility narrows, and idempotent retries."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.contract import (
    ChannelLimits,
    OutgoingReply,
    PermanentError,
    Publisher,
    Receipt,
    TransientError,
)
from connectors.mastodon import (
    VISIBILITIES,
    MastodonPublisher,
    instance_limits,
    reply_visibility,
    with_mention,
)

DATA = Path(__file__).resolve().parents[3] / "data" / "mastodon"
BASE = "http://localhost:3000"
TOKEN = "brand-write-token"
NOW = datetime(2026, 8, 1, 13, 51, 0, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def _posted() -> dict[str, Any]:
    found: dict[str, Any] = _load("status_posted.json")["body"]
    return found


def _reply(
    *,
    key: str = "release-17-a",
    text: str = "Sorry about that! We have refunded your order.",
    recipient: str = "@dana@social.example",
    visibility: str | None = "public",
    channel_data: dict[str, Any] | None = None,
) -> OutgoingReply:
    return OutgoingReply(
        channel="mastodon",
        idempotency_key=key,
        text=text,
        in_reply_to="117020576916218297",
        in_reply_to_url="https://social.example/@dana/1",
        recipient=recipient,
        visibility=visibility,
        channel_data={
            "status_id": "117020576916218297",
            "account_id": "117020565693913441",
            "visibility": visibility,
            "instance": "localhost:3000",
        }
        if channel_data is None
        else channel_data,
    )


def _publisher(handler: Handler, **options: Any) -> tuple[MastodonPublisher, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(recording))
    return MastodonPublisher(BASE, TOKEN, client, clock=lambda: NOW, **options), seen


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=_posted())


class RememberingMastodon:
    """Creates a status per new Idempotency-Key and answers a repeated key with the same
    status, as Mastodon does (for about an hour)."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.by_key: dict[str, dict[str, Any]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = request.headers["Idempotency-Key"]
        if key not in self.by_key:
            status = copy.deepcopy(_posted())
            status["id"] = str(117020576916218300 + len(self.created))
            status["url"] = f"{BASE}/@acme/{status['id']}"
            self.created.append(status)
            self.by_key[key] = status
        return httpx.Response(200, json=self.by_key[key])


def test_it_is_a_publisher_with_limits() -> None:
    publisher: Publisher = _publisher(_ok)[0]
    assert publisher.channel == "mastodon"
    assert _publisher(_ok)[0].limits == ChannelLimits(
        max_length=500, length_unit="characters", rate_budget="300 requests / 5 min"
    )
    assert _publisher(_ok, max_length=11000)[0].limits.max_length == 11000


async def test_posts_the_reply_in_the_thread_with_the_idempotency_key() -> None:
    publisher, seen = _publisher(_ok)
    receipt = await publisher.publish(_reply())
    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/api/v1/statuses"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Idempotency-Key"] == "release-17-a"
    assert json.loads(request.content) == {
        "status": "@dana@social.example Sorry about that! We have refunded your order.",
        "in_reply_to_id": "117020576916218297",
        "visibility": "unlisted",
    }
    assert receipt == Receipt(
        channel="mastodon",
        external_id="117020576916218297",
        url="http://localhost:3000/@admin/117020576916218297",
        delivered_at="2026-08-01T13:51:39.138Z",
    )


async def test_without_channel_data_the_mention_id_is_answered() -> None:
    publisher, seen = _publisher(_ok)
    await publisher.publish(_reply(channel_data={}))
    assert json.loads(seen[0].content)["in_reply_to_id"] == "117020576916218297"


async def test_a_text_that_mentions_the_recipient_is_not_prefixed() -> None:
    publisher, seen = _publisher(_ok)
    await publisher.publish(_reply(text="Thanks @Dana@social.example, fixed now."))
    assert json.loads(seen[0].content)["status"] == "Thanks @Dana@social.example, fixed now."


def test_mention_rules() -> None:
    local = "localhost:3000"
    # a local recipient is written the way Mastodon resolves local accounts
    assert with_mention("hi", "@admin@localhost:3000", instance=local) == "@admin hi"
    assert with_mention("@admin hi", "@admin@localhost:3000", instance=local) == "@admin hi"
    # the same user name on another instance is another person
    assert with_mention("@dana hi", "@dana@social.example", instance=local) == (
        "@dana@social.example @dana hi"
    )
    assert with_mention("@danastore hi", "dana@social.example", instance=local).startswith(
        "@dana@social.example "
    )
    assert with_mention("mail dana@social.example", "@dana@social.example", instance=local) == (
        "@dana@social.example mail dana@social.example"
    )
    with pytest.raises(PermanentError, match="not a Mastodon handle"):
        with_mention("hi", "did:plc:abc", instance=local)


@pytest.mark.parametrize(
    ("customer", "ceiling", "expected"),
    [
        ("public", "public", "public"),
        ("public", "unlisted", "unlisted"),
        ("unlisted", "public", "unlisted"),
        ("private", "public", "direct"),
        ("direct", "public", "direct"),
        (None, "public", "direct"),
        ("limited", "public", "direct"),
        ("public", "private", "private"),
    ],
)
def test_reply_visibility(customer: str | None, ceiling: str, expected: str) -> None:
    assert reply_visibility(customer, ceiling) == expected


@pytest.mark.parametrize(
    ("customer", "ceiling"), list(itertools.product(VISIBILITIES, VISIBILITIES))
)
async def test_the_reply_is_never_wider_than_the_customers_post(
    customer: str, ceiling: str
) -> None:
    publisher, seen = _publisher(_ok, max_visibility=ceiling)
    await publisher.publish(_reply(visibility=customer))
    sent = json.loads(seen[0].content)["visibility"]
    assert VISIBILITIES.index(sent) >= VISIBILITIES.index(customer)
    assert VISIBILITIES.index(sent) >= VISIBILITIES.index(ceiling)


async def test_stored_visibility_counts_when_the_reply_has_none_and_the_narrower_wins() -> None:
    publisher, seen = _publisher(_ok, max_visibility="public")
    data = {"status_id": "117020576916218297", "visibility": "direct"}
    await publisher.publish(_reply(visibility=None, channel_data=data))
    await publisher.publish(_reply(visibility="public", channel_data=data))
    assert [json.loads(r.content)["visibility"] for r in seen] == ["direct", "direct"]


async def test_a_retried_release_posts_once() -> None:
    server = RememberingMastodon()
    publisher, seen = _publisher(server)
    first = await publisher.publish(_reply(key="release-17-a"))
    again = await publisher.publish(_reply(key="release-17-a"))
    assert len(seen) == 2
    assert {r.headers["Idempotency-Key"] for r in seen} == {"release-17-a"}
    assert len(server.created) == 1
    assert again == first
    other = await publisher.publish(_reply(key="release-18-a"))
    assert other.external_id != first.external_id
    assert len(server.created) == 2


async def test_retry_after_a_lost_answer_gets_the_first_status() -> None:
    server = RememberingMastodon()
    calls = 0

    def flaky(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        response = server(request)  # the post happens...
        if calls == 1:
            raise httpx.ReadTimeout("answer lost", request=request)  # ...the answer is lost
        return response

    publisher, _ = _publisher(flaky)
    with pytest.raises(TransientError):
        await publisher.publish(_reply())
    receipt = await publisher.publish(_reply())
    assert len(server.created) == 1
    assert receipt.external_id == server.created[0]["id"]


async def test_rate_limited_reply_is_transient_with_retry_after() -> None:
    reset = _load("status_posted.json")["x-ratelimit-reset"]  # 2026-08-01T15:00:00.175404Z

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, json={"error": "Too many requests"}, headers={"X-RateLimit-Reset": reset}
        )

    publisher, _ = _publisher(handler)
    with pytest.raises(TransientError) as caught:
        await publisher.publish(_reply())
    assert caught.value.retry_after == pytest.approx(69 * 60 + 0.175404)

    def with_retry_after(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "120", "X-RateLimit-Reset": reset})

    publisher, _ = _publisher(with_retry_after)
    with pytest.raises(TransientError) as caught:
        await publisher.publish(_reply())
    assert caught.value.retry_after == 120.0


async def test_rejected_content_is_permanent_with_mastodons_text() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422, json={"error": "Validation failed: Text character limit of 500 exceeded"}
        )

    publisher, _ = _publisher(handler)
    with pytest.raises(PermanentError, match="Text character limit of 500 exceeded"):
        await publisher.publish(_reply())


async def test_a_token_without_write_scope_is_permanent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": "This action is outside the authorized scopes"})

    publisher, _ = _publisher(handler)
    with pytest.raises(PermanentError, match="write:statuses"):
        await publisher.publish(_reply())


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_transient(status: int) -> None:
    publisher, _ = _publisher(lambda request: httpx.Response(status))
    with pytest.raises(TransientError, match=f"HTTP {status}"):
        await publisher.publish(_reply())


async def test_connection_failures_are_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    publisher, _ = _publisher(handler)
    with pytest.raises(TransientError, match="unreachable"):
        await publisher.publish(_reply())


async def test_an_unreadable_success_is_transient_so_the_key_recovers_it() -> None:
    publisher, _ = _publisher(lambda request: httpx.Response(200, text="<html>ok</html>"))
    with pytest.raises(TransientError, match="Idempotency-Key"):
        await publisher.publish(_reply())


async def test_a_mention_read_on_another_instance_is_refused_before_posting() -> None:
    publisher, seen = _publisher(_ok)
    data = {"status_id": "116275331587890092", "instance": "mastodon.social"}
    with pytest.raises(PermanentError, match=r"mastodon\.social"):
        await publisher.publish(_reply(channel_data=data))
    assert seen == []


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "ünicode"])
async def test_a_bad_idempotency_key_is_refused(key: str) -> None:
    publisher, seen = _publisher(_ok)
    with pytest.raises(PermanentError, match="idempotency key"):
        await publisher.publish(_reply(key=key))
    assert seen == []


async def test_a_status_id_that_is_not_one_is_refused() -> None:
    publisher, seen = _publisher(_ok)
    reply = _reply(channel_data={})
    reply = OutgoingReply(**{**_as_dict(reply), "in_reply_to": "https://x.example/1"})
    with pytest.raises(PermanentError, match="status id"):
        await publisher.publish(reply)
    assert seen == []


async def test_instance_limits_come_from_the_instance_configuration() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v2/instance"
        assert "Authorization" not in request.headers
        return httpx.Response(200, json=_load("instance_v2.json"))

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    limits = await instance_limits(BASE, client)
    assert limits.max_length == 500
    assert limits.length_unit == "characters"


def _as_dict(reply: OutgoingReply) -> dict[str, Any]:
    return {f: getattr(reply, f) for f in reply.__struct_fields__}
