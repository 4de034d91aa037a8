"""Connecting: the embedded or external PostgreSQL, migrations, the pool.

The pool's connections run as role ``gateway_app`` (``SET ROLE``), which may INSERT and
SELECT audit events but not UPDATE, DELETE or TRUNCATE them.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import structlog

from gateway.settings import Settings
from gateway.store.connection import Conn
from gateway.store.embedded import start_embedded
from gateway.store.errors import Unavailable
from gateway.store.migrate import apply_migrations

log = structlog.get_logger(__name__)

APP_ROLE = "gateway_app"


def resolve_dsn(settings: Settings) -> tuple[str, Any]:
    """The DSN to use and, for the embedded database, the server handle to keep alive."""
    if settings.database_url:
        return settings.database_url, None
    server = start_embedded(settings.data_dir)
    return server.get_uri(), server


_JSONB_VERSION = b"\x01"  # jsonb's binary wire format: a version byte, then the JSON text
_json_encoder = msgspec.json.Encoder()
_json_decode = msgspec.json.decode


def _encode_jsonb(value: Any) -> bytes:
    return _JSONB_VERSION + _json_encoder.encode(value)


def _decode_jsonb(data: bytes) -> Any:
    return _json_decode(memoryview(data)[1:])


async def _init_connection(conn: Conn) -> None:
    await conn.set_type_codec(
        "jsonb",
        encoder=_encode_jsonb,
        decoder=_decode_jsonb,
        schema="pg_catalog",
        format="binary",
    )
    await conn.execute(f"SET ROLE {APP_ROLE}")


async def _keep_session(conn: Conn) -> None:
    """Run when a connection goes back to the pool, after asyncpg rolled back any open
    transaction and dropped its listener callbacks. asyncpg's default would also send
    ``RESET ALL; UNLISTEN *; CLOSE ALL; SELECT pg_advisory_unlock_all()``: one more round
    trip per request for state the gateway never leaves on a pooled connection (it sets
    nothing per session but the role in ``_init_connection``, takes only transaction-
    scoped advisory locks there, removes its LISTENs before releasing, and runs leases and
    migrations on connections of their own). Tested in tests/integration/test_pool_reset.py.
    """


async def _connect(*args: Any, **kwargs: Any) -> asyncpg.Connection[asyncpg.Record]:
    """A new pool connection; a server that cannot be reached is ``Unavailable``, not OSError.

    While PostgreSQL restarts, its socket is refused or missing: the request that needed a
    new connection is then answered 503, and the pool tries again on the next one.
    """
    try:
        conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(*args, **kwargs)
    except OSError as exc:
        raise Unavailable(f"PostgreSQL cannot be reached ({exc.strerror or exc})") from exc
    return conn


class Database:
    """Owns the pool (and the embedded server handle, if any)."""

    def __init__(self, pool: asyncpg.Pool, dsn: str, server: Any) -> None:
        self.pool = pool
        self.dsn = dsn
        self._server = server

    @classmethod
    async def open(cls, settings: Settings, *, migrate: bool = True) -> Database:
        dsn, server = resolve_dsn(settings)
        try:
            if migrate:
                await migrate_dsn(dsn)
            pool = await asyncpg.create_pool(
                dsn,
                min_size=settings.db_pool_min,
                max_size=settings.db_pool_max,
                init=_init_connection,
                connect=_connect,
                reset=_keep_session,
            )
        except (OSError, asyncpg.PostgresError) as exc:
            raise Unavailable(f"could not connect to PostgreSQL: {exc}") from exc
        assert pool is not None
        return cls(pool, dsn, server)

    async def close(self) -> None:
        await self.pool.close()
        if self._server is not None:
            # Stop the embedded server if this process is its last user. Not left to
            # atexit: uvicorn re-raises SIGTERM after its graceful shutdown, which skips it.
            self._server.cleanup()
            self._server = None

    async def ping(self) -> bool:
        try:
            async with self.pool.acquire() as conn:
                return bool(await conn.fetchval("SELECT 1") == 1)
        except (OSError, asyncpg.PostgresError):
            return False


async def migrate_dsn(dsn: str) -> list[str]:
    """Apply pending migrations as the connecting (owner) role."""
    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError) as exc:
        raise Unavailable(f"could not connect to PostgreSQL to migrate: {exc}") from exc
    try:
        return await apply_migrations(conn)
    finally:
        await conn.close()
