"""The webhook publisher: signed POSTs, and every answer mapped to a receipt or our errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from connectors.contract import OutgoingReply, PermanentError, Publisher, TransientError
from connectors.webhook import WebhookPublisher, verify_signature

URL = "https://hooks.customer.example/gateway"
SECRET = b"s3cret-shared-with-receiver"
NOW = datetime(2025, 3, 14, 9, 30, 0, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


def _reply(key: str = "release-42") -> OutgoingReply:
    return OutgoingReply(
        channel="mastodon",
        idempotency_key=key,
        text="Sorry about the delay, Dana. We've sent you a DM.",
        in_reply_to="cat-0001",
        in_reply_to_url="https://demo.example/@dana@social.example/cat-0001",
        recipient="@dana@social.example",
        thread_id="cat-0001",
        metadata={"proposal_id": 17},
    )


def _publisher(handler: Handler) -> tuple[WebhookPublisher, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(recording))
    return WebhookPublisher(URL, SECRET, client, clock=lambda: NOW), seen


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"id": "msg-9", "url": "https://customer.example/m/9"})


async def test_delivery_is_a_signed_json_post_with_the_idempotency_key() -> None:
    publisher, seen = _publisher(_ok)
    await publisher.publish(_reply())
    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == URL
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == "release-42"
    timestamp = request.headers["X-Gateway-Timestamp"]
    assert timestamp == str(int(NOW.timestamp()))
    assert verify_signature(
        SECRET,
        timestamp,
        request.content,
        request.headers["X-Gateway-Signature"],
        now=NOW.timestamp() + 5,
    )


async def test_body_carries_the_reply() -> None:
    publisher, seen = _publisher(_ok)
    await publisher.publish(_reply())
    body = json.loads(seen[0].content)
    assert body == {
        "channel": "mastodon",
        "idempotency_key": "release-42",
        "text": "Sorry about the delay, Dana. We've sent you a DM.",
        "in_reply_to": "cat-0001",
        "in_reply_to_url": "https://demo.example/@dana@social.example/cat-0001",
        "recipient": "@dana@social.example",
        "thread_id": "cat-0001",
        "metadata": {"proposal_id": 17},
        "sent_at": "2025-03-14T09:30:00.000Z",
    }


async def test_signature_fails_for_a_tampered_body() -> None:
    publisher, seen = _publisher(_ok)
    await publisher.publish(_reply())
    request = seen[0]
    tampered = request.content.replace(b"Sorry", b"Sorrx")
    assert not verify_signature(
        SECRET,
        request.headers["X-Gateway-Timestamp"],
        tampered,
        request.headers["X-Gateway-Signature"],
        now=NOW.timestamp(),
    )


async def test_2xx_gives_a_receipt_from_the_answer() -> None:
    publisher, _ = _publisher(_ok)
    receipt = await publisher.publish(_reply())
    assert receipt.channel == "webhook"
    assert receipt.external_id == "msg-9"
    assert receipt.url == "https://customer.example/m/9"
    assert receipt.delivered_at == "2025-03-14T09:30:00.000Z"
    assert receipt.duplicate is False


async def test_2xx_without_a_json_body_falls_back_to_the_key() -> None:
    publisher, _ = _publisher(lambda request: httpx.Response(204))
    receipt = await publisher.publish(_reply())
    assert receipt.external_id == "release-42"
    assert receipt.url is None


async def test_receiver_reports_a_duplicate() -> None:
    publisher, _ = _publisher(
        lambda request: httpx.Response(200, json={"id": 9, "duplicate": True})
    )
    receipt = await publisher.publish(_reply())
    assert receipt.duplicate is True
    assert receipt.external_id == "9"


async def test_429_with_retry_after_seconds_is_transient() -> None:
    publisher, _ = _publisher(
        lambda request: httpx.Response(429, headers={"Retry-After": "120"}, text="slow down")
    )
    with pytest.raises(TransientError) as caught:
        await publisher.publish(_reply())
    assert caught.value.retry_after == 120.0


async def test_503_with_retry_after_http_date_is_transient() -> None:
    publisher, _ = _publisher(
        lambda request: httpx.Response(
            503, headers={"Retry-After": "Fri, 14 Mar 2025 09:31:30 GMT"}
        )
    )
    with pytest.raises(TransientError) as caught:
        await publisher.publish(_reply())
    assert caught.value.retry_after == 90.0


async def test_unparseable_retry_after_leaves_it_unset() -> None:
    publisher, _ = _publisher(lambda request: httpx.Response(429, headers={"Retry-After": "soon"}))
    with pytest.raises(TransientError) as caught:
        await publisher.publish(_reply())
    assert caught.value.retry_after is None


async def test_500_is_transient() -> None:
    publisher, _ = _publisher(lambda request: httpx.Response(500, text="boom"))
    with pytest.raises(TransientError, match="HTTP 500"):
        await publisher.publish(_reply())


async def test_400_is_permanent_with_status_and_excerpt() -> None:
    body = "invalid recipient " + "x" * 1000
    publisher, _ = _publisher(lambda request: httpx.Response(400, text=body))
    with pytest.raises(PermanentError) as caught:
        await publisher.publish(_reply())
    message = str(caught.value)
    assert "HTTP 400" in message
    assert "invalid recipient" in message
    assert len(message) < 300


async def test_redirect_is_permanent_and_not_followed() -> None:
    publisher, seen = _publisher(
        lambda request: httpx.Response(307, headers={"Location": "https://elsewhere.example/"})
    )
    with pytest.raises(PermanentError, match="HTTP 307"):
        await publisher.publish(_reply())
    assert len(seen) == 1


@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError, httpx.RemoteProtocolError],
)
async def test_timeouts_and_connection_failures_are_transient(
    error: type[httpx.TransportError],
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error("simulated", request=request)

    publisher, _ = _publisher(fail)
    with pytest.raises(TransientError) as caught:
        await publisher.publish(_reply())
    assert caught.value.retry_after is None


async def test_key_that_cannot_be_a_header_is_permanent_and_not_sent() -> None:
    publisher, seen = _publisher(_ok)
    with pytest.raises(PermanentError, match="idempotency key"):
        await publisher.publish(_reply("key with\nnewline"))
    assert seen == []


@pytest.mark.parametrize(
    ("url", "secret"), [("ftp://x.example/", SECRET), ("/relative", SECRET), (URL, b"")]
)
def test_bad_configuration_is_refused(url: str, secret: bytes) -> None:
    with pytest.raises(ValueError):
        WebhookPublisher(url, secret, httpx.AsyncClient(transport=httpx.MockTransport(_ok)))


def test_is_a_publisher() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(_ok))
    publisher: Publisher = WebhookPublisher(URL, SECRET, client, channel="crm")
    assert publisher.channel == "crm"
