"""Faults under a decision load (issue 11): the serving process killed, PostgreSQL restarted.

Each test drives real gateway processes over loopback HTTP, with proposals sent from
threads, breaks something mid-load, and then asks the database itself whether the fault
model's promise held (tests/e2e/faults.py): every acknowledged proposal exists with its
audit event and outbox row, nothing is half-written, the chain verifies.
"""

from __future__ import annotations

import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import POLICY_DIR
from tests.e2e.faults import (
    Answer,
    assert_chain_verifies,
    assert_intact,
    ingest,
    propose_all,
    wait_until,
)
from tests.e2e.server import Server, add_user, gateway_env, run_cli

MENTIONS = 240
THREADS = 12


@pytest.mark.slow
async def test_sigkill_during_decisions_loses_nothing_acknowledged(
    fresh_db_url: str, tmp_path: Path
) -> None:
    env = gateway_env(fresh_db_url, tmp_path)
    admin, agent = add_user(env, "root", "admin"), add_user(env, "alice", "agent")
    server = Server(env, tmp_path / "api1.log", worker=False)
    restarted: Server | None = None
    try:
        ids = ingest(server.url, admin, "kill", MENTIONS)
        seen = threading.Event()
        acked: list[Answer] = []

        def on_answer(answer: Answer) -> None:
            if answer.status == 201:
                acked.append(answer)
                if len(acked) >= 40:
                    seen.set()

        killer = threading.Thread(target=lambda: (seen.wait(60), server.kill()), daemon=True)
        killer.start()
        answers = propose_all(server.url, agent, ids, threads=THREADS, on_answer=on_answer)
        killer.join(70)
        assert server.proc.poll() is not None, "the server was never killed"
        failed = [a for a in answers if a.status is None]
        assert failed, "the kill happened after the load: nothing was in flight"
        assert all(a.status in (201, None) for a in answers), {a.status for a in answers}

        restarted = Server(env, tmp_path / "api2.log", worker=False)
        await assert_intact(fresh_db_url, [a for a in answers if a.status == 201])
        # The gateway serves again, and a mention whose request died can be answered now.
        retry = failed[0].mention_id
        with restarted.client(agent) as client:
            again = client.post("/v1/proposals", json={"mention_id": retry, "text": "On it."})
        assert again.status_code in (201, 409), again.text
        assert_chain_verifies(env)
    finally:
        server.stop()
        if restarted is not None:
            restarted.stop()


class OwnPostgres:
    """A PostgreSQL of this test's own, so restarting it cannot disturb other tests."""

    def __init__(self, folder: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

        self._server = pgserver.get_server(folder, cleanup_mode="delete")
        self._pg_ctl = pgserver._commands.pg_ctl

    def uri(self, database: str) -> str:
        return str(self._server.get_uri(database))

    def stop(self) -> None:
        self._pg_ctl(
            ["-w", "-m", "fast", "stop"],
            pgdata=self._server.pgdata,
            user=self._server.system_user,
        )

    def start(self) -> None:
        self._server.ensure_postgres_running()

    def cleanup(self) -> None:
        self._server.cleanup()


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    folder = Path(tempfile.mkdtemp(prefix="egw-pg-restart-"))
    server = OwnPostgres(folder)
    try:
        yield server
    finally:
        server.cleanup()


@pytest.mark.slow
async def test_database_restart_answers_503_and_recovers_by_itself(
    own_postgres: OwnPostgres, tmp_path: Path
) -> None:
    admin_conn = await asyncpg.connect(own_postgres.uri("postgres"))
    try:
        await admin_conn.execute("CREATE DATABASE gateway")
    finally:
        await admin_conn.close()
    dsn = own_postgres.uri("gateway")
    env = gateway_env(dsn, tmp_path, GATEWAY_POLICY_DIR=str(POLICY_DIR))
    migrated = run_cli(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    admin, agent = add_user(env, "root", "admin"), add_user(env, "alice", "agent")
    server = Server(env, tmp_path / "api.log", worker=False)
    try:
        ids = ingest(server.url, admin, "restart", MENTIONS)
        seen = threading.Event()
        acked: list[Answer] = []

        def on_answer(answer: Answer) -> None:
            if answer.status == 201:
                acked.append(answer)
                if len(acked) >= 40:
                    seen.set()

        def restart() -> None:
            seen.wait(60)
            own_postgres.stop()
            threading.Event().wait(1.0)  # requests keep coming while it is down
            own_postgres.start()

        restarter = threading.Thread(target=restart, daemon=True)
        restarter.start()
        answers = propose_all(
            server.url, agent, ids, threads=THREADS, on_answer=on_answer, timeout=60
        )
        restarter.join(90)
        statuses = {a.status for a in answers}
        odd = [a for a in answers if a.status not in (201, 503)]
        assert not odd, f"only 201 or 503 may answer: {odd[:3]}"
        assert 503 in statuses, "the restart happened after the load: nothing was in flight"
        for answer in answers:
            if answer.status == 503:
                assert answer.body is not None and answer.body["status"] == 503, answer
        assert server.proc.poll() is None, server.logs()

        def healthy() -> bool:
            try:
                return httpx.get(f"{server.url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 30, "/health to answer 200 after PostgreSQL came back")
        await assert_intact(dsn, [a for a in answers if a.status == 201])
        retry = [a.mention_id for a in answers if a.status == 503]
        again = propose_all(server.url, agent, retry, threads=4)
        assert {a.status for a in again} == {201}, {a.status for a in again}
        await assert_intact(dsn, [a for a in answers + again if a.status == 201])
        assert_chain_verifies(env)
    finally:
        server.stop()
