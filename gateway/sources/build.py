"""Connector objects (sources and publishers) built from configured sources.

The one place that knows which connector class serves which kind. Every connector gets a
guarded client (``gateway.net_guard``): ``client_for(allow_private)`` returns the one to
use. A Bluesky account's session (its tokens) is shared by its source and its publisher
while the configuration stays the same, because logins are rate-limited hard.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import msgspec

from connectors.bluesky import BlueskyPublisher, BlueskySession, BlueskySource
from connectors.contract import Batch, Publisher, Source
from connectors.mastodon import MastodonPublisher, MastodonSource
from connectors.mastodon.publisher import DEFAULT_MAX_LENGTH
from connectors.rss import RssSource
from connectors.webhook import WebhookPublisher
from gateway.domain.sources import SourceRecord
from gateway.sources.config import (
    BlueskyConfig,
    MastodonConfig,
    RssConfig,
    SourceConfig,
    WebhookConfig,
    parse_config,
)
from gateway.sources.errors import InvalidSource

ClientFor = Callable[[bool], httpx.AsyncClient]


class Connectors:
    """Builds the connector objects of configured sources.

    ``timeout_s`` bounds each network operation of the connectors built here.
    """

    def __init__(self, client_for: ClientFor, *, timeout_s: float = 15.0) -> None:
        self._client_for = client_for
        self._timeout_s = timeout_s
        self._sessions: dict[tuple[str, int], BlueskySession] = {}

    def source(self, record: SourceRecord, secret: str | None) -> Source:
        """The ``Source`` polling ``record``; ``InvalidSource`` if its kind is not polled."""
        config = parse_config(record.kind, record.config)
        client = self._client_for(record.allow_private)
        try:
            return self._source(record, config, secret, client)
        except ValueError as exc:  # the connectors check their arguments
            raise InvalidSource(f"source {record.name!r}: {exc}") from None

    def publisher(
        self, record: SourceRecord, secret: str | None, *, max_length: int | None = None
    ) -> Publisher | None:
        """The channel's publisher, if ``record`` is configured to publish; else None."""
        config = parse_config(record.kind, record.config)
        client = self._client_for(record.allow_private)
        try:
            return self._publisher(record, config, secret, client, max_length)
        except ValueError as exc:
            raise InvalidSource(f"source {record.name!r}: {exc}") from None

    def _source(
        self,
        record: SourceRecord,
        config: SourceConfig,
        secret: str | None,
        client: httpx.AsyncClient,
    ) -> Source:
        if isinstance(config, RssConfig):
            return RssSource(
                config.url,
                client,
                channel=record.channel,
                name=record.name,
                timeout_s=self._timeout_s,
            )
        if isinstance(config, MastodonConfig):
            return MastodonSource(
                config.base_url,
                _required(record, secret),
                client,
                brand_account_id=config.brand_account_id,
                query=config.query,
                hashtag=config.hashtag,
                channel=record.channel,
                timeout_s=self._timeout_s,
            )
        if isinstance(config, BlueskyConfig):
            session = self._session(record, config, secret, client)
            bluesky = BlueskySource(session, client, query=config.query)
            return bluesky if bluesky.channel == record.channel else _OnChannel(bluesky, record)
        raise InvalidSource(f"source {record.name!r} is a webhook: it is pushed to, not polled")

    def _publisher(
        self,
        record: SourceRecord,
        config: SourceConfig,
        secret: str | None,
        client: httpx.AsyncClient,
        max_length: int | None,
    ) -> Publisher | None:
        if isinstance(config, MastodonConfig) and config.publish:
            return MastodonPublisher(
                config.base_url,
                _required(record, secret),
                client,
                channel=record.channel,
                max_length=max_length or DEFAULT_MAX_LENGTH,
                max_visibility=config.max_visibility,
                timeout_s=self._timeout_s,
            )
        if isinstance(config, BlueskyConfig) and config.publish:
            session = self._session(record, config, secret, client)
            return BlueskyPublisher(session, client, channel=record.channel)
        if isinstance(config, WebhookConfig) and config.reply_url:
            return WebhookPublisher(
                config.reply_url,
                _required(record, secret).encode("utf-8"),
                client,
                channel=record.channel,
                timeout_s=self._timeout_s,
            )
        return None

    def _session(
        self,
        record: SourceRecord,
        config: BlueskyConfig,
        secret: str | None,
        client: httpx.AsyncClient,
    ) -> BlueskySession:
        key = (record.name, record.version)
        session = self._sessions.get(key)
        if session is None:
            session = BlueskySession(
                config.service,
                config.identifier,
                _required(record, secret),
                client,
                timeout_s=self._timeout_s,
            )
            self._sessions = {k: v for k, v in self._sessions.items() if k[0] != record.name}
            self._sessions[key] = session
        return session


def _required(record: SourceRecord, secret: str | None) -> str:
    if not secret:
        raise InvalidSource(f"source {record.name!r} has no secret; add it again with one")
    return secret


class _OnChannel:
    """A source whose mentions are put on the configured channel (for connectors that
    always name their own)."""

    def __init__(self, inner: Source, record: SourceRecord) -> None:
        self._inner = inner
        self.channel = record.channel

    async def fetch(self, cursor: str | None) -> Batch:
        batch = await self._inner.fetch(cursor)
        mentions = [msgspec.structs.replace(m, channel=self.channel) for m in batch.mentions]
        return Batch(mentions=mentions, cursor=batch.cursor)
