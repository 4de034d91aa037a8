"""The Bluesky source: mentions of and replies to the brand account, and optionally a search.

Each fetch reads, newest first, ``app.bsky.notification.listNotifications`` (only the
``reasons`` wanted become mentions; the others still move the mark) and, when ``query`` is
set, ``app.bsky.feed.searchPosts`` with ``sort=latest``, until it reaches what earlier
fetches handed over (see ``connectors.bluesky.cursor`` for the cursor and its catch-up).
A post found by both paths in one fetch is returned once (the notification's); across
fetches the gateway's dedupe on (channel, external_id) absorbs repeats. Mentions come
oldest first. The source never marks notifications as seen (the account's app keeps its
unread count). Search marks use ``indexedAt``; a post whose search position is older
than its indexing (a back-dated ``createdAt``) can be missed by search, never by
notifications.

Errors: ``XrpcTransientError``/``XrpcPermanentError`` from the session (see
``connectors.bluesky.xrpc``); an answer that is not a page is transient; a cursor this
source did not write is permanent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import httpx
import structlog

from connectors.bluesky.cursor import (
    Mark,
    PathState,
    Pending,
    SourceCursor,
    decode_cursor,
    encode_cursor,
    newest,
)
from connectors.bluesky.mapping import (
    CHANNEL,
    MalformedPage,
    Page,
    notifications_page,
    search_page,
)
from connectors.bluesky.session import BlueskySession, Params
from connectors.bluesky.xrpc import XrpcPermanentError, XrpcTransientError
from connectors.contract import Batch, RawMention

log = structlog.get_logger(__name__)

_NOTIFICATIONS = "app.bsky.notification.listNotifications"
_SEARCH = "app.bsky.feed.searchPosts"
_MAX_PAGE_LIMIT = 100  # both lexicons' maximum

PageReader = Callable[[str | None], Awaitable[Page]]


@dataclass
class _Walk:
    state: PathState
    mentions: list[RawMention] = field(default_factory=list)
    skipped: int = 0
    pages: int = 0


class BlueskySource:
    """A ``Source`` for one Bluesky account (the ``session``'s); calls go through ``client``.

    ``reasons``: the notification reasons that are mentions. ``page_limit`` (1-100) items
    per request, at most ``max_pages`` requests per path per fetch.
    """

    channel = CHANNEL

    def __init__(
        self,
        session: BlueskySession,
        client: httpx.AsyncClient,
        *,
        query: str | None = None,
        reasons: Iterable[str] = ("mention", "reply"),
        page_limit: int = 50,
        max_pages: int = 5,
    ) -> None:
        if not 1 <= page_limit <= _MAX_PAGE_LIMIT:
            raise ValueError(f"page_limit must be 1-{_MAX_PAGE_LIMIT}")
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        self._reasons = frozenset(reasons)
        if not self._reasons:
            raise ValueError("reasons must not be empty")
        self._session = session
        self._client = client
        self._query = (query.strip() or None) if query is not None else None
        self._page_limit = page_limit
        self._max_pages = max_pages

    async def fetch(self, cursor: str | None) -> Batch:
        state = decode_cursor(cursor)
        brand = await self._session.ensure()
        seen: set[str] = set()
        notes = await self._walk(state.notifications, self._notifications(brand), seen)
        search = _Walk(state=PathState())
        if self._query is not None:
            start = state.search if state.query == self._query else PathState()
            search = await self._walk(start, self._search(brand, self._query), seen)
        mentions = sorted(
            notes.mentions + search.mentions, key=lambda m: (m.created_at, m.external_id)
        )
        log.info(
            "bluesky_fetched",
            mentions=len(mentions),
            skipped=notes.skipped + search.skipped,
            pages=notes.pages + search.pages,
            catching_up=notes.state.pending is not None or search.state.pending is not None,
        )
        new = SourceCursor(query=self._query, notifications=notes.state, search=search.state)
        return Batch(mentions=mentions, cursor=encode_cursor(new))

    async def _walk(self, state: PathState, read: PageReader, seen: set[str]) -> _Walk:
        """Read pages down to ``state.mark``; return the new state and the mentions."""
        pending = state.pending
        walk = _Walk(state=state)
        # The mark to store: grows from the old one, so uris at the same instant are kept.
        top: Mark | None = pending.mark if pending is not None else state.mark
        page_cursor = pending.page if pending is not None else None
        for _ in range(self._max_pages):
            try:
                page = await read(page_cursor)
            except XrpcPermanentError:
                if pending is None or walk.pages:
                    raise
                # The API no longer takes the catch-up cursor: start again from the top.
                log.warning("bluesky_catch_up_abandoned")
                return await self._walk(PathState(mark=state.mark), read, seen)
            walk.pages += 1
            walk.skipped += page.skipped
            reached = False
            for entry in page.entries:
                if state.mark is not None and state.mark.covers(entry):
                    reached = True
                    continue
                if pending is None:
                    top = newest(top, entry)
                if entry.mention is not None and entry.uri not in seen:
                    seen.add(entry.uri)
                    walk.mentions.append(entry.mention)
            if reached or page.cursor is None or not page.entries:
                walk.state = PathState(mark=top or state.mark)
                return walk
            page_cursor = page.cursor
        if state.mark is None or page_cursor is None:  # a first fetch does not catch up
            walk.state = PathState(mark=top)
        else:
            walk.state = PathState(mark=state.mark, pending=Pending(page=page_cursor, mark=top))
        return walk

    def _notifications(self, brand: str) -> PageReader:
        async def read(page_cursor: str | None) -> Page:
            body = await self._get(_NOTIFICATIONS, {}, page_cursor)
            return notifications_page(body, brand_did=brand, reasons=self._reasons)

        return _translated(read)

    def _search(self, brand: str, query: str) -> PageReader:
        async def read(page_cursor: str | None) -> Page:
            body = await self._get(_SEARCH, {"q": query, "sort": "latest"}, page_cursor)
            return search_page(body, brand_did=brand)

        return _translated(read)

    async def _get(self, nsid: str, params: dict[str, str | int], page: str | None) -> bytes:
        query: Params = {**params, "limit": self._page_limit}
        if page is not None:
            query = {**query, "cursor": page}
        response = await self._session.authorized_request(
            "GET", nsid, params=query, client=self._client
        )
        return response.content


def _translated(read: PageReader) -> PageReader:
    async def translated(page_cursor: str | None) -> Page:
        try:
            return await read(page_cursor)
        except MalformedPage as exc:
            raise XrpcTransientError(str(exc)) from None

    return translated
