"""Connector objects (sources and publishers) built from configured sources and settings.

The one place in the gateway that imports a particular connector (``connectors.rss``,
``connectors.mastodon``, ...): it knows which connector class serves which kind; the rest
of the gateway speaks ``connectors.contract`` only (tests/unit/test_import_layers.py holds
it to that). Every connector gets a
guarded client (``gateway.net_guard``): ``client_for(allow_private)`` returns the one to
use. A Bluesky account's session (its tokens) is shared by its source and its publisher
while the configuration stays the same, because logins are rate-limited hard.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import msgspec
import structlog

from connectors.bluesky import BlueskyPublisher, BlueskySession, BlueskySource
from connectors.contract import Batch, ConnectorError, Publisher, Source
from connectors.demo import DemoPublisher, DemoSource
from connectors.mastodon import MastodonPublisher, MastodonSource, instance_limits
from connectors.mastodon.publisher import DEFAULT_MAX_LENGTH
from connectors.rss import RssSource
from connectors.webhook import WebhookPublisher
from connectors.webhook.signing import verify_signature
from gateway.domain.source_errors import InvalidSource
from gateway.domain.sources import SourceRecord
from gateway.settings import Settings, demo_enabled
from gateway.sources.config import (
    BlueskyConfig,
    MastodonConfig,
    RssConfig,
    SourceConfig,
    WebhookConfig,
    parse_config,
)

log = structlog.get_logger(__name__)

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


async def server_max_length(
    record: SourceRecord, client_for: ClientFor, timeout_s: float
) -> int | None:
    """The reply length a publishing Mastodon source's server allows (None: the default,
    also when the server does not say in time)."""
    config = parse_config(record.kind, record.config)
    if not isinstance(config, MastodonConfig) or not config.publish:
        return None
    try:
        async with asyncio.timeout(timeout_s):
            limits = await instance_limits(
                config.base_url, client_for(record.allow_private), timeout_s=timeout_s
            )
    except (ConnectorError, TimeoutError) as exc:
        log.warning("mastodon_limits_unread", source=record.name, error=str(exc))
        return None
    return limits.max_length


def webhook_signature_valid(
    secret: bytes, timestamp: str, body: bytes, signature: str, *, now: float, tolerance_s: float
) -> bool:
    """Whether an inbound delivery is signed as the webhook connector signs its own."""
    return verify_signature(secret, timestamp, body, signature, now=now, tolerance_s=tolerance_s)


def demo_source(settings: Settings) -> Source:
    """The demo source (``GATEWAY_DEMO``): invented mentions of the first brand handle."""
    return DemoSource(brand_handle=settings.brand_handles[0])


def settings_publishers(settings: Settings, client: httpx.AsyncClient) -> dict[str, Publisher]:
    """The publishers the settings make: the demo's, and ``GATEWAY_WEBHOOK_URL``'s."""
    publishers: dict[str, Publisher] = {}
    if demo_enabled(settings):
        publishers["demo"] = DemoPublisher(settings.data_dir / "demo-sent.jsonl")
    if settings.webhook_url and settings.webhook_secret:
        publishers["webhook"] = WebhookPublisher(
            settings.webhook_url, settings.webhook_secret.encode("utf-8"), client
        )
    return publishers
