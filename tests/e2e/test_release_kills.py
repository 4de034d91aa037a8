"""Crash during release (issue 11): 1,000 allowed replies, the worker SIGKILLed at random
moments while it publishes and restarted each time. The channel (a real local receiver)
holds every reply exactly once by idempotency key, and every request it received came
after that reply's ``releasing`` event was committed (it asks the database)."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import asyncpg
import pytest

from tests.e2e.faults import assert_chain_verifies, ingest, propose_all
from tests.e2e.receiver import Receiver
from tests.e2e.server import Process, Server, add_user, gateway_env

SECRET = "webhook-secret-for-tests"
REPLIES = 1000
KILLS = 6


def _released(dsn: str) -> tuple[int, set[str]]:
    async def read() -> tuple[int, set[str]]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch(
                "SELECT status, idempotency_key FROM proposals WHERE status = 'released'"
            )
        finally:
            await conn.close()
        return len(rows), {r["idempotency_key"] for r in rows}

    return asyncio.run(read())


@pytest.mark.slow
def test_a_worker_killed_again_and_again_delivers_each_reply_once(
    fresh_db_url: str, tmp_path: Path
) -> None:
    dsn = fresh_db_url
    rng = random.Random(20261205)
    with Receiver(secret=SECRET.encode(), database_url=dsn) as receiver:
        env = gateway_env(
            dsn,
            tmp_path,
            GATEWAY_WEBHOOK_URL=receiver.url,
            GATEWAY_WEBHOOK_SECRET=SECRET,
            GATEWAY_RELEASE_LEASE_S="2",
        )
        admin, agent = add_user(env, "root", "admin"), add_user(env, "alice", "agent")
        api = Server(env, tmp_path / "api.log", worker=False)
        kills = 0
        try:
            mentions = ingest(api.url, admin, "kill", REPLIES)
            answers = propose_all(api.url, agent, mentions, threads=8)
            assert sorted(a.status for a in answers) == [201] * REPLIES, answers[:3]
            assert {a.body["status"] for a in answers if a.body} == {"approved"}
            deadline = time.monotonic() + 300
            run = 0
            while time.monotonic() < deadline:
                run += 1
                seen = len(receiver.requests)
                worker = Process(env, ["worker"], tmp_path / f"worker{run}.log")
                try:
                    if kills < KILLS:
                        # Kill it while it publishes: after this run's first delivery.
                        while len(receiver.requests) == seen and time.monotonic() < deadline:
                            if worker.proc.poll() is not None:
                                raise AssertionError(f"worker exited:\n{worker.logs()}")
                            time.sleep(0.02)
                        time.sleep(rng.uniform(0.0, 0.6))
                        worker.kill()
                        kills += 1
                        continue
                    while time.monotonic() < deadline:
                        if _released(dsn)[0] == REPLIES:
                            break
                        time.sleep(0.2)
                    break
                finally:
                    worker.stop()
        finally:
            api.stop()
    released, keys = _released(dsn)
    assert kills == KILLS
    assert released == REPLIES, f"{released} of {REPLIES} released"
    assert set(receiver.posted) == keys  # each reply on the channel, once by its key
    assert len(receiver.posted) == REPLIES
    assert all(r["signed"] for r in receiver.requests)
    late = [r["key"] for r in receiver.requests if not r["committed"]]
    assert late == [], f"{len(late)} deliveries before their releasing event committed"
    # The kills hit publishes in flight: replies were posted again (same key) afterwards.
    assert len(receiver.requests) > REPLIES
    assert_chain_verifies(env)
