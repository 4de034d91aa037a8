"""Publishers built from configured sources, to merge into the runtime's publishers.

A Mastodon or Bluesky source with ``publish`` (the default) replies on its channel as the
same account; a webhook source with ``reply_url`` delivers its channel's replies there,
signed with its secret. A Mastodon publisher's length limit is read from the instance
(``GET /api/v2/instance``) when it answers within a few seconds, else Mastodon's default
(500). A source whose publisher cannot be built (its ``env:`` variable unset, its key
changed) is left out with a warning: the release worker then fails its replies as having
no publisher, and the rest of the gateway runs.
"""

from __future__ import annotations

import asyncpg
import structlog

from connectors.contract import Publisher
from gateway.domain.source_errors import SourceError
from gateway.secrets import Secrets
from gateway.sources.build import ClientFor, Connectors, server_max_length
from gateway.store import sources as store

log = structlog.get_logger(__name__)

LIMITS_TIMEOUT_S = 5.0


async def configured_publishers(
    pool: asyncpg.Pool,
    client_for: ClientFor,
    secrets: Secrets,
    *,
    connectors: Connectors | None = None,
    limits_timeout_s: float = LIMITS_TIMEOUT_S,
) -> dict[str, Publisher]:
    """Channel → publisher for every configured source that publishes.

    ``client_for(allow_private)`` gives the guarded client each publisher keeps (the
    caller owns and closes it). Pass the scheduler's ``connectors`` to share Bluesky
    sessions with the sources.
    """
    builder = connectors or Connectors(client_for)
    async with pool.acquire() as conn:
        records = await store.list_sources(conn)
        sealed = {r.name: await store.sealed_secret(conn, r.name) for r in records}
    publishers: dict[str, Publisher] = {}
    for record in records:
        try:
            secret = secrets.resolve(record.name, sealed[record.name])
            max_length = await server_max_length(record, client_for, limits_timeout_s)
            publisher = builder.publisher(record, secret, max_length=max_length)
        except SourceError as exc:
            log.warning("source_publisher_skipped", source=record.name, error=str(exc))
            continue
        if publisher is None:
            continue
        if record.channel in publishers:
            log.warning("source_publisher_duplicate", source=record.name, channel=record.channel)
            continue
        publishers[record.channel] = publisher
        log.info("source_publisher_built", source=record.name, channel=record.channel)
    return publishers
