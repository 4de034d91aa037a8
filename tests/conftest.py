"""Shared fixtures: one real PostgreSQL (embedded, pgserver) per test session.

Each test that needs a database gets a fresh one, cloned from a migrated template, so
tests never see each other's rows.
"""

from __future__ import annotations

import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from gateway.settings import Settings
from gateway.store.database import migrate_dsn

REPO = Path(__file__).resolve().parent.parent
POLICY_DIR = REPO / "policies"
TEMPLATE = "egw_template"


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    """The DSN of the session's PostgreSQL server (database ``postgres``)."""
    folder = Path(tempfile.mkdtemp(prefix="egw-pg-"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(folder, cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session")
async def template_dsn(pg_cluster: str) -> str:
    admin = await asyncpg.connect(pg_cluster)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await admin.close()
    dsn = with_database(pg_cluster, TEMPLATE)
    await migrate_dsn(dsn)
    # Install the default policy once, so each cloned database starts with it active.
    from gateway.runtime import Runtime

    with tempfile.TemporaryDirectory(prefix="egw-template-") as tmp:
        runtime = await Runtime.start(
            Settings(database_url=dsn, data_dir=Path(tmp), policy_dir=POLICY_DIR, demo=False)
        )
        await runtime.close()
    return dsn


async def fresh_database(pg_cluster: str) -> str:
    """A new, migrated, empty database (cloned from the template); returns its DSN."""
    name = f"egw_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_cluster)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    finally:
        await admin.close()
    return with_database(pg_cluster, name)


@pytest.fixture
async def database_url(pg_cluster: str, template_dsn: str) -> str:
    return await fresh_database(pg_cluster)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        policy_dir=POLICY_DIR,
        demo=True,
        release_poll_s=0.05,
        release_backoff_s=0.05,
        release_lease_s=2.0,
        db_pool_min=1,
        db_pool_max=5,
        log_json=True,
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="run the long versions of load tests (tests/e2e/test_load.py: 5 minutes)",
    )
