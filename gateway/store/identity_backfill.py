"""Migration 0009's Python step: existing rows get the canonical customer identity.

Runs in the migration's transaction right after ``0009_identity.sql``, and is idempotent
(the canonical form of a canonical identity is itself). In order:

1. mentions: ``customer_id`` from the author handle (and, from connectors, the Mastodon
   instance or the Bluesky DID in ``channel_data``); erased mentions keep none.
2. proposals: ``customer_handle`` becomes the identity of the mention answered.
3. opt-outs: the handle becomes canonical; of two active opt-outs that are now one
   customer, the later is closed as a duplicate (the earlier stays in force).
4. subjects: the handle becomes canonical; of two live subjects that are now one customer
   the later becomes an alias of the earlier (it keeps its key for its sealed events).

A stored handle that the rules refuse (say, white space on a Mastodon channel) keeps a
lenient form (cleaned, lower-cased) so no row loses its customer.
"""

from __future__ import annotations

import json
from typing import Any

import structlog

from gateway.domain.identity import (
    InvalidIdentity,
    Scheme,
    canonical_id,
    clean,
    is_did,
    mention_identity,
)
from gateway.store.connection import Conn
from gateway.store.identities import channel_scheme

log = structlog.get_logger(__name__)

_REASON = "migration 0009_identity: duplicate spelling of an active opt-out"


async def backfill_identities(conn: Conn) -> dict[str, int]:
    schemes: dict[str, Scheme] = {}

    async def scheme(channel: str) -> Scheme:
        if channel not in schemes:
            schemes[channel] = await channel_scheme(conn, channel)
        return schemes[channel]

    counts = {
        "mentions": await _mentions(conn, scheme),
        "proposals": await _proposals(conn),
        "opt_outs": await _opt_outs(conn, scheme),
        "subjects": await _subjects(conn, scheme),
    }
    log.info("identities_backfilled", **counts)
    return counts


async def _mentions(conn: Conn, scheme: Any) -> int:
    changed = 0
    last = 0
    while True:
        rows = await conn.fetch(
            "SELECT id, channel, author_handle, channel_data, customer_id FROM mentions"
            " WHERE id > $1 AND author_handle NOT LIKE 'erased:%' ORDER BY id LIMIT 5000",
            last,
        )
        if not rows:
            return changed
        updates = []
        for row in rows:
            data = _json_object(row["channel_data"])
            try:
                identity = mention_identity(
                    await scheme(row["channel"]), row["channel"], row["author_handle"], data
                ).id
            except InvalidIdentity:
                identity = _lenient(row["author_handle"])
            if identity != row["customer_id"]:
                updates.append((row["id"], identity))
        if updates:
            await conn.executemany("UPDATE mentions SET customer_id = $2 WHERE id = $1", updates)
        changed += len(updates)
        last = rows[-1]["id"]


async def _proposals(conn: Conn) -> int:
    status = await conn.execute(
        "UPDATE proposals p SET customer_handle = m.customer_id FROM mentions m"
        " WHERE m.id = p.mention_id AND m.customer_id IS NOT NULL"
        " AND p.customer_handle IS DISTINCT FROM m.customer_id"
        " AND p.customer_handle NOT LIKE 'erased:%'"
    )
    return int(status.split()[-1])


async def _canonical(conn: Conn, scheme: Scheme, channel: str, handle: str) -> str:
    try:
        canonical = canonical_id(scheme, handle)
    except InvalidIdentity:
        return _lenient(handle)
    if scheme.kind == "bluesky" and not is_did(canonical):
        found = await conn.fetchval(
            "SELECT customer_id FROM mentions WHERE channel = $1"
            " AND lower(author_handle) = ANY($2::text[]) AND customer_id IS NOT NULL"
            " ORDER BY id DESC LIMIT 1",
            channel,
            [canonical, f"@{canonical}"],
        )
        return str(found) if found else canonical
    return canonical


async def _opt_outs(conn: Conn, scheme: Any) -> int:
    rows = await conn.fetch(
        "SELECT id, channel, handle FROM opt_outs WHERE removed_at IS NULL"
        " AND handle NOT LIKE 'erased:%' ORDER BY id"
    )
    seen: set[tuple[str, str]] = set()
    duplicates: list[tuple[int, str]] = []
    renames: list[tuple[int, str]] = []
    for row in rows:
        canonical = await _canonical(
            conn, await scheme(row["channel"]), row["channel"], row["handle"]
        )
        if (row["channel"], canonical) in seen:
            duplicates.append((row["id"], _REASON))
            continue
        seen.add((row["channel"], canonical))
        if canonical != row["handle"]:
            renames.append((row["id"], canonical))
    # Duplicates close first, so no rename meets an active row with the same identity.
    await conn.executemany(
        "UPDATE opt_outs SET removed_at = now(), removed_by = $2 WHERE id = $1", duplicates
    )
    await conn.executemany("UPDATE opt_outs SET handle = $2 WHERE id = $1", renames)
    return len(duplicates) + len(renames)


async def _subjects(conn: Conn, scheme: Any) -> int:
    rows = await conn.fetch(
        "SELECT id, channel, handle, alias_of FROM subjects WHERE erased_at IS NULL"
        " AND handle IS NOT NULL ORDER BY alias_of IS NOT NULL, created_at, id"
    )
    first: dict[tuple[str, str], Any] = {}
    aliases: list[tuple[Any, Any]] = []
    renames: list[tuple[Any, str]] = []
    for row in rows:
        canonical = await _canonical(
            conn, await scheme(row["channel"]), row["channel"], row["handle"]
        )
        primary = first.setdefault((row["channel"], canonical), row["id"])
        if primary != row["id"] and row["alias_of"] is None:
            aliases.append((row["id"], primary))
        if canonical != row["handle"]:
            renames.append((row["id"], canonical))
    # Aliases first: they leave the unique index before any rename can collide.
    await conn.executemany("UPDATE subjects SET alias_of = $2 WHERE id = $1", aliases)
    await conn.executemany("UPDATE subjects SET handle = $2 WHERE id = $1", renames)
    return len(aliases) + len(renames)


def _json_object(value: Any) -> dict[str, Any]:
    """jsonb as the migration connection returns it (text: it has no codecs) or a dict."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _lenient(handle: str) -> str:
    return " ".join(clean(handle).split()).lower() or handle.strip().lower()
