"""Console sessions and failed sign-ins (migration 0014). Session ids are stored hashed."""

from __future__ import annotations

from datetime import datetime

import msgspec

from gateway.domain.records import User
from gateway.store._rows import user_from_row
from gateway.store.connection import Conn


class SessionRow(msgspec.Struct, frozen=True, kw_only=True):
    user: User
    method: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


class FailureCounts(msgspec.Struct, frozen=True, kw_only=True):
    by_name: int
    by_address: int
    # when the oldest failure counted against each falls out of the window
    name_since: datetime | None
    address_since: datetime | None


async def create_session(
    conn: Conn, *, id_hash: str, user_id: int, method: str, expires_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO console_sessions (id_hash, user_id, method, expires_at)"
        " VALUES ($1, $2, $3, $4)",
        id_hash,
        user_id,
        method,
        expires_at,
    )


async def touch_session(conn: Conn, id_hash: str, *, idle_s: float) -> SessionRow | None:
    """The live session ``id_hash`` (its user enabled, not idle for ``idle_s``, not past its
    absolute expiry), marked as seen now; None when there is no such session."""
    row = await conn.fetchrow(
        "UPDATE console_sessions s SET last_seen_at = now() FROM users u"
        " WHERE s.id_hash = $1 AND u.id = s.user_id AND u.disabled_at IS NULL"
        " AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2)"
        " RETURNING u.id, u.name, u.role, u.created_at, u.token_issued_by,"
        " s.method, s.created_at AS session_created_at, s.last_seen_at, s.expires_at",
        id_hash,
        float(idle_s),
    )
    if row is None:
        return None
    return SessionRow(
        user=user_from_row(row),
        method=row["method"],
        created_at=row["session_created_at"],
        last_seen_at=row["last_seen_at"],
        expires_at=row["expires_at"],
    )


async def delete_session(conn: Conn, id_hash: str) -> bool:
    done = await conn.execute("DELETE FROM console_sessions WHERE id_hash = $1", id_hash)
    return bool(done.endswith(" 1"))


async def end_user_sessions(conn: Conn, user_id: int) -> int:
    """Delete every session of ``user_id``; how many there were."""
    done = await conn.execute("DELETE FROM console_sessions WHERE user_id = $1", user_id)
    return int(done.split()[-1])


async def purge_expired(conn: Conn, *, idle_s: float) -> None:
    await conn.execute(
        "DELETE FROM console_sessions"
        " WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $1)",
        float(idle_s),
    )


async def record_failure(conn: Conn, *, name: str | None, address: str, window_s: float) -> None:
    """Count one failed sign-in; forget failures older than the window."""
    await conn.execute(
        "DELETE FROM sign_in_failures WHERE at <= now() - make_interval(secs => $1)",
        float(window_s),
    )
    await conn.execute(
        "INSERT INTO sign_in_failures (name, address) VALUES ($1, $2)", name, address
    )


async def count_failures(
    conn: Conn, *, name: str | None, address: str, window_s: float
) -> FailureCounts:
    row = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE name = $1) AS by_name,"
        " count(*) FILTER (WHERE address = $2) AS by_address,"
        " min(at) FILTER (WHERE name = $1) AS name_since,"
        " min(at) FILTER (WHERE address = $2) AS address_since"
        " FROM sign_in_failures"
        " WHERE at > now() - make_interval(secs => $3) AND (name = $1 OR address = $2)",
        name,
        address,
        float(window_s),
    )
    assert row is not None
    return FailureCounts(
        by_name=row["by_name"],
        by_address=row["by_address"],
        name_since=row["name_since"],
        address_since=row["address_since"],
    )


async def forget_failures(conn: Conn, *, name: str) -> None:
    """A successful sign-in clears the failures counted against that name."""
    await conn.execute("DELETE FROM sign_in_failures WHERE name = $1", name)
