"""Configured sources, their health, the poll lease, and recent inbound webhook signatures.

Times that decide scheduling (``next_poll_at``, the lease) are computed with the
database's clock, so gateway instances whose clocks differ still agree.
"""

from __future__ import annotations

import asyncpg

from gateway.domain.sources import NewSource, PollSlot, SealedSecret, SourceHealth, SourceRecord
from gateway.store.connection import Conn
from gateway.store.errors import Conflict, NotFound

_COLUMNS = (
    "name, kind, channel, config, secret_env, secret_ciphertext IS NOT NULL AS secret_stored,"
    " allow_private, interval_s, enabled, version, created_by, created_at, updated_at,"
    " last_success_at, last_error_at, last_error, items_last, items_total,"
    " consecutive_failures, next_poll_at"
)
_ERROR_CHARS = 1000


def _record(row: asyncpg.Record) -> SourceRecord:
    secret = "stored" if row["secret_stored"] else None
    if row["secret_env"] is not None:
        secret = f"env:{row['secret_env']}"
    return SourceRecord(
        name=row["name"],
        kind=row["kind"],
        channel=row["channel"],
        config=dict(row["config"]),
        secret=secret,
        allow_private=row["allow_private"],
        interval_s=row["interval_s"],
        enabled=row["enabled"],
        version=row["version"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        health=SourceHealth(
            last_success_at=row["last_success_at"],
            last_error_at=row["last_error_at"],
            last_error=row["last_error"],
            items_last=row["items_last"],
            items_total=row["items_total"],
            consecutive_failures=row["consecutive_failures"],
            next_poll_at=row["next_poll_at"],
        ),
    )


async def insert_source(conn: Conn, new: NewSource) -> SourceRecord:
    try:
        row = await conn.fetchrow(
            "INSERT INTO sources (name, kind, channel, config, secret_env, secret_ciphertext,"
            " secret_key_id, allow_private, interval_s, enabled, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            f" RETURNING {_COLUMNS}",
            new.name,
            new.kind,
            new.channel,
            new.config,
            new.secret.env,
            new.secret.ciphertext,
            new.secret.key_id,
            new.allow_private,
            new.interval_s,
            new.enabled,
            new.created_by,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"a source named {new.name!r} already exists") from None
    assert row is not None
    return _record(row)


async def get_source(conn: Conn, name: str) -> SourceRecord:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM sources WHERE name = $1", name)
    if row is None:
        raise NotFound(f"no source named {name!r}; GET /v1/sources lists them")
    return _record(row)


async def list_sources(conn: Conn) -> list[SourceRecord]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM sources ORDER BY name")
    return [_record(r) for r in rows]


async def sealed_secret(conn: Conn, name: str) -> SealedSecret:
    row = await conn.fetchrow(
        "SELECT secret_env, secret_ciphertext, secret_key_id FROM sources WHERE name = $1", name
    )
    if row is None:
        raise NotFound(f"no source named {name!r}")
    return SealedSecret(
        env=row["secret_env"],
        ciphertext=bytes(row["secret_ciphertext"]) if row["secret_ciphertext"] else None,
        key_id=row["secret_key_id"],
    )


async def publishing_source(conn: Conn, channel: str, *, other_than: str) -> str | None:
    """The name of another source that replies on ``channel``, if any."""
    value = await conn.fetchval(
        "SELECT name FROM sources WHERE channel = $1 AND name <> $2 AND ("
        " (kind IN ('mastodon', 'bluesky') AND coalesce((config ->> 'publish')::boolean, true))"
        " OR (kind = 'webhook' AND config ->> 'reply_url' IS NOT NULL))"
        " ORDER BY name LIMIT 1",
        channel,
        other_than,
    )
    return str(value) if value is not None else None


async def update_source(
    conn: Conn,
    name: str,
    *,
    enabled: bool | None,
    interval_s: float | None,
    allow_private: bool | None,
) -> SourceRecord:
    """Change what an admin may change; a changed source is polled again soon."""
    row = await conn.fetchrow(
        "UPDATE sources SET"
        " enabled = coalesce($2, enabled),"
        " interval_s = coalesce($3, interval_s),"
        " allow_private = coalesce($4, allow_private),"
        " version = version + 1, updated_at = now(),"
        " consecutive_failures = CASE WHEN $2 THEN 0 ELSE consecutive_failures END,"
        " next_poll_at = CASE WHEN $2 OR $4 OR next_poll_at IS NULL THEN NULL"
        "   WHEN $3::double precision IS NOT NULL"
        "   THEN least(next_poll_at, now() + make_interval(secs => $3))"
        "   ELSE next_poll_at END"
        f" WHERE name = $1 RETURNING {_COLUMNS}",
        name,
        enabled,
        interval_s,
        allow_private,
    )
    if row is None:
        raise NotFound(f"no source named {name!r}")
    return _record(row)


async def replace_secret(conn: Conn, name: str, secret: SealedSecret) -> SourceRecord:
    """Store a new secret for ``name`` (the old one is overwritten, never returned)."""
    row = await conn.fetchrow(
        "UPDATE sources SET secret_env = $2, secret_ciphertext = $3, secret_key_id = $4,"
        " version = version + 1, updated_at = now(), next_poll_at = NULL"
        f" WHERE name = $1 RETURNING {_COLUMNS}",
        name,
        secret.env,
        secret.ciphertext,
        secret.key_id,
    )
    if row is None:
        raise NotFound(f"no source named {name!r}")
    return _record(row)


async def delete_source(conn: Conn, name: str) -> SourceRecord:
    """Remove the source and its cursor (a new source of that name starts afresh)."""
    row = await conn.fetchrow(f"DELETE FROM sources WHERE name = $1 RETURNING {_COLUMNS}", name)
    if row is None:
        raise NotFound(f"no source named {name!r}")
    await conn.execute("DELETE FROM source_cursors WHERE source = $1", name)
    await conn.execute("DELETE FROM webhook_deliveries WHERE source = $1", name)
    return _record(row)


async def poll_slot(conn: Conn, name: str) -> PollSlot | None:
    """When ``name`` may be polled next (None: the source is gone)."""
    row = await conn.fetchrow(
        "SELECT version, enabled, greatest(0, extract(epoch FROM greatest("
        " coalesce(next_poll_at, now()), coalesce(lease_until, now())) - now()))::float8"
        " AS wait_s FROM sources WHERE name = $1",
        name,
    )
    if row is None:
        return None
    return PollSlot(version=row["version"], enabled=row["enabled"], wait_s=row["wait_s"])


async def claim_poll(conn: Conn, name: str, *, version: int, owner: str, lease_s: float) -> bool:
    """Take the poll lease if the source (at ``version``) is due and nobody holds it."""
    value = await conn.fetchval(
        "UPDATE sources SET lease_owner = $3, lease_until = now() + make_interval(secs => $4)"
        " WHERE name = $1 AND version = $2 AND enabled"
        " AND (next_poll_at IS NULL OR next_poll_at <= now())"
        " AND (lease_until IS NULL OR lease_until <= now())"
        " RETURNING 1",
        name,
        version,
        owner,
        lease_s,
    )
    return value is not None


async def record_success(
    conn: Conn, name: str, *, owner: str, items: int, next_in_s: float
) -> bool:
    """Record a good poll and release the lease; False if the lease was lost meanwhile."""
    value = await conn.fetchval(
        "UPDATE sources SET last_success_at = now(), items_last = $3::integer,"
        " items_total = items_total + $3::integer, consecutive_failures = 0,"
        " next_poll_at = now() + make_interval(secs => $4),"
        " lease_owner = NULL, lease_until = NULL"
        " WHERE name = $1 AND lease_owner = $2 RETURNING 1",
        name,
        owner,
        items,
        next_in_s,
    )
    return value is not None


async def record_failure(
    conn: Conn, name: str, *, owner: str, error: str, next_in_s: float
) -> int | None:
    """Record a failed poll and release the lease; the new failure count (None: lease lost)."""
    value = await conn.fetchval(
        "UPDATE sources SET last_error_at = now(), last_error = $3,"
        " consecutive_failures = consecutive_failures + 1,"
        " next_poll_at = now() + make_interval(secs => $4),"
        " lease_owner = NULL, lease_until = NULL"
        " WHERE name = $1 AND lease_owner = $2 RETURNING consecutive_failures",
        name,
        owner,
        error[:_ERROR_CHARS],
        next_in_s,
    )
    return int(value) if value is not None else None


async def failures(conn: Conn, name: str) -> int:
    value = await conn.fetchval("SELECT consecutive_failures FROM sources WHERE name = $1", name)
    return int(value or 0)


async def release_lease(conn: Conn, name: str, *, owner: str) -> None:
    await conn.execute(
        "UPDATE sources SET lease_owner = NULL, lease_until = NULL"
        " WHERE name = $1 AND lease_owner = $2",
        name,
        owner,
    )


async def record_delivery(conn: Conn, name: str, *, items: int) -> None:
    """An inbound webhook delivery was accepted."""
    await conn.execute(
        "UPDATE sources SET last_success_at = now(), items_last = $2::integer,"
        " items_total = items_total + $2::integer, consecutive_failures = 0 WHERE name = $1",
        name,
        items,
    )


async def record_refused_delivery(conn: Conn, name: str, *, error: str) -> None:
    """An inbound webhook delivery was refused (bad signature, bad body)."""
    await conn.execute(
        "UPDATE sources SET last_error_at = now(), last_error = $2,"
        " consecutive_failures = consecutive_failures + 1 WHERE name = $1",
        name,
        error[:_ERROR_CHARS],
    )


async def remember_delivery(conn: Conn, source: str, signature: str, *, keep_s: float) -> bool:
    """Note a delivery's signature digest; False if it was seen within ``keep_s``."""
    await conn.execute(
        "DELETE FROM webhook_deliveries WHERE received_at < now() - make_interval(secs => $1)",
        keep_s,
    )
    value = await conn.fetchval(
        "INSERT INTO webhook_deliveries (source, signature) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        source,
        signature,
    )
    return value is not None


async def forget_delivery(conn: Conn, source: str, signature: str) -> None:
    """Drop a delivery's digest again (it was not ingested, so it may be resent as is)."""
    await conn.execute(
        "DELETE FROM webhook_deliveries WHERE source = $1 AND signature = $2", source, signature
    )
