"""The Mastodon source against a fake instance that pages like Mastodon does.

The fake answers ``limit``/``min_id``/``max_id``/``since_id`` the way Mastodon's
``Paginable`` does (newest first; ``min_id`` gives the page immediately newer) and sends
``Link`` headers with ``rel="next"`` (``max_id``) and ``rel="prev"`` (``min_id``).
Entries are derived from recorded answers in ``tests/data/mastodon``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.contract import PermanentError, Source, TransientError
from connectors.mastodon import MastodonSource

DATA = Path(__file__).resolve().parents[3] / "data" / "mastodon"
BASE = "https://mastodon.social"
TOKEN = "token-of-the-brand"
BRAND_ID = "43"
NOW = datetime(2026, 4, 11, 23, 14, 23, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def _status(status_id: int, minute: int, *, template: str = "direct") -> dict[str, Any]:
    """A status shaped like a recorded one, with a new id and time."""
    if template == "direct":
        raw = copy.deepcopy(_load("notifications_page.json")["body"][1]["status"])
        raw["visibility"] = "public"
    else:
        raw = copy.deepcopy(_load("search_v2.json")["body"]["statuses"][1])
    raw["id"] = str(status_id)
    raw["created_at"] = f"2026-04-11T10:{minute:02d}:00.000Z"
    raw["url"] = f"https://icosahedron.website/@latencyobs/{status_id}"
    return raw


def _notification(notification_id: int, status: dict[str, Any] | None) -> dict[str, Any]:
    raw = copy.deepcopy(_load("notifications_page.json")["body"][1])
    raw["id"] = str(notification_id)
    raw["group_key"] = f"ungrouped-{notification_id}"
    raw["status"] = status
    if status is not None:
        raw["created_at"] = status["created_at"]
    return raw


def _mentions(first: int, count: int) -> list[dict[str, Any]]:
    """``count`` mention notifications with ids first, first+1, ... (older to newer)."""
    return [
        _notification(first + i, _status(116_300_000_000_000_000 + first + i, i))
        for i in range(count)
    ]


class FakeMastodon:
    """Serves notifications, one hashtag timeline and search like a Mastodon instance."""

    def __init__(
        self,
        notifications: list[dict[str, Any]] | None = None,
        tag: list[dict[str, Any]] | None = None,
        search: list[dict[str, Any]] | None = None,
    ) -> None:
        self.notifications = notifications or []
        self.tag = tag or []
        self.search = search or []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"error": "The access token is invalid"})
        path = request.url.path
        if path == "/api/v1/notifications":
            assert request.url.params.get_list("types[]") == ["mention"]
            return self._page(request, self.notifications)
        if path == "/api/v1/timelines/tag/acme":
            return self._page(request, self.tag)
        if path == "/api/v2/search":
            return self._search(request)
        return httpx.Response(404, json={"error": "Record not found"})

    def _page(self, request: httpx.Request, items: list[dict[str, Any]]) -> httpx.Response:
        params = request.url.params
        limit = int(params.get("limit", "20"))
        ordered = sorted(items, key=lambda e: int(e["id"]), reverse=True)  # newest first
        if "max_id" in params:
            ordered = [e for e in ordered if int(e["id"]) < int(params["max_id"])]
        if "since_id" in params:
            ordered = [e for e in ordered if int(e["id"]) > int(params["since_id"])]
        if "min_id" in params:
            newer = [e for e in reversed(ordered) if int(e["id"]) > int(params["min_id"])]
            page = list(reversed(newer[:limit]))
        else:
            page = ordered[:limit]
        headers = {}
        if page:
            url = f"{BASE}{request.url.path}"
            headers["Link"] = (
                f'<{url}?max_id={page[-1]["id"]}>; rel="next", '
                f'<{url}?min_id={page[0]["id"]}>; rel="prev"'
            )
        return httpx.Response(200, json=page, headers=headers)

    def _search(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        assert params["type"] == "statuses"
        found = sorted(self.search, key=lambda e: int(e["id"]), reverse=True)
        if "min_id" in params:
            found = [e for e in found if int(e["id"]) > int(params["min_id"])]
        offset, limit = int(params.get("offset", "0")), int(params["limit"])
        return httpx.Response(
            200, json={"accounts": [], "statuses": found[offset : offset + limit], "hashtags": []}
        )


def _source(handler: Handler, **options: Any) -> MastodonSource:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    options.setdefault("brand_account_id", BRAND_ID)
    return MastodonSource(BASE, TOKEN, client, clock=lambda: NOW, **options)


def _cursor(cursor: str | None) -> dict[str, Any]:
    assert cursor is not None
    found: dict[str, Any] = json.loads(cursor)
    return found


def test_it_is_a_source() -> None:
    source: Source = _source(FakeMastodon())
    assert source.channel == "mastodon"


async def test_first_fetch_reads_the_newest_page_oldest_first() -> None:
    server = FakeMastodon(_mentions(100, 5))
    source = _source(server, page_limit=3)
    batch = await source.fetch(None)
    assert len(server.requests) == 1
    request = server.requests[0]
    assert request.url.params["limit"] == "3"
    assert "min_id" not in request.url.params
    assert [m.external_id[-3:] for m in batch.mentions] == ["102", "103", "104"]
    assert all(m.addressed for m in batch.mentions)
    assert _cursor(batch.cursor)["notifications_since_id"] == "104"


async def test_pages_are_walked_forward_through_link_headers() -> None:
    server = FakeMastodon(_mentions(100, 8))
    source = _source(server, page_limit=2)
    batch = await source.fetch(json.dumps({"v": 1, "notifications_since_id": "102"}))
    assert [m.external_id[-3:] for m in batch.mentions] == ["103", "104", "105", "106", "107"]
    min_ids = [r.url.params["min_id"] for r in server.requests]
    assert min_ids == ["102", "104", "106"]  # each from the previous page's rel="prev"
    assert _cursor(batch.cursor)["notifications_since_id"] == "107"
    assert source.last_stats is not None
    assert source.last_stats.requests == 3


async def test_page_cap_leaves_the_rest_for_the_next_fetch() -> None:
    server = FakeMastodon(_mentions(100, 7))
    source = _source(server, page_limit=2, max_pages=2)
    first = await source.fetch(json.dumps({"v": 1, "notifications_since_id": "100"}))
    assert [m.external_id[-3:] for m in first.mentions] == ["101", "102", "103", "104"]
    second = await source.fetch(first.cursor)
    assert [m.external_id[-3:] for m in second.mentions] == ["105", "106"]
    third = await source.fetch(second.cursor)
    assert third.mentions == []
    assert third.cursor == second.cursor


async def test_the_cursor_survives_a_restart() -> None:
    server = FakeMastodon(_mentions(100, 3))
    batch = await _source(server).fetch(None)
    assert len(batch.mentions) == 3
    server.notifications += _mentions(103, 2)
    restarted = _source(server)  # a new process, the stored cursor
    later = await restarted.fetch(batch.cursor)
    assert [m.external_id[-3:] for m in later.mentions] == ["103", "104"]
    assert (await _source(server).fetch(later.cursor)).mentions == []


async def test_hashtag_and_notifications_are_deduplicated() -> None:
    shared = _status(116_388_000_000_000_001, 30)
    hashtag_only = _status(116_388_000_000_000_002, 31, template="search")
    server = FakeMastodon([_notification(200, shared)], tag=[hashtag_only, shared])
    source = _source(server, hashtag="#acme")
    batch = await source.fetch(None)
    assert [m.external_id for m in batch.mentions] == [shared["id"], hashtag_only["id"]]
    first, second = batch.mentions
    assert first.addressed is True  # came as a mention notification
    assert second.addressed is False  # brand known, neither mentioned nor replied to
    assert source.last_stats is not None
    assert source.last_stats.duplicates == 1
    assert _cursor(batch.cursor) == {
        "v": 1,
        "notifications_since_id": "200",
        "hashtag_since_id": hashtag_only["id"],
        "search_since_id": None,
    }
    paths = [r.url.path for r in server.requests]
    assert paths == ["/api/v1/notifications", "/api/v1/timelines/tag/acme"]


async def test_without_the_brand_id_only_notifications_count_as_addressed() -> None:
    notified = _status(116_388_000_000_000_001, 30)
    notified["mentions"] = []  # e.g. a reply that notified us without an explicit mention
    tagged = _status(116_388_000_000_000_002, 31)
    server = FakeMastodon([_notification(200, notified)], tag=[tagged])
    batch = await _source(server, hashtag="acme", brand_account_id=None).fetch(None)
    assert [m.addressed for m in batch.mentions] == [True, None]


async def test_the_brands_own_posts_are_left_out() -> None:
    own = _status(116_388_000_000_000_005, 40)
    own["account"]["id"] = BRAND_ID
    server = FakeMastodon(tag=[own])
    source = _source(server, hashtag="acme")
    batch = await source.fetch(None)
    assert batch.mentions == []
    assert source.last_stats is not None
    assert source.last_stats.own == 1


async def test_search_returns_only_statuses_newer_than_the_cursor() -> None:
    older, newer = _load("search_v2.json")["body"]["statuses"][::-1]
    server = FakeMastodon(search=[older, newer])
    source = _source(server, query="acme support")
    first = await source.fetch(None)
    assert [m.external_id for m in first.mentions] == [older["id"], newer["id"]]
    assert server.requests[-1].url.params["q"] == "acme support"
    again = await source.fetch(first.cursor)
    assert again.mentions == []
    assert _cursor(again.cursor)["search_since_id"] == newer["id"]


async def test_a_recorded_page_skips_the_deleted_status() -> None:
    recorded = _load("notifications_page.json")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=recorded["body"], headers={"Link": recorded["link"]})

    source = _source(handler)
    batch = await source.fetch(None)
    assert [m.external_id for m in batch.mentions] == ["116275331587890092"]
    assert batch.mentions[0].is_direct
    assert source.last_stats is not None
    assert source.last_stats.skipped == 1
    assert _cursor(batch.cursor)["notifications_since_id"] == "550622655"


async def test_a_broken_entry_is_skipped_and_the_cursor_moves_past_it() -> None:
    entries = _mentions(100, 3)
    entries[1]["status"]["account"] = "not an account"
    server = FakeMastodon(entries)
    source = _source(server)
    batch = await source.fetch(json.dumps({"v": 1, "notifications_since_id": "99"}))
    assert [m.external_id[-3:] for m in batch.mentions] == ["100", "102"]
    assert source.last_stats is not None
    assert source.last_stats.skipped == 1
    assert _cursor(batch.cursor)["notifications_since_id"] == "102"


async def test_links_are_read_for_their_ids_never_followed_elsewhere() -> None:
    entries = _mentions(100, 4)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        newer = [e for e in entries if int(e["id"]) > int(request.url.params["min_id"])][:2]
        link = f'<https://evil.example/api/v1/notifications?min_id={newer[-1]["id"]}>; rel="prev"'
        return httpx.Response(200, json=newer[::-1], headers={"Link": link})

    seen: list[httpx.Request] = []
    batch = await _source(handler, page_limit=2, max_pages=2).fetch(
        json.dumps({"v": 1, "notifications_since_id": "99"})
    )
    assert len(batch.mentions) == 4
    assert {r.url.host for r in seen} == {"mastodon.social"}


async def test_unauthorized_is_permanent_and_names_the_scope() -> None:
    source = MastodonSource(
        BASE, "revoked", httpx.AsyncClient(transport=httpx.MockTransport(FakeMastodon()))
    )
    with pytest.raises(PermanentError, match="read:notifications") as caught:
        await source.fetch(None)
    assert "The access token is invalid" in str(caught.value)


async def test_forbidden_hashtag_names_its_scope() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/v1/timelines/tag/"):
            return httpx.Response(
                403, json={"error": "This action is outside the authorized scopes"}
            )
        return httpx.Response(200, json=[])

    with pytest.raises(PermanentError, match="read:statuses"):
        await _source(handler, hashtag="acme").fetch(None)


async def test_rate_limited_with_retry_after() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, json={"error": "Too many requests"}, headers={"Retry-After": "30"}
        )

    with pytest.raises(TransientError) as caught:
        await _source(handler).fetch(None)
    assert caught.value.retry_after == 30.0


async def test_rate_limited_with_mastodons_reset_header() -> None:
    reset = _load("notifications_page.json")["x-ratelimit-reset"]  # 2026-04-11T23:15:00.38Z

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429,
            json={"error": "Too many requests"},
            headers={
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset,
            },
        )

    with pytest.raises(TransientError) as caught:
        await _source(handler).fetch(None)
    assert caught.value.retry_after == pytest.approx(37.381973)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text="<html>We're sorry, but something went wrong</html>")

    with pytest.raises(TransientError, match=f"HTTP {status}"):
        await _source(handler).fetch(None)


async def test_timeouts_are_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(TransientError, match="timed out"):
        await _source(handler).fetch(None)


async def test_a_page_that_is_not_json_is_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>Maintenance</html>")

    with pytest.raises(TransientError, match="unreadable"):
        await _source(handler).fetch(None)


async def test_a_failure_after_notifications_moves_nothing() -> None:
    server = FakeMastodon(_mentions(100, 2))

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/v1/timelines/tag/"):
            return httpx.Response(503)
        return server(request)

    with pytest.raises(TransientError):
        await _source(handler, hashtag="acme").fetch(None)
    # the gateway keeps its old cursor; a later fetch returns the same mentions
    assert len((await _source(server).fetch(None)).mentions) == 2


@pytest.mark.parametrize(
    "cursor", ["not json", '{"v": 2}', '{"v": 1, "surprise": 1}', '"102"', "[]"]
)
async def test_a_foreign_cursor_is_permanent(cursor: str) -> None:
    with pytest.raises(PermanentError, match="cursor"):
        await _source(FakeMastodon()).fetch(cursor)


def test_configuration_is_checked() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(FakeMastodon()))
    with pytest.raises(ValueError, match="base_url"):
        MastodonSource("mastodon.social", TOKEN, client)
    with pytest.raises(ValueError, match="page_limit"):
        MastodonSource(BASE, TOKEN, client, page_limit=81)
    with pytest.raises(ValueError, match="hashtag"):
        MastodonSource(BASE, TOKEN, client, hashtag="#")
    with pytest.raises(ValueError, match="access_token"):
        MastodonSource(BASE, "", client)
