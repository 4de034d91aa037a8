"""Demo data never reaches a production database by default.

``python -m gateway worker`` against an external ``DATABASE_URL`` without ``GATEWAY_DEMO``
ingests no demo mentions and says so in its log, naming the database without its
password; with an explicit ``GATEWAY_DEMO=true`` the same worker does run the demo (the
control that shows the first half could have failed).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tests.e2e.server import Process, Server, gateway_env

PASSWORD = "s3cret-never-logged"  # the test cluster trusts local users: it is not checked


def _with_password(dsn: str) -> str:
    parts = urlsplit(dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:{PASSWORD}@{host}"))


async def _count(dsn: str, sql: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


def _demo_mentions(dsn: str) -> int:
    return asyncio.run(_count(dsn, "SELECT count(*) FROM mentions WHERE channel = 'demo'"))


def _wait_for_log(worker: Process, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in worker.logs():
        assert worker.proc.poll() is None, worker.logs()
        assert time.monotonic() < deadline, f"no {text!r} in:\n{worker.logs()}"
        time.sleep(0.1)


def _worker_env(dsn: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = gateway_env(
        _with_password(dsn), data_dir, GATEWAY_DEMO_SOURCE="true", GATEWAY_DEMO_INTERVAL_S="0.2"
    )
    env.pop("GATEWAY_DEMO")  # the operator did not ask for the demo ...
    env.update(extra)  # ... unless a test says so
    return env


def test_worker_on_an_external_database_ingests_no_demo_mentions(
    fresh_db_url: str, tmp_path: Path
) -> None:
    worker = Process(_worker_env(fresh_db_url, tmp_path), ["worker"], tmp_path / "worker.log")
    try:
        _wait_for_log(worker, "source_scheduler_started")  # the demo source starts after it
        time.sleep(2)  # ten demo intervals
        assert _demo_mentions(fresh_db_url) == 0
    finally:
        worker.stop()
    logs = worker.logs()
    assert "production_mode_started" in logs and "demo_mode_started" not in logs
    database = urlsplit(fresh_db_url).path.lstrip("/")
    line = next(line for line in logs.splitlines() if "production_mode_started" in line)
    assert f"/{database}" in line and '"command": "worker"' in line
    assert PASSWORD not in logs


def test_an_explicit_gateway_demo_runs_the_demo_loudly(fresh_db_url: str, tmp_path: Path) -> None:
    env = _worker_env(fresh_db_url, tmp_path, GATEWAY_DEMO="true")
    worker = Process(env, ["worker"], tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 60
        while _demo_mentions(fresh_db_url) == 0:
            assert worker.proc.poll() is None, worker.logs()
            assert time.monotonic() < deadline, worker.logs()
            time.sleep(0.2)
    finally:
        worker.stop()
    logs = worker.logs()
    line = next(line for line in logs.splitlines() if "demo_mode_started" in line)
    assert '"level": "warning"' in line and '"mode": "demo"' in line
    assert PASSWORD not in logs


def test_serve_says_which_database_and_mode(fresh_db_url: str, tmp_path: Path) -> None:
    server = Server(_worker_env(fresh_db_url, tmp_path), tmp_path / "serve.log")
    server.stop()
    logs = server.logs()
    line = next(line for line in logs.splitlines() if "production_mode_started" in line)
    assert '"command": "serve"' in line and urlsplit(fresh_db_url).path in line
    assert "demo_mode_started" not in logs and PASSWORD not in logs
