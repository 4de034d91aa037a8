"""fetch_feed: conditional GETs, redirects, limits, and every answer mapped to our errors."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest

from connectors.contract import ConnectorError, PermanentError, TransientError
from connectors.rss import FetchResult, fetch_feed

URL = "https://blog.example/feed.xml"
NOW = datetime(2024, 5, 4, 12, 0, 0, tzinfo=UTC)
FEED = b'<rss version="2.0"><channel><title>t</title></channel></rss>'

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(recording)), seen


async def _fetch(handler: Handler, **options: object) -> FetchResult:
    client, _ = _client(handler)
    return await fetch_feed(client, URL, clock=lambda: NOW, **options)  # type: ignore[arg-type]


def _ok(request: httpx.Request) -> httpx.Response:
    headers = {
        "Content-Type": "application/rss+xml; charset=utf-8",
        "ETag": '"v1"',
        "Last-Modified": "Sat, 04 May 2024 10:00:00 GMT",
    }
    return httpx.Response(200, headers=headers, content=FEED)


async def test_a_full_answer_carries_body_type_and_validators() -> None:
    result = await _fetch(_ok)
    assert result.content == FEED
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert (result.etag, result.modified) == ('"v1"', "Sat, 04 May 2024 10:00:00 GMT")
    assert result.not_modified is False
    assert result.url == URL


async def test_validators_are_sent_and_304_means_not_modified() -> None:
    client, seen = _client(lambda request: httpx.Response(304))
    result = await fetch_feed(
        client, URL, etag='"v1"', modified="Sat, 04 May 2024 10:00:00 GMT", clock=lambda: NOW
    )
    [request] = seen
    assert request.headers["If-None-Match"] == '"v1"'
    assert request.headers["If-Modified-Since"] == "Sat, 04 May 2024 10:00:00 GMT"
    assert "rss+xml" in request.headers["Accept"]
    assert result.not_modified is True
    assert result.content == b""


async def test_without_validators_no_conditional_headers_are_sent() -> None:
    client, seen = _client(_ok)
    await fetch_feed(client, URL)
    assert "If-None-Match" not in seen[0].headers
    assert "If-Modified-Since" not in seen[0].headers


async def test_gzip_bodies_are_decoded() -> None:
    def gzipped(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, content=gzip.compress(FEED)
        )

    assert (await _fetch(gzipped)).content == FEED


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
async def test_busy_with_retry_after_seconds_is_transient(status: int) -> None:
    with pytest.raises(TransientError) as caught:
        await _fetch(lambda request: httpx.Response(status, headers={"Retry-After": "120"}))
    assert caught.value.retry_after == 120.0
    assert f"HTTP {status}" in str(caught.value)


async def test_retry_after_as_an_http_date() -> None:
    busy = httpx.Response(429, headers={"Retry-After": "Sat, 04 May 2024 12:01:30 GMT"})
    with pytest.raises(TransientError) as caught:
        await _fetch(lambda request: busy)
    assert caught.value.retry_after == 90.0


async def test_unreadable_retry_after_is_left_unset() -> None:
    with pytest.raises(TransientError) as caught:
        await _fetch(lambda request: httpx.Response(429, headers={"Retry-After": "soon"}))
    assert caught.value.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 504, 408])
async def test_server_failures_are_transient(status: int) -> None:
    with pytest.raises(TransientError, match=f"HTTP {status}"):
        await _fetch(lambda request: httpx.Response(status, text="oops"))


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        (404, "check the feed address"),
        (410, "remove or replace the source"),
        (401, "needs credentials"),
        (403, "needs credentials"),
    ],
)
async def test_client_errors_are_permanent_with_advice(status: int, advice: str) -> None:
    with pytest.raises(PermanentError) as caught:
        await _fetch(lambda request: httpx.Response(status), label="feed Acme blog")
    message = str(caught.value)
    assert message.startswith("feed Acme blog: ")
    assert f"HTTP {status}" in message
    assert advice in message


async def test_other_4xx_is_permanent_with_a_short_excerpt() -> None:
    body = "Unsupported query " + "x" * 5000
    with pytest.raises(PermanentError) as caught:
        await _fetch(lambda request: httpx.Response(400, text=body))
    assert "HTTP 400" in str(caught.value)
    assert "Unsupported query" in str(caught.value)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.ConnectError, httpx.RemoteProtocolError],
)
async def test_timeouts_and_connection_failures_are_transient(
    error: type[httpx.TransportError],
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error("simulated", request=request)

    with pytest.raises(TransientError) as caught:
        await _fetch(fail)
    assert caught.value.retry_after is None


async def test_a_body_that_does_not_match_its_content_encoding_is_permanent() -> None:
    def lying(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"plain text")

    with pytest.raises(PermanentError, match="could not be decoded"):
        await _fetch(lying)


async def test_a_connector_error_from_the_transport_passes_through() -> None:
    class Refused(PermanentError):
        pass

    def guard(request: httpx.Request) -> httpx.Response:
        raise Refused("address 10.0.0.1 is not allowed")

    with pytest.raises(Refused):
        await _fetch(guard)


# --- limits -------------------------------------------------------------------------------


async def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    with pytest.raises(PermanentError, match="feed larger than 1024 bytes"):
        await _fetch(lambda request: httpx.Response(200, content=b"x" * 2048), max_bytes=1024)


async def test_a_streamed_body_over_the_cap_stops_reading() -> None:
    sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(10_000):
            sent.append(1)
            yield b"x" * 1000

    with pytest.raises(PermanentError, match="feed larger than 5000 bytes"):
        await _fetch(lambda request: httpx.Response(200, content=endless()), max_bytes=5000)
    assert len(sent) < 10


async def test_a_compressed_bomb_is_capped_after_decoding() -> None:
    bomb = gzip.compress(b"\0" * 1_000_000)

    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=bomb)

    assert len(bomb) < 10_000
    with pytest.raises(PermanentError, match="feed larger than 100000 bytes"):
        await _fetch(serve, max_bytes=100_000)


async def test_a_trickling_server_hits_the_deadline() -> None:
    async def trickle() -> AsyncIterator[bytes]:
        yield b"<rss>"
        await asyncio.sleep(30)
        yield b"</rss>"

    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TransientError, match=r"no complete answer within 0\.2 s"):
        await _fetch(lambda request: httpx.Response(200, content=trickle()), timeout_s=0.2)
    assert loop.time() - started < 5


# --- redirects ----------------------------------------------------------------------------


def _redirecting(chain: dict[str, httpx.Response]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return chain.get(str(request.url), httpx.Response(404))

    return handler


async def test_redirects_are_followed_and_validators_resent() -> None:
    client, seen = _client(
        _redirecting(
            {
                URL: httpx.Response(301, headers={"Location": "https://www.blog.example/feed"}),
                "https://www.blog.example/feed": httpx.Response(302, headers={"Location": "/f2"}),
                "https://www.blog.example/f2": _ok(httpx.Request("GET", URL)),
            }
        )
    )
    result = await fetch_feed(client, URL, etag='"v0"')
    assert result.content == FEED
    assert result.url == "https://www.blog.example/f2"
    assert result.moved_to == "https://www.blog.example/feed"  # only the permanent hop
    assert [r.headers.get("If-None-Match") for r in seen] == ['"v0"'] * 3


async def test_permanent_redirects_all_the_way_report_the_final_address() -> None:
    result = await _fetch(
        _redirecting(
            {
                URL: httpx.Response(308, headers={"Location": "https://b.example/1"}),
                "https://b.example/1": httpx.Response(301, headers={"Location": "/2"}),
                "https://b.example/2": httpx.Response(200, content=FEED),
            }
        )
    )
    assert result.moved_to == "https://b.example/2"


async def test_temporary_redirects_do_not_count_as_a_move() -> None:
    result = await _fetch(
        _redirecting(
            {
                URL: httpx.Response(307, headers={"Location": "https://b.example/1"}),
                "https://b.example/1": httpx.Response(200, content=FEED),
            }
        )
    )
    assert result.moved_to is None


async def test_more_than_max_redirects_is_permanent() -> None:
    client, seen = _client(
        lambda request: httpx.Response(302, headers={"Location": f"{request.url}x"})
    )
    with pytest.raises(PermanentError, match="more than 5 redirects"):
        await fetch_feed(client, URL)
    assert len(seen) == 6  # the request and five redirects


async def test_a_redirect_loop_ends() -> None:
    with pytest.raises(PermanentError, match="more than 2 redirects"):
        await _fetch(
            lambda request: httpx.Response(301, headers={"Location": URL}), max_redirects=2
        )


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "redirect without a Location"),
        ({"Location": "file:///etc/passwd"}, "non-HTTP address"),
        ({"Location": "ftp://files.example/feed"}, "non-HTTP address"),
    ],
)
async def test_bad_redirects_are_permanent(headers: dict[str, str], message: str) -> None:
    client, seen = _client(lambda request: httpx.Response(302, headers=headers))
    with pytest.raises(PermanentError, match=message):
        await fetch_feed(client, URL)
    assert len(seen) == 1


@pytest.mark.parametrize("url", ["gopher://blog.example/feed", "/feed.xml", "https://"])
async def test_urls_that_are_not_absolute_http_are_refused_unsent(url: str) -> None:
    client, seen = _client(_ok)
    with pytest.raises(PermanentError):
        await fetch_feed(client, url)
    assert seen == []


async def test_no_httpx_exception_escapes_when_the_transport_refuses_the_request() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.UnsupportedProtocol("no", request=request)

    with pytest.raises(ConnectorError):
        await _fetch(refuse)
