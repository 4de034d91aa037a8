"""A ``Source`` that polls one RSS or Atom feed: fetch (I/O), then parse (pure, in a thread).

The cursor is JSON the gateway stores and hands back::

    {"v": 1, "etag": "\\"abc\\"", "modified": "Wed, 01 May 2024 12:00:00 GMT",
     "seen": ["<16 hex digits>", ...]}

``etag`` / ``modified`` are the validators of the last full answer, sent back as a
conditional GET; ``seen`` holds digests (the first 64 bits of SHA-256) of the external ids
of the entries the feed last carried, newest fetch first, then older ones up to
``seen_limit`` in all (more when the feed itself is longer). Feeds repeat the same items on
every fetch; only entries whose id is not in ``seen`` are returned. So a restart with the
stored cursor returns nothing for an unchanged feed and only the new items of a changed
one. The first fetch (cursor None) returns everything the feed holds.

A 304 answer returns no mentions and the cursor unchanged. Mentions come oldest first.
Errors: those of ``fetch_feed`` and ``parse_feed`` (``FeedError`` is a ``PermanentError``),
and ``PermanentError`` for a cursor this source did not write.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import msgspec
import structlog

from connectors.contract import Batch, PermanentError, RawMention
from connectors.rss.fetch import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_TIMEOUT_S,
    fetch_feed,
)
from connectors.rss.parse import DEFAULT_MAX_TEXT_CHARS, parse_feed

DEFAULT_SEEN_LIMIT = 500
_CURSOR_VERSION = 1

log = structlog.get_logger(__name__)


class RssCursor(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The decoded cursor (see the module docstring)."""

    v: int = _CURSOR_VERSION
    etag: str | None = None
    modified: str | None = None
    seen: list[str] = []


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(RssCursor)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RssSource:
    """A ``Source`` for the feed at ``url`` (absolute http or https), read with ``client``.

    ``name`` labels the feed in error messages and logs (default: the url). ``max_bytes``
    caps the body, ``timeout_s`` bounds the whole fetch, ``max_redirects`` the redirects
    followed. ``clock`` must return aware datetimes (naive ones are taken as UTC); it dates
    entries without a date and reads Retry-After dates.
    """

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        *,
        channel: str = "rss",
        name: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        seen_limit: int = DEFAULT_SEEN_LIMIT,
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise ValueError(f"feed url {url!r} is not a URL: {exc}") from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"feed url {url!r} must be an absolute http(s) URL")
        if max_bytes < 1 or timeout_s <= 0 or max_redirects < 0 or seen_limit < 1:
            raise ValueError("max_bytes, timeout_s and seen_limit must be positive")
        self.channel = channel
        self.url = url
        self.name = name or url
        self._label = f"feed {self.name}"
        self._client = client
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s
        self._max_redirects = max_redirects
        self._seen_limit = seen_limit
        self._max_text_chars = max_text_chars
        self._clock = clock

    async def fetch(self, cursor: str | None) -> Batch:
        state = self._decode(cursor)
        answer = await fetch_feed(
            self._client,
            self.url,
            etag=state.etag,
            modified=state.modified,
            max_bytes=self._max_bytes,
            timeout_s=self._timeout_s,
            max_redirects=self._max_redirects,
            label=self._label,
            clock=self._clock,
        )
        if answer.moved_to is not None:
            log.info("rss_feed_moved", feed=self.name, moved_to=answer.moved_to)
        if answer.not_modified:
            return Batch(mentions=[], cursor=cursor)
        parsed = await asyncio.to_thread(
            parse_feed,
            answer.content,
            url=self.url,
            base_url=answer.url,
            content_type=answer.content_type,
            channel=self.channel,
            now=self._clock(),
            max_text_chars=self._max_text_chars,
            label=self._label,
        )
        if parsed.warnings:
            log.warning("rss_feed_ill_formed", feed=self.name, problems=parsed.warnings[:5])
        fresh, seen = self._unseen(parsed.mentions, state.seen)
        next_cursor = RssCursor(etag=answer.etag, modified=answer.modified, seen=seen)
        return Batch(mentions=fresh, cursor=_encoder.encode(next_cursor).decode())

    def _unseen(
        self, mentions: list[RawMention], seen_before: list[str]
    ) -> tuple[list[RawMention], list[str]]:
        """The mentions not seen before (oldest first), and the ``seen`` list to store."""
        old = set(seen_before)
        current: dict[str, None] = {}  # ordered set of this document's digests
        fresh: list[RawMention] = []
        for mention in mentions:
            digest = _digest(mention.external_id)
            if digest in current:
                continue  # the feed repeats an entry; the first one stands
            current[digest] = None
            if digest not in old:
                fresh.append(mention)
        kept = [d for d in seen_before if d not in current]
        limit = max(self._seen_limit, len(current))
        fresh.sort(key=lambda mention: mention.created_at)
        return fresh, [*current, *kept][:limit]

    def _decode(self, cursor: str | None) -> RssCursor:
        if cursor is None:
            return RssCursor()
        try:
            state = _decoder.decode(cursor)
        except msgspec.DecodeError as exc:
            raise PermanentError(
                f"{self._label}: the stored cursor was not written by RssSource ({exc})"
            ) from exc
        if state.v != _CURSOR_VERSION:
            raise PermanentError(f"{self._label}: unknown cursor version {state.v}")
        return state


def _digest(external_id: str) -> str:
    return hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
