"""Invariants 1 and 5 with real processes: a worker SIGKILLed mid-publish, then restarted.

The channel is a real local HTTP server receiving signed webhooks. The reply must arrive
only after its ``releasing`` event is committed, and the channel must see it posted once.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.receiver import Receiver
from tests.e2e.server import Process, Server, add_user, gateway_env

SECRET = "webhook-secret-for-tests"


@pytest.mark.slow
def test_killed_worker_resumes_and_the_channel_sees_one_post(
    fresh_db_url: str, tmp_path: Path
) -> None:
    dsn = fresh_db_url
    with Receiver(secret=SECRET.encode(), database_url=dsn, hold_first=True) as receiver:
        env = gateway_env(
            dsn,
            tmp_path,
            GATEWAY_WEBHOOK_URL=receiver.url,
            GATEWAY_WEBHOOK_SECRET=SECRET,
            GATEWAY_RELEASE_LEASE_S="2",
        )
        admin, agent = add_user(env, "root", "admin"), add_user(env, "alice", "agent")
        api = Server(env, tmp_path / "api.log", worker=False)
        worker = Process(env, ["worker"], tmp_path / "worker1.log")
        second: Process | None = None
        try:
            with api.client(admin) as c:
                ids = c.post(
                    "/v1/mentions",
                    json={
                        "mentions": [
                            {
                                "channel": "webhook",
                                "external_id": "w-1",
                                "url": None,
                                "author": {"handle": "kim@example.com", "display_name": "Kim"},
                                "text": "@acme my parcel never arrived, what is going on?",
                                "created_at": "2026-11-20T10:00:00Z",
                            }
                        ]
                    },
                ).json()["ids"]
            with api.client(agent) as c:
                proposal = c.post(
                    "/v1/proposals",
                    json={
                        "mention_id": ids[0],
                        "text": "Sorry Kim, we are tracing the parcel now.",
                    },
                ).json()
            assert proposal["status"] == "approved", proposal
            assert receiver.first_arrived.wait(30), worker.logs()
            worker.kill()  # mid-publish: the channel got it, the worker never heard back
            receiver.release_first.set()
            second = Process(env, ["worker"], tmp_path / "worker2.log")
            status = _wait_released(api, agent, proposal["id"])
        finally:
            worker.stop()
            if second is not None:
                second.stop()
            api.stop()
    assert status["status"] == "released", status
    assert len(receiver.requests) >= 2
    assert {r["key"] for r in receiver.requests} == {proposal_key(receiver)}
    assert len(receiver.posted) == 1
    assert all(r["signed"] and r["committed"] for r in receiver.requests)
    assert status["receipt"]["external_id"] == "post-1" and status["receipt"]["duplicate"]
    assert (tmp_path / "worker.heartbeat").exists()


def proposal_key(receiver: Receiver) -> str:
    return str(receiver.requests[0]["key"])


def _wait_released(api: Server, token: str, proposal_id: int) -> dict[str, object]:
    deadline = time.monotonic() + 30
    with api.client(token) as c:
        while time.monotonic() < deadline:
            body: dict[str, object] = c.get(f"/v1/proposals/{proposal_id}").json()
            if body["status"] in ("released", "failed"):
                return body
            time.sleep(0.2)
    raise AssertionError(f"not released in time: {httpx.get(api.url + '/health').text}")
