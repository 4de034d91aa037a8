"""The group-commit writer dies (an unexpected exception, a cancelled task): every request
waiting for it is answered at once with Unavailable, 503 problem+json over HTTP (never a
500, never a hang), /health reports the writer down meanwhile, and it starts again by
itself."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
import httpx
import pytest

from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.store import users
from gateway.store.connection import Conn
from gateway.store.database import Database
from gateway.store.errors import Unavailable
from gateway.store.group_commit import GroupCommitter
from tests.integration.sources_support import serving
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one

BOUND_S = 10.0  # every wait in these tests is bounded: a hang fails the test


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + BOUND_S
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting until {what}")


def _writer_task() -> asyncio.Task[object]:
    [task] = [t for t in asyncio.all_tasks() if t.get_name() == "group-commit"]
    return task


@pytest.mark.parametrize("death", ["exception", "cancelled"])
async def test_a_dead_writer_fails_waiting_jobs_and_restarts(
    settings: Settings, death: str
) -> None:
    db = await Database.open(settings)
    writing = asyncio.Event()
    die = asyncio.Event()

    async def flush(conn: Conn, jobs: list[str]) -> Sequence[str | Exception]:
        if "doomed" in jobs:
            writing.set()
            await die.wait()
            raise RuntimeError("a bug in the writer")
        return [f"stored {j}" for j in jobs]

    committer: GroupCommitter[str, str] = GroupCommitter(db.pool, flush, restart_delay_s=0.3)
    try:
        assert await committer.submit("first") == "stored first"
        doomed = asyncio.create_task(committer.submit("doomed"))
        await asyncio.wait_for(writing.wait(), BOUND_S)
        queued = asyncio.create_task(committer.submit("queued"))  # waits for the next batch
        await _until(lambda: _true(committer.waiting == 1), "the second job is queued")
        if death == "exception":
            die.set()
        else:
            _writer_task().cancel()
        for task in (doomed, queued):
            with pytest.raises(Unavailable, match="decision writer failed"):
                await asyncio.wait_for(task, BOUND_S)
        assert not committer.ready
        with pytest.raises(Unavailable, match="restarting"):
            await committer.submit("meanwhile")
        await _until(lambda: _true(committer.ready), "the writer restarted")
        assert await asyncio.wait_for(committer.submit("after"), BOUND_S) == "stored after"
        assert committer.deaths == 1
    finally:
        await committer.close()
        await db.close()


async def _true(value: bool) -> bool:
    return value


async def test_http_answers_503_and_health_reports_the_writer_until_it_restarts(
    runtime: Runtime, settings: Settings, database_url: str
) -> None:
    token = secrets.token_hex(16)
    async with runtime.db.pool.acquire() as conn:
        await users.add_user(conn, name="alice", role="agent", token=token)
    lost = await ingest_one(runtime, COMPLAINT, handle="@lost@social.example")
    later = await ingest_one(runtime, COMPLAINT, handle="@later@social.example")
    committer = runtime.committer
    assert committer is not None
    committer.restart_delay_s = 3.0
    app = create_app(settings)
    app.state.runtime = runtime
    headers = {"Authorization": f"Bearer {token}"}
    blocker = await asyncpg.connect(database_url)
    try:
        async with (
            serving(app) as base,
            httpx.AsyncClient(base_url=base, headers=headers, timeout=BOUND_S) as client,
        ):
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute("SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE")
            posting = asyncio.create_task(
                client.post("/v1/proposals", json={"mention_id": lost, "text": GOOD_REPLY})
            )

            async def writer_waits() -> bool:
                return bool(
                    await blocker.fetchval(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        " AND wait_event_type = 'Lock'"
                    )
                )

            await _until(writer_waits, "the writer waits for the chain head")
            _writer_task().cancel()
            answer = await asyncio.wait_for(posting, BOUND_S)
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert "decision writer" in answer.json()["detail"]
            health = await client.get("/health")
            assert health.status_code == 503
            assert health.json()["writer_ready"] is False
            refused = await client.post(
                "/v1/proposals", json={"mention_id": later, "text": GOOD_REPLY}
            )
            assert refused.status_code == 503
            await tx.rollback()

            async def healthy() -> bool:
                return (await client.get("/health")).status_code == 200

            await _until(healthy, "/health reports the writer back")
            assert (await client.get("/health")).json()["writer_ready"] is True
            stored = await client.post(
                "/v1/proposals", json={"mention_id": later, "text": GOOD_REPLY}
            )
            assert stored.status_code == 201, stored.text
    finally:
        await blocker.close()
    async with runtime.db.pool.acquire() as conn:
        assert (
            await conn.fetchval("SELECT count(*) FROM proposals WHERE mention_id = $1", lost) == 0
        )
    verdict = await runtime.verify_chain()
    assert verdict.ok, verdict
