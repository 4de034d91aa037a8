"""RssSource: the cursor carries validators and seen ids across fetches and restarts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from connectors.contract import PermanentError, RawMention, Source, TransientError
from connectors.rss import FeedError, RssSource

URL = "https://blog.example/feed.xml"
NOW = datetime(2024, 5, 10, 12, 0, 0, tzinfo=UTC)


def _item(n: int, day: int) -> str:
    return (
        f"<item><guid>https://blog.example/?p={n}</guid><title>Post {n}</title>"
        f"<description>Body of post {n}</description>"
        f"<pubDate>{day:02d} May 2024 10:00:00 GMT</pubDate></item>"
    )


def _feed(*items: tuple[int, int]) -> bytes:
    body = "".join(_item(n, day) for n, day in items)
    return f'<rss version="2.0"><channel><title>Blog</title>{body}</channel></rss>'.encode()


class FakeServer:
    """Serves one feed whose content and validators a test can change; honours If-None-Match."""

    def __init__(self, content: bytes, etag: str | None = '"v1"') -> None:
        self.content = content
        self.etag = etag
        self.requests: list[httpx.Request] = []
        self.status: int | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status is not None:
            return httpx.Response(self.status, headers={"Retry-After": "60"})
        if self.etag is not None and request.headers.get("If-None-Match") == self.etag:
            return httpx.Response(304, headers={"ETag": self.etag})
        headers = {"Content-Type": "application/rss+xml"}
        if self.etag is not None:
            headers["ETag"] = self.etag
        return httpx.Response(200, headers=headers, content=self.content)

    def publish(self, content: bytes, etag: str | None) -> None:
        self.content, self.etag = content, etag


def _source(server: Callable[[httpx.Request], httpx.Response], **options: object) -> RssSource:
    client = httpx.AsyncClient(transport=httpx.MockTransport(server))
    return RssSource(URL, client, clock=lambda: NOW, **options)  # type: ignore[arg-type]


def _titles(mentions: list[RawMention]) -> list[str]:
    return [mention.text.split("\n")[0] for mention in mentions]


async def test_first_fetch_returns_every_entry_oldest_first() -> None:
    server = FakeServer(_feed((3, 3), (2, 2), (1, 1)))
    batch = await _source(server).fetch(None)
    assert _titles(batch.mentions) == ["Post 1", "Post 2", "Post 3"]
    assert batch.cursor is not None


async def test_304_yields_nothing_and_keeps_the_cursor() -> None:
    server = FakeServer(_feed((1, 1)))
    source = _source(server)
    first = await source.fetch(None)
    second = await source.fetch(first.cursor)
    assert server.requests[1].headers["If-None-Match"] == '"v1"'
    assert second.mentions == []
    assert second.cursor == first.cursor


async def test_last_modified_is_sent_back_as_if_modified_since() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-Modified-Since") == "Fri, 10 May 2024 09:00:00 GMT":
            return httpx.Response(304)
        headers = {"Last-Modified": "Fri, 10 May 2024 09:00:00 GMT"}
        return httpx.Response(200, headers=headers, content=_feed((1, 1)))

    source = _source(handler)
    first = await source.fetch(None)
    assert json.loads(first.cursor or "")["modified"] == "Fri, 10 May 2024 09:00:00 GMT"
    assert (await source.fetch(first.cursor)).mentions == []


async def test_a_restart_with_the_stored_cursor_returns_nothing_for_an_unchanged_feed() -> None:
    # No validators: the server sends the whole feed every time, as many do.
    server = FakeServer(_feed((2, 2), (1, 1)), etag=None)
    cursor = (await _source(server).fetch(None)).cursor
    restarted = _source(server)  # a new object, as after a process restart
    again = await restarted.fetch(cursor)
    assert again.mentions == []
    assert "If-None-Match" not in server.requests[-1].headers


async def test_a_changed_feed_yields_only_its_new_items() -> None:
    server = FakeServer(_feed((2, 2), (1, 1)))
    cursor = (await _source(server).fetch(None)).cursor
    # Two new posts; the oldest one fell off the end of the feed.
    server.publish(_feed((4, 4), (3, 3), (2, 2)), etag='"v2"')
    batch = await _source(server).fetch(cursor)
    assert server.requests[-1].headers["If-None-Match"] == '"v1"'
    assert _titles(batch.mentions) == ["Post 3", "Post 4"]
    state = json.loads(batch.cursor or "")
    assert state["etag"] == '"v2"'
    # And the post that fell off is not returned again if the feed brings it back.
    server.publish(_feed((4, 4), (3, 3), (2, 2), (1, 1)), etag='"v3"')
    assert (await _source(server).fetch(batch.cursor)).mentions == []


async def test_an_entry_repeated_within_one_feed_is_returned_once() -> None:
    server = FakeServer(_feed((1, 1), (1, 1)))
    assert len((await _source(server).fetch(None)).mentions) == 1


async def test_seen_keeps_the_newest_ids_up_to_the_limit() -> None:
    server = FakeServer(_feed(*[(n, 1) for n in range(1, 4)]), etag=None)
    source = _source(server, seen_limit=4)
    cursor = (await source.fetch(None)).cursor
    for first in range(4, 10, 3):  # feeds of three new posts each, older ones gone
        server.publish(_feed(*[(n, 1) for n in range(first, first + 3)]), etag=None)
        cursor = (await source.fetch(cursor)).cursor
    seen = json.loads(cursor or "")["seen"]
    assert len(seen) == 4
    # The current feed's ids are always kept, even beyond the limit.
    server.publish(_feed(*[(n, 1) for n in range(20, 26)]), etag=None)
    cursor = (await source.fetch(cursor)).cursor
    assert len(json.loads(cursor or "")["seen"]) == 6
    assert (await source.fetch(cursor)).mentions == []


async def test_the_cursor_is_compact_json() -> None:
    server = FakeServer(_feed((1, 1)))
    state = json.loads((await _source(server).fetch(None)).cursor or "")
    assert state["v"] == 1
    assert state["etag"] == '"v1"'
    assert state["modified"] is None
    [digest] = state["seen"]
    assert len(digest) == 16
    int(digest, 16)


@pytest.mark.parametrize("cursor", ["not json", "42", '{"v": 1, "seen": "x"}', '{"v": 9}'])
async def test_a_cursor_this_source_did_not_write_is_refused(cursor: str) -> None:
    server = FakeServer(_feed((1, 1)))
    with pytest.raises(PermanentError, match="cursor"):
        await _source(server).fetch(cursor)
    assert server.requests == []


async def test_fetch_errors_keep_their_kind_and_name_the_feed() -> None:
    server = FakeServer(_feed((1, 1)))
    server.status = 429
    with pytest.raises(TransientError) as caught:
        await _source(server, name="Gadget blog").fetch(None)
    assert caught.value.retry_after == 60.0
    assert str(caught.value).startswith("feed Gadget blog: ")


async def test_a_feed_that_is_not_a_feed_is_a_feed_error_naming_the_feed() -> None:
    server = FakeServer(b"<html><body>Moved to our new site!</body></html>")
    with pytest.raises(FeedError, match=r"^feed Gadget blog: .*HTML page"):
        await _source(server, name="Gadget blog").fetch(None)


async def test_mentions_carry_the_channel_of_the_source() -> None:
    server = FakeServer(_feed((1, 1)))
    [mention] = (await _source(server, channel="blogs").fetch(None)).mentions
    assert mention.channel == "blogs"
    assert mention.created_at == "2024-05-01T10:00:00Z"


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("ftp://blog.example/feed", {}),
        ("blog.example/feed", {}),
        ("https://", {}),
        (URL, {"max_bytes": 0}),
        (URL, {"timeout_s": 0}),
        (URL, {"seen_limit": 0}),
    ],
)
def test_bad_configuration_is_refused(url: str, options: dict[str, object]) -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(FakeServer(b"")))
    with pytest.raises(ValueError):
        RssSource(url, client, **options)  # type: ignore[arg-type]


def test_is_a_source() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(FakeServer(b"")))
    source: Source = RssSource(URL, client, channel="blogs")
    assert source.channel == "blogs"
