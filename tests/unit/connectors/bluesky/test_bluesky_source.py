"""The Bluesky source against a fake AppView: paging, a cursor that survives restarts,
catch-up after a burst, search, dedupe, and errors."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.bluesky import BlueskySession, BlueskySource
from connectors.contract import PermanentError, RawMention, Source, TransientError

DATA = Path(__file__).parents[3] / "data" / "bluesky"
SERVICE = "https://pds.example.com"
NOTIFICATIONS = "app.bsky.notification.listNotifications"
SEARCH = "app.bsky.feed.searchPosts"
START = datetime(2025, 3, 14, 10, 0, tzinfo=UTC)


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text())
    return loaded


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeAppView:
    """Serves notifications and search results newest first, paged by a time cursor."""

    def __init__(self) -> None:
        fixture = _load("listNotifications.json")
        self.notifications: list[dict[str, Any]] = fixture["notifications"]
        self.posts: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.answer: httpx.Response | None = None  # overrides the next page answer
        self._template = fixture["notifications"][0]
        self._made = 0

    def add(self, count: int, *, reason: str = "mention", at: datetime | None = None) -> list[str]:
        """``count`` new notifications, each a second after the newest; their uris."""
        uris = []
        for _ in range(count):
            self._made += 1
            item = copy.deepcopy(self._template)
            item["uri"] = item["uri"].rsplit("/", 1)[0] + f"/3lnew{self._made:08d}"
            item["reason"] = reason
            item["record"]["text"] = f"new mention {self._made}"
            when = at or START + timedelta(seconds=self._made)
            item["record"]["createdAt"] = _stamp(when)
            item["indexedAt"] = _stamp(when)
            self.notifications.append(item)
            uris.append(item["uri"])
        return uris

    def names(self) -> list[str]:
        return [r.url.path.removeprefix("/xrpc/") for r in self.requests]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        nsid = request.url.path.removeprefix("/xrpc/")
        if nsid == "com.atproto.server.createSession":
            return httpx.Response(200, json=_load("createSession.json"))
        if self.answer is not None:
            return self.answer
        params = request.url.params
        if nsid == NOTIFICATIONS:
            return self._page("notifications", self.notifications, params)
        if nsid == SEARCH:
            return self._page("posts", self.posts, params)
        return httpx.Response(400, json={"error": "InvalidRequest", "message": nsid})

    def _page(self, key: str, items: list[dict[str, Any]], params: httpx.QueryParams) -> Any:
        ordered = sorted(items, key=lambda i: (i["indexedAt"], i["uri"]), reverse=True)
        cursor = params.get("cursor")
        if cursor is not None:
            after = tuple(cursor.split("|"))
            ordered = [i for i in ordered if (i["indexedAt"], i["uri"]) < after]
        limit = int(params["limit"])
        page = ordered[:limit]
        body: dict[str, Any] = {key: page}
        if len(ordered) > limit:
            body["cursor"] = f"{page[-1]['indexedAt']}|{page[-1]['uri']}"
        return httpx.Response(200, json=body)


def _source(view: FakeAppView, **options: Any) -> BlueskySource:
    client = httpx.AsyncClient(transport=httpx.MockTransport(view.handle))
    session = BlueskySession(SERVICE, "acme.example.com", "app-password", client)
    return BlueskySource(session, client, **options)


def _texts(mentions: list[RawMention]) -> list[str]:
    return [m.text for m in mentions]


async def test_first_fetch_returns_mentions_and_replies_oldest_first() -> None:
    view = FakeAppView()
    source: Source = _source(view)
    batch = await source.fetch(None)
    assert _texts(batch.mentions) == [
        "Thanks, but the replacement is broken too.",
        "Status: the outage you posted about is resolved on our side.",
        "@acme.example.com my order #4411 still hasn't shipped. Any news?",
    ]
    assert source.channel == "bluesky"
    assert batch.cursor is not None
    state = json.loads(batch.cursor)
    assert state["notifications"]["mark"]["at"] == "2025-03-14T09:29:58.905000Z"
    assert state["notifications"]["pending"] is None


async def test_a_restart_with_the_stored_cursor_returns_only_new_items() -> None:
    view = FakeAppView()
    first = await _source(view).fetch(None)
    view.requests.clear()
    restarted = _source(view)  # a new process: new session, the stored cursor
    again = await restarted.fetch(first.cursor)
    assert again.mentions == []
    assert view.names() == ["com.atproto.server.createSession", NOTIFICATIONS]
    view.add(2)
    newer = await _source(view).fetch(again.cursor)
    assert _texts(newer.mentions) == ["new mention 1", "new mention 2"]
    assert (await _source(view).fetch(newer.cursor)).mentions == []


async def test_pages_until_it_reaches_what_was_handed_over() -> None:
    view = FakeAppView()
    source = _source(view, page_limit=5)
    first = await source.fetch(None)
    view.add(12)
    view.requests.clear()
    batch = await source.fetch(first.cursor)
    assert _texts(batch.mentions) == [f"new mention {n}" for n in range(1, 13)]
    pages = [r for r in view.requests if r.url.path.endswith(NOTIFICATIONS)]
    assert len(pages) == 3  # 5 + 5 + (2 new, then the mark)
    assert [p.url.params["limit"] for p in pages] == ["5", "5", "5"]


async def test_a_burst_larger_than_max_pages_is_caught_up_without_gaps() -> None:
    view = FakeAppView()
    source = _source(view, page_limit=5, max_pages=2)
    cursor = (await source.fetch(None)).cursor
    burst = view.add(23)
    seen: list[str] = []
    batch = await source.fetch(cursor)
    assert len(batch.mentions) == 10
    assert json.loads(batch.cursor or "")["notifications"]["pending"] is not None
    seen += [m.external_id for m in batch.mentions]
    later = view.add(3)  # arrive while the source is catching up
    for _ in range(4):
        batch = await source.fetch(batch.cursor)
        seen += [m.external_id for m in batch.mentions]
    assert sorted(seen) == sorted(burst + later)
    assert len(seen) == len(set(seen))
    assert json.loads(batch.cursor or "")["notifications"]["pending"] is None


async def test_a_first_fetch_does_not_walk_the_whole_history() -> None:
    view = FakeAppView()
    view.add(30)
    source = _source(view, page_limit=5, max_pages=2)
    batch = await source.fetch(None)
    assert len(batch.mentions) == 10
    assert _texts(batch.mentions)[-1] == "new mention 30"
    assert json.loads(batch.cursor or "")["notifications"]["pending"] is None
    assert (await source.fetch(batch.cursor)).mentions == []


async def test_an_item_indexed_at_the_same_instant_as_the_mark_is_not_lost() -> None:
    view = FakeAppView()
    instant = START + timedelta(minutes=5)
    view.add(1, at=instant)
    source = _source(view)
    first = await source.fetch(None)
    late = view.add(1, at=instant)
    batch = await source.fetch(first.cursor)
    assert [m.external_id for m in batch.mentions] == late
    assert (await source.fetch(batch.cursor)).mentions == []


async def test_other_reasons_move_the_mark_but_are_not_mentions() -> None:
    view = FakeAppView()
    source = _source(view)
    cursor = (await source.fetch(None)).cursor
    view.add(3, reason="like")
    batch = await source.fetch(cursor)
    assert batch.mentions == []
    assert json.loads(batch.cursor or "")["notifications"]["mark"]["at"].startswith(
        "2025-03-14T10:00:03"
    )


async def test_search_posts_are_read_with_sort_latest_and_deduped_by_uri() -> None:
    view = FakeAppView()
    search = _load("searchPosts_latest.json")["posts"]
    view.posts = copy.deepcopy(search)
    both = copy.deepcopy(view.notifications[0])  # the mention, found by search too
    del both["reason"]
    view.posts.append(both)
    source = _source(view, query="acme")
    batch = await source.fetch(None)
    uris = [m.external_id for m in batch.mentions]
    assert len(uris) == len(set(uris)) == 5
    assert {p["uri"] for p in search} <= set(uris)
    [mention] = [m for m in batch.mentions if m.external_id == both["uri"]]
    assert mention.addressed is True
    [request] = [r for r in view.requests if r.url.path.endswith(SEARCH)]
    assert request.url.params["q"] == "acme"
    assert request.url.params["sort"] == "latest"
    assert (await source.fetch(batch.cursor)).mentions == []


async def test_a_changed_query_starts_the_search_afresh() -> None:
    view = FakeAppView()
    view.posts = _load("searchPosts_latest.json")["posts"]
    cursor = (await _source(view, query="acme").fetch(None)).cursor
    batch = await _source(view, query="acme support").fetch(cursor)
    assert len(batch.mentions) == 2  # the same posts, for the new query; no notifications
    assert json.loads(batch.cursor or "")["query"] == "acme support"


async def test_malformed_items_are_skipped_and_the_rest_delivered() -> None:
    view = FakeAppView()
    del view.notifications[0]["author"]
    view.notifications[2]["indexedAt"] = "not a time"
    batch = await _source(view).fetch(None)
    assert _texts(batch.mentions) == ["Thanks, but the replacement is broken too."]


async def test_an_answer_that_is_not_a_page_is_transient() -> None:
    view = FakeAppView()
    view.answer = httpx.Response(200, text="<html>maintenance</html>")
    with pytest.raises(TransientError):
        await _source(view).fetch(None)


async def test_rate_limit_is_transient_with_retry_after() -> None:
    view = FakeAppView()
    reset = int(datetime.now(UTC).timestamp()) + 300
    view.answer = httpx.Response(
        429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"ratelimit-reset": str(reset), "ratelimit-remaining": "0"},
    )
    with pytest.raises(TransientError) as caught:
        await _source(view).fetch(None)
    assert caught.value.retry_after is not None
    assert 290 <= caught.value.retry_after <= 300


async def test_an_abandoned_catch_up_restarts_from_the_top() -> None:
    view = FakeAppView()
    source = _source(view, page_limit=5, max_pages=1)
    cursor = (await source.fetch(None)).cursor
    view.add(8)
    batch = await source.fetch(cursor)
    assert json.loads(batch.cursor or "")["notifications"]["pending"] is not None
    broken = json.loads(batch.cursor or "")
    broken["notifications"]["pending"]["page"] = "expired"
    original = view.handle

    def refusing(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "expired":
            view.requests.append(request)
            return httpx.Response(400, json={"error": "InvalidRequest", "message": "cursor"})
        return original(request)

    view.handle = refusing  # type: ignore[method-assign]
    again = await source.fetch(json.dumps(broken))
    assert _texts(again.mentions) == [f"new mention {n}" for n in range(4, 9)]


@pytest.mark.parametrize("cursor", ["12345", "not json", '{"v": 2}', '{"v": 1, "other": 1}'])
async def test_a_cursor_this_source_did_not_write_is_permanent(cursor: str) -> None:
    with pytest.raises(PermanentError):
        await _source(FakeAppView()).fetch(cursor)


def test_options_are_checked() -> None:
    view = FakeAppView()
    for options in ({"page_limit": 0}, {"page_limit": 101}, {"max_pages": 0}, {"reasons": ()}):
        with pytest.raises(ValueError):
            _source(view, **options)
