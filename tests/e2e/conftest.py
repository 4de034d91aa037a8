"""E2E fixtures: a running gateway process per test module, with one user per role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from tests.conftest import fresh_database
from tests.e2e.server import Server, add_user, gateway_env


class Gateway(msgspec.Struct, kw_only=True):
    server: Server
    env: dict[str, str]
    database_url: str
    data_dir: Path
    tokens: dict[str, str]


@pytest.fixture(scope="module")
async def gateway(
    pg_cluster: str, template_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    dsn = await fresh_database(pg_cluster)
    data_dir = tmp_path_factory.mktemp("gateway")
    env = gateway_env(dsn, data_dir)
    tokens = {
        "agent": add_user(env, "alice", "agent"),
        "agent2": add_user(env, "bob", "agent"),
        "compliance": add_user(env, "carol", "compliance"),
        "compliance2": add_user(env, "dave", "compliance"),
        "auditor": add_user(env, "erin", "auditor"),
        "admin": add_user(env, "root", "admin"),
    }
    server = Server(env, data_dir / "server.log")
    try:
        yield Gateway(server=server, env=env, database_url=dsn, data_dir=data_dir, tokens=tokens)
    finally:
        server.stop()


@pytest.fixture
async def fresh_db_url(pg_cluster: str, template_dsn: str) -> str:
    """A new migrated database with the default policy, for one test's own gateways."""
    return await fresh_database(pg_cluster)
