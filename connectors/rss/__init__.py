"""The RSS/Atom channel: a source that polls one feed with conditional GETs.

``fetch_feed`` does the I/O, ``parse_feed`` (pure, CPU-bound) turns bytes into mentions,
``RssSource`` ties them together with a cursor of validators and ids already seen.
"""

from connectors.clock import parse_retry_after
from connectors.rss.fetch import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_TIMEOUT_S,
    FetchResult,
    fetch_feed,
)
from connectors.rss.parse import DEFAULT_MAX_TEXT_CHARS, FeedError, ParsedFeed, parse_feed
from connectors.rss.source import DEFAULT_SEEN_LIMIT, RssCursor, RssSource
from connectors.rss.text import plain_text

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_MAX_TEXT_CHARS",
    "DEFAULT_SEEN_LIMIT",
    "DEFAULT_TIMEOUT_S",
    "FeedError",
    "FetchResult",
    "ParsedFeed",
    "RssCursor",
    "RssSource",
    "fetch_feed",
    "parse_feed",
    "parse_retry_after",
    "plain_text",
]
