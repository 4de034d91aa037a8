"""QA: `./dev serve` runs `python -m gateway users demo` before serving. Against a production
``DATABASE_URL`` (no ``GATEWAY_DEMO``) that created demo-admin and two compliance officers,
demo-compliance and demo-reviewer, whose tokens sit side by side in one file: whoever holds
the file is two officers, so one person passes the two-person rule. Demo users are demo
data: like the demo source, they exist only with the embedded database or an explicit
``GATEWAY_DEMO=true`` (the control below shows the first test could fail).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from tests.e2e.server import gateway_env, run_cli


async def _demo_users(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM users WHERE name LIKE 'demo-%'"))
    finally:
        await conn.close()


def test_users_demo_creates_no_one_on_an_external_database(
    fresh_db_url: str, tmp_path: Path
) -> None:
    env = gateway_env(fresh_db_url, tmp_path)
    env.pop("GATEWAY_DEMO")  # the operator did not ask for the demo
    done = run_cli(env, "users", "demo")
    assert done.returncode == 0, done.stderr  # ./dev serve goes on serving
    assert "GATEWAY_DEMO" in done.stderr  # and says how to get the demo users
    assert asyncio.run(_demo_users(fresh_db_url)) == 0
    assert not (tmp_path / "demo-tokens.txt").exists()


def test_an_explicit_gateway_demo_creates_the_demo_users(fresh_db_url: str, tmp_path: Path) -> None:
    done = run_cli(gateway_env(fresh_db_url, tmp_path, GATEWAY_DEMO="true"), "users", "demo")
    assert done.returncode == 0, done.stderr
    assert asyncio.run(_demo_users(fresh_db_url)) == 5
    assert (tmp_path / "demo-tokens.txt").exists()
