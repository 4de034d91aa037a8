"""The Bluesky channel: mentions from notifications and search, replies as thread posts.

``BlueskySession`` logs in with an app password and keeps the tokens fresh;
``BlueskySource`` and ``BlueskyPublisher`` share one session and an injected client.
"""

from connectors.bluesky.cursor import SourceCursor, decode_cursor, encode_cursor
from connectors.bluesky.mapping import notifications_page, search_page
from connectors.bluesky.publisher import MAX_GRAPHEMES, MAX_UTF8_BYTES, BlueskyPublisher, check_text
from connectors.bluesky.rkey import reply_rkey
from connectors.bluesky.session import BlueskySession
from connectors.bluesky.source import BlueskySource
from connectors.bluesky.xrpc import XrpcPermanentError, XrpcTransientError
from connectors.graphemes import grapheme_count

__all__ = [
    "MAX_GRAPHEMES",
    "MAX_UTF8_BYTES",
    "BlueskyPublisher",
    "BlueskySession",
    "BlueskySource",
    "SourceCursor",
    "XrpcPermanentError",
    "XrpcTransientError",
    "check_text",
    "decode_cursor",
    "encode_cursor",
    "grapheme_count",
    "notifications_page",
    "reply_rkey",
    "search_page",
]
