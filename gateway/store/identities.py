"""Customer identities as the store knows them: each channel's scheme (from its configured
sources), and any spelling a person types turned into the canonical identity, resolving a
Bluesky handle to its DID through the stored mentions."""

from __future__ import annotations

from urllib.parse import urlsplit

from gateway.domain.identity import InvalidIdentity, Scheme, canonical_id, is_did, scheme_for
from gateway.store.connection import Conn


async def channel_scheme(conn: Conn, channel: str) -> Scheme:
    rows = await conn.fetch(
        "SELECT kind, config ->> 'base_url' AS base_url FROM sources WHERE channel = $1",
        channel,
    )
    return scheme_for(channel, [(r["kind"], _host(r["base_url"])) for r in rows])


async def resolve(conn: Conn, *, channel: str, value: str, field: str = "handle") -> str:
    """The canonical identity of ``value`` typed for ``channel``; ``InvalidIdentity`` when
    it cannot be one (or is a Bluesky handle no stored mention resolves)."""
    scheme = await channel_scheme(conn, channel)
    canonical = canonical_id(scheme, value, field=field)
    if scheme.kind != "bluesky" or is_did(canonical):
        return canonical
    found = await bluesky_did(conn, channel=channel, handle=canonical)
    if found is None:
        raise InvalidIdentity(
            f"{field} {canonical!r}: no stored mention on channel {channel!r} comes from this "
            "Bluesky handle, so its DID is unknown; give the account's DID (did:plc:...)"
        )
    return found


async def bluesky_did(conn: Conn, *, channel: str, handle: str) -> str | None:
    """The identity of the latest stored mention by ``handle`` (a handle moves between
    accounts; the latest owner wins)."""
    value: str | None = await conn.fetchval(
        "SELECT customer_id FROM mentions WHERE channel = $1"
        " AND lower(author_handle) = ANY($2::text[]) AND customer_id IS NOT NULL"
        " ORDER BY id DESC LIMIT 1",
        channel,
        [handle, f"@{handle}"],
    )
    return value


async def candidates(conn: Conn, generic: str) -> list[str]:
    """Canonical identities a spelling may mean on any channel (export filters take no
    channel): ``generic`` itself (``canonical_id(ANY_CHANNEL, ...)``), and the identities
    of the stored mentions by that handle (a Bluesky handle gives its DID)."""
    rows = await conn.fetch(
        "SELECT DISTINCT customer_id FROM mentions"
        " WHERE lower(author_handle) = ANY($1::text[]) AND customer_id IS NOT NULL",
        [generic, f"@{generic}"],
    )
    return sorted({generic, *(r["customer_id"] for r in rows)})


def _host(base_url: str | None) -> str | None:
    if not base_url:
        return None
    parts = urlsplit(base_url)
    if not parts.hostname:
        return None
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
