"""Deployment-wide leases as PostgreSQL session advisory locks (see
docs/decisions/0007-leases-are-advisory-session-locks.md).

A lease is held by one database session: it ends when that session ends, however the
process holding it died, so no expiry has to be waited for and no clock is trusted.
"""

from __future__ import annotations

import hashlib

from gateway.store.connection import Conn

# Keys live in one namespace with the checkpointer's lock (7_410_222).
_NAMESPACE = 7_410


def lease_key(name: str) -> int:
    """A stable 64-bit advisory lock key for a lease name."""
    digest = hashlib.sha256(f"{_NAMESPACE}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def try_take(conn: Conn, name: str) -> bool:
    """Take the lease for this session if nobody holds it; never waits."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", lease_key(name)))


async def still_connected(conn: Conn) -> bool:
    """The holding session still answers (a lost session has lost its lease)."""
    return bool(await conn.fetchval("SELECT 1"))


async def holders(conn: Conn, names: list[str]) -> dict[str, int]:
    """The backend pid holding each named lease now (absent: nobody holds it)."""
    keys = {lease_key(name): name for name in names}
    rows = await conn.fetch(
        "SELECT ((classid::bigint << 32) | objid::bigint) AS key, pid FROM pg_locks"
        " WHERE locktype = 'advisory' AND objsubid = 1 AND granted",
    )
    found: dict[str, int] = {}
    for row in rows:
        key = int(row["key"])
        if key >= 2**63:
            key -= 2**64
        if key in keys:
            found[keys[key]] = int(row["pid"])
    return found
