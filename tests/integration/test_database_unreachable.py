"""A pool connection that cannot be made is ``Unavailable`` (503), not a raw OSError (500)."""

from __future__ import annotations

import asyncpg
import pytest

from gateway.store.database import _connect
from gateway.store.errors import Unavailable
from tests.e2e.server import free_port


async def test_a_refused_connection_is_unavailable() -> None:
    pool = await asyncpg.create_pool(
        f"postgresql://nobody@127.0.0.1:{free_port()}/none", min_size=0, connect=_connect
    )
    try:
        with pytest.raises(Unavailable, match="cannot be reached"):
            async with pool.acquire():
                pass
    finally:
        await pool.close()


async def test_a_missing_socket_is_unavailable(tmp_path: object) -> None:
    pool = await asyncpg.create_pool(
        f"postgresql://nobody@/none?host={tmp_path}", min_size=0, connect=_connect
    )
    try:
        with pytest.raises(Unavailable, match="cannot be reached"):
            async with pool.acquire():
                pass
    finally:
        await pool.close()
