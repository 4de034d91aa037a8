"""The contract between the gateway and the outside world.

Connectors never import ``gateway``. A ``Source`` fetches mentions from a channel from a
cursor the gateway stores; a ``Publisher`` sends one reply and returns a receipt. Both get
an injected ``httpx.AsyncClient`` where they talk HTTP.

Errors::

    ConnectorError            anything a connector reports
    ├── TransientError        try again later (timeouts, 5xx, 429); retry_after in seconds
    └── PermanentError        retrying cannot help (4xx other than 429, rejected content)
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import msgspec

from connectors.graphemes import grapheme_count

# How a channel counts a reply's length: code points, or user-perceived characters.
LengthUnit = Literal["characters", "graphemes"]


class ConnectorError(Exception):
    """Root of every error a connector raises."""


class TransientError(ConnectorError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    pass


class RawAuthor(msgspec.Struct, frozen=True, kw_only=True):
    handle: str
    display_name: str = ""
    bot: bool = False  # the channel marks the account as automated
    description: str = ""  # profile note / bio as plain text (where "#nobot" is written)


class RawMention(msgspec.Struct, frozen=True, kw_only=True):
    """A mention as a channel delivered it, before classification."""

    channel: str
    external_id: str
    url: str | None
    author: RawAuthor
    text: str
    created_at: str  # RFC 3339
    in_reply_to: str | None = None
    thread_id: str | None = None
    addressed: bool | None = None  # the channel itself says it was addressed to us (DM, reply)
    is_direct: bool = False  # a private/direct message to the brand
    visibility: str | None = None  # the channel's audience for the post (Mastodon: public, ...)
    # What the channel's publisher needs to reply (status id, Bluesky uri/cid and root ref):
    # stored with the mention and handed back as OutgoingReply.channel_data. JSON values only.
    channel_data: dict[str, Any] = {}


class Batch(msgspec.Struct, frozen=True, kw_only=True):
    mentions: list[RawMention]
    cursor: str | None  # opaque; handed back on the next fetch


class OutgoingReply(msgspec.Struct, frozen=True, kw_only=True):
    channel: str
    idempotency_key: str  # the same for every attempt of one release
    text: str
    in_reply_to: str  # external id of the mention answered
    in_reply_to_url: str | None
    recipient: str  # the customer's handle
    thread_id: str | None = None
    metadata: dict[str, Any] = {}
    visibility: str | None = None  # the customer's post's visibility; reply no wider
    channel_data: dict[str, Any] = {}  # the answered mention's RawMention.channel_data


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    channel: str
    external_id: str  # the id the channel gave the reply
    url: str | None = None
    delivered_at: str  # RFC 3339
    duplicate: bool = False  # the channel had already seen this idempotency key


class ChannelLimits(msgspec.Struct, frozen=True, kw_only=True):
    """What a channel allows; passed to the policy so it can refuse before release."""

    max_length: int | None = None  # in length_unit
    length_unit: LengthUnit = "characters"  # "graphemes": Bluesky
    max_bytes: int | None = None  # UTF-8 bytes, where the channel also limits those (Bluesky)
    rate_budget: str | None = None  # human-readable, e.g. "300 requests / 5 min"

    def length(self, text: str) -> int:
        """``text``'s length in this channel's unit (an emoji family is one grapheme)."""
        return grapheme_count(text) if self.length_unit == "graphemes" else len(text)


class PublishBudget(msgspec.Struct, frozen=True, kw_only=True):
    """How hard the release worker may use a channel: at most ``requests`` publishes in any
    ``window_s`` seconds (the channel's published rate budget), and at most
    ``concurrency`` in flight at once (None: the worker's default)."""

    requests: int | None = None  # None: no rate budget
    window_s: float = 1.0
    concurrency: int | None = None


class Source(Protocol):
    channel: str

    async def fetch(self, cursor: str | None) -> Batch: ...


class Publisher(Protocol):
    """Sends one reply. Publishers may also expose ``limits: ChannelLimits`` and
    ``budget: PublishBudget``."""

    channel: str

    async def publish(self, reply: OutgoingReply) -> Receipt: ...
