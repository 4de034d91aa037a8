"""A ``Source`` reading a Mastodon account's mentions, and optionally a hashtag or a search.

What one ``fetch(cursor)`` reads, in this order:

1. ``GET /api/v1/notifications?types[]=mention`` (scope ``read:notifications``);
2. ``GET /api/v1/timelines/tag/:hashtag`` when ``hashtag`` is set (``read:statuses``);
3. ``GET /api/v2/search?type=statuses&q=…`` when ``query`` is set (``read:search``; only
   instances with full-text search enabled return other people's posts).

Paging (notifications and hashtag). Mastodon answers newest first and links the pages
with ``Link: <…max_id=…>; rel="next"`` (older) and ``<…min_id=…>; rel="prev"`` (newer).
From a stored position we ask ``min_id=<position>``, which returns the page *immediately*
newer than it, then follow ``rel="prev"`` forward until a short or empty page, or until
``max_pages``. Walking forward means nothing is lost when a backlog exceeds
``max_pages * page_limit``: the rest comes on the next fetch. (Asking ``since_id`` and
walking back with ``max_id`` would drop the middle of such a backlog when the page cap
is hit.) Without a position (first run) only the newest page is read. Only the
parameter values of ``Link`` targets are used, so the token never leaves the configured
instance. Search has no ``Link``: ``min_id`` plus ``offset`` paging, and results not newer
than the position are dropped here as well.

The cursor is JSON, opaque to the gateway::

    {"v": 1, "notifications_since_id": "550622655", "hashtag_since_id": "11638…",
     "search_since_id": null}

each value the newest id already delivered on that path (``null``: not read yet). A
fetch that fails raises and moves nothing, so the next fetch repeats it: no item is lost.

A batch holds each status once (notifications first, then hashtag, then search; the
first seen wins, so a notified status keeps ``addressed=True``), leaves out statuses
written by the brand account itself, and is ordered oldest first. Entries that cannot be
read are skipped and counted in ``last_stats`` and in the ``mastodon_fetched`` log line.

Errors: see ``connectors.mastodon._http``; besides, a body that is not the documented
JSON container is a ``TransientError`` (a maintenance page or a truncated answer from a
proxy are the usual causes, and they pass; a persistent one shows up as repeated
failures), and a cursor this source did not write is a ``PermanentError``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

import httpx
import msgspec
import structlog

from connectors.clock import utc_now
from connectors.contract import Batch, PermanentError, RawMention, TransientError
from connectors.mastodon import _http
from connectors.mastodon.mapping import (
    CHANNEL,
    Notification,
    Page,
    PayloadError,
    Status,
    decode_notifications,
    decode_search,
    decode_statuses,
    id_order,
    status_to_mention,
)

log = structlog.get_logger(__name__)

_NOTIFICATIONS_MAX_LIMIT = 80
_STATUSES_MAX_LIMIT = 40
_CURSOR_VERSION = 1


class FetchStats(msgspec.Struct, frozen=True, kw_only=True):
    """What the last fetch did: requests made, mentions returned, entries skipped as
    unreadable, statuses seen twice, and statuses by the brand account left out."""

    requests: int = 0
    mentions: int = 0
    skipped: int = 0
    duplicates: int = 0
    own: int = 0


class _Cursor(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    v: int = _CURSOR_VERSION
    notifications_since_id: str | None = None
    hashtag_since_id: str | None = None
    search_since_id: str | None = None


class _Walk(msgspec.Struct, frozen=True, kw_only=True):
    statuses: list[Status]
    newest: str | None
    requests: int
    skipped: int


_cursor_decoder = msgspec.json.Decoder(_Cursor)
_cursor_encoder = msgspec.json.Encoder()


class MastodonSource:
    """A ``Source`` of Mastodon mentions (behaviour in the module docstring).

    ``base_url``: the instance the token belongs to (``https://mastodon.example``).
    ``brand_account_id``: the brand account's id on that instance; without it, hashtag
    and search results have ``addressed=None`` and the brand's own posts are not left
    out. ``hashtag`` may carry a leading ``#``. ``page_limit`` is capped by Mastodon at
    80 for notifications and 40 for statuses. ``instance_domain`` overrides the domain
    appended to local handles when the account domain differs from the web host.
    """

    def __init__(
        self,
        base_url: str,
        access_token: str,
        client: httpx.AsyncClient,
        *,
        brand_account_id: str | None = None,
        query: str | None = None,
        hashtag: str | None = None,
        page_limit: int = 40,
        max_pages: int = 5,
        channel: str = CHANNEL,
        instance_domain: str | None = None,
        timeout_s: float = 10.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not access_token:
            raise ValueError("Mastodon access_token must not be empty")
        if not 1 <= page_limit <= _NOTIFICATIONS_MAX_LIMIT:
            raise ValueError(f"page_limit must be 1..{_NOTIFICATIONS_MAX_LIMIT}, got {page_limit}")
        if max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, got {max_pages}")
        tag = (hashtag or "").strip().lstrip("#")
        if hashtag is not None and not tag:
            raise ValueError("hashtag must not be empty")
        if query is not None and not query.strip():
            raise ValueError("query must not be empty")
        self.channel = channel
        self._root = _http.instance_url(base_url)
        self._instance = (instance_domain or _http.instance_domain(self._root)).lower()
        self._token = access_token
        self._client = client
        self._brand = brand_account_id
        self._query = query.strip() if query is not None else None
        self._hashtag = tag or None
        self._page_limit = page_limit
        self._max_pages = max_pages
        self._timeout = httpx.Timeout(timeout_s)
        self._clock = clock
        self.last_stats: FetchStats | None = None

    async def fetch(self, cursor: str | None) -> Batch:
        """Mentions newer than ``cursor`` (``None``: the newest page), oldest first."""
        state = _parse_cursor(cursor)
        notifications = await self._walk(
            "api/v1/notifications",
            {"types[]": "mention"},
            state.notifications_since_id,
            min(self._page_limit, _NOTIFICATIONS_MAX_LIMIT),
            lambda body: _statuses_of(decode_notifications(body)),
            doing="reading notifications",
            auth_hint="token invalid or lacks read:notifications scope",
        )
        hashtag = None
        if self._hashtag is not None:
            hashtag = await self._walk(
                f"api/v1/timelines/tag/{quote(self._hashtag, safe='')}",
                {},
                state.hashtag_since_id,
                min(self._page_limit, _STATUSES_MAX_LIMIT),
                decode_statuses,
                doing=f"reading hashtag #{self._hashtag}",
                auth_hint="token invalid or lacks read:statuses scope",
            )
        search = None
        if self._query is not None:
            search = await self._search(self._query, state.search_since_id)
        batch, stats = self._assemble(notifications, hashtag, search, state)
        self.last_stats = stats
        log.info(
            "mastodon_fetched",
            instance=self._instance,
            mentions=stats.mentions,
            skipped=stats.skipped,
            duplicates=stats.duplicates,
            requests=stats.requests,
        )
        return batch

    def _assemble(
        self, notifications: _Walk, hashtag: _Walk | None, search: _Walk | None, state: _Cursor
    ) -> tuple[Batch, FetchStats]:
        walks = [w for w in (notifications, hashtag, search) if w is not None]
        seen: dict[str, RawMention] = {}
        skipped = sum(w.skipped for w in walks)
        duplicates = own = 0
        for walk in walks:
            for status in walk.statuses:
                if status.id in seen:
                    duplicates += 1
                    continue
                if self._brand is not None and status.account.id == self._brand:
                    own += 1
                    continue
                try:
                    seen[status.id] = status_to_mention(
                        status,
                        instance=self._instance,
                        brand_account_id=self._brand,
                        notified=walk is notifications,
                        channel=self.channel,
                    )
                except ValueError:
                    skipped += 1
        mentions = sorted(seen.values(), key=lambda m: (m.created_at, id_order(m.external_id)))
        cursor = _Cursor(
            notifications_since_id=notifications.newest,
            hashtag_since_id=hashtag.newest if hashtag is not None else state.hashtag_since_id,
            search_since_id=search.newest if search is not None else state.search_since_id,
        )
        stats = FetchStats(
            requests=sum(w.requests for w in walks),
            mentions=len(mentions),
            skipped=skipped,
            duplicates=duplicates,
            own=own,
        )
        return Batch(mentions=mentions, cursor=_cursor_encoder.encode(cursor).decode()), stats

    async def _walk(
        self,
        path: str,
        params: dict[str, str],
        since: str | None,
        limit: int,
        decode: Callable[[bytes], Page[Status]],
        *,
        doing: str,
        auth_hint: str,
    ) -> _Walk:
        statuses: list[Status] = []
        newest, min_id = since, since
        requests = skipped = 0
        while requests < self._max_pages:
            query = {**params, "limit": str(limit)}
            if min_id is not None:
                query["min_id"] = min_id
            response = await self._get(path, query, doing=doing, auth_hint=auth_hint)
            requests += 1
            page = _decoded(decode, response, doing)
            statuses.extend(page.items)
            skipped += page.skipped
            newest = _newest(newest, *page.ids)
            if since is None or len(page.ids) < limit:
                break  # first run reads the newest page only; a short page means caught up
            following = _http.link_param(response.headers, "prev", "min_id")
            following = _newest(following, *page.ids) if following is None else following
            if following is None or following == min_id:
                break
            min_id = following
        return _Walk(statuses=statuses, newest=newest, requests=requests, skipped=skipped)

    async def _search(self, text: str, since: str | None) -> _Walk:
        limit = min(self._page_limit, _STATUSES_MAX_LIMIT)
        statuses: list[Status] = []
        newest = since
        requests = skipped = offset = 0
        doing = "searching statuses"
        while requests < self._max_pages:
            query = {"q": text, "type": "statuses", "resolve": "false"}
            query |= {"limit": str(limit), "offset": str(offset)}
            if since is not None:
                query["min_id"] = since
            response = await self._get(
                "api/v2/search",
                query,
                doing=doing,
                auth_hint="token invalid or lacks read:search scope",
            )
            requests += 1
            page = _decoded(decode_search, response, doing)
            fresh = [s for s in page.items if since is None or id_order(s.id) > id_order(since)]
            statuses.extend(fresh)
            skipped += page.skipped
            newest = _newest(newest, *page.ids)
            if since is None or len(page.ids) < limit or len(fresh) < len(page.items):
                break  # older results than the position mean the rest is older still
            offset += len(page.ids)
        return _Walk(statuses=statuses, newest=newest, requests=requests, skipped=skipped)

    async def _get(
        self, path: str, params: dict[str, str], *, doing: str, auth_hint: str
    ) -> httpx.Response:
        response = await _http.request(
            self._client,
            "GET",
            self._root.join(path),
            token=self._token,
            time_limit=self._timeout,
            params=params,
        )
        _http.check(response, doing=doing, auth_hint=auth_hint, now=self._clock())
        return response


def _statuses_of(page: Page[Notification]) -> Page[Status]:
    items = [n.status for n in page.items if n.status is not None]
    return Page(items=items, ids=page.ids, skipped=page.skipped)


def _decoded(
    decode: Callable[[bytes], Page[Status]], response: httpx.Response, doing: str
) -> Page[Status]:
    try:
        return decode(response.content)
    except PayloadError as exc:
        raise TransientError(f"Mastodon sent an unreadable answer {doing}: {exc}") from exc


def _newest(current: str | None, *ids: str) -> str | None:
    candidates = [i for i in (current, *ids) if i]
    return max(candidates, key=id_order) if candidates else None


def _parse_cursor(cursor: str | None) -> _Cursor:
    if cursor is None:
        return _Cursor()
    try:
        state = _cursor_decoder.decode(cursor)
    except msgspec.DecodeError as exc:
        raise PermanentError(f"not a Mastodon cursor: {exc}") from exc
    if state.v != _CURSOR_VERSION:
        raise PermanentError(f"Mastodon cursor version {state.v} is not supported")
    return state
