"""A connection going back to the pool skips asyncpg's reset query (one round trip per
request) but is still clean: an open transaction rolled back (its locks released), the
role still gateway_app, no LISTEN left behind."""

from __future__ import annotations

from gateway.runtime import Runtime


def _ignore(*_: object) -> None:
    pass


async def test_a_released_connection_is_clean_without_the_reset_query(runtime: Runtime) -> None:
    pool = runtime.db.pool
    conn = await pool.acquire()
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    transaction = conn.transaction()
    await transaction.start()
    await conn.execute("SELECT pg_advisory_xact_lock(424242)")
    await conn.add_listener("pool_reset_test", _ignore)
    await conn.remove_listener("pool_reset_test", _ignore)
    await pool.release(conn)  # left in the middle of its transaction, as a cancelled task is

    async with pool.acquire() as again:  # the pool hands out the last released one first
        assert await again.fetchval("SELECT pg_backend_pid()") == pid
        assert not again.is_in_transaction()
        assert await again.fetchval("SELECT current_user") == "gateway_app"
        assert await again.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
        held = await again.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 424242"
        )
        assert held == 0


async def test_releasing_skips_the_reset_query(runtime: Runtime) -> None:
    """A session setting survives a release: no RESET ALL was sent (the gateway never
    leaves session state on a pooled connection, so there is nothing to reset)."""
    pool = runtime.db.pool
    async with pool.acquire() as conn:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        await conn.execute("SET application_name = 'pool-reset-probe'")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT pg_backend_pid()") == pid
        assert await conn.fetchval("SHOW application_name") == "pool-reset-probe"
        await conn.execute("RESET application_name")
