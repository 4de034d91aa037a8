"""More than one process on one database: two gateway instances under proposal load, and
``serve --workers 2``. The release worker, the checkpointer and the source scheduler run
once per deployment (leases); killing the holder hands them over; nothing is released twice
and the chain verifies."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.receiver import Receiver
from tests.e2e.server import Server, add_user, gateway_env, run_cli

SECRET = "scale-out-webhook-secret"
N = 40


def _events(log: Path, event: str) -> list[dict[str, object]]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and doc.get("event") == event:
            found.append(doc)
    return found


def _leases(log: Path, name: str) -> int:
    return sum(1 for e in _events(log, "lease_taken") if e.get("lease") == name)


def _mentions(server: Server, admin: str, first: int, count: int, channel: str) -> list[int]:
    body = {
        "mentions": [
            {
                "channel": channel,
                "external_id": f"s-{i}",
                "url": None,
                "author": {"handle": f"c{i}@example.com", "display_name": f"C {i}"},
                "text": f"@acme my order {i} never arrived, what is going on?",
                "created_at": "2026-11-20T10:00:00Z",
            }
            for i in range(first, first + count)
        ]
    }
    with server.client(admin) as c:
        answer = c.post("/v1/mentions", json=body)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["ids"])


def _propose(url: str, agent: str, mention_id: int) -> dict[str, object]:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {agent}"}, timeout=30) as c:
        answer = c.post(
            "/v1/proposals", json={"mention_id": mention_id, "text": "Sorry, we are on it."}
        )
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    assert body["status"] == "approved", body
    return body


def _wait_settled(server: Server, token: str, ids: list[object], timeout: float = 60) -> set[str]:
    deadline = time.monotonic() + timeout
    statuses: set[str] = set()
    with server.client(token) as c:
        while time.monotonic() < deadline:
            statuses = {c.get(f"/v1/proposals/{i}").json()["status"] for i in ids}
            if statuses <= {"released", "failed"}:
                return statuses
            time.sleep(0.3)
    raise AssertionError(f"not all released in time: {statuses}")


@pytest.mark.slow
def test_two_instances_release_each_reply_once_and_hand_over_when_one_dies(
    fresh_db_url: str, tmp_path: Path
) -> None:
    with Receiver(secret=SECRET.encode(), database_url=fresh_db_url) as receiver:
        env = gateway_env(
            fresh_db_url,
            tmp_path,
            GATEWAY_WEBHOOK_URL=receiver.url,
            GATEWAY_WEBHOOK_SECRET=SECRET,
            GATEWAY_RELEASE_LEASE_S="2",
        )
        admin, agent = add_user(env, "root", "admin"), add_user(env, "alice", "agent")
        a = Server(env, tmp_path / "a.log")
        b = Server(env, tmp_path / "b.log")
        try:
            ids = _mentions(a, admin, 0, N, "webhook")
            holder, other = (a, b) if _leases(a.log_path, "release-worker") else (b, a)
            # One holder of each deployment-wide job while both run.
            assert _leases(holder.log_path, "release-worker") == 1
            assert _leases(other.log_path, "release-worker") == 0
            assert (
                _leases(holder.log_path, "source-scheduler")
                + _leases(other.log_path, "source-scheduler")
                == 1
            )
            with ThreadPoolExecutor(8) as pool:
                first = list(
                    pool.map(lambda m: _propose((a, b)[m % 2].url, agent, m), ids[: N // 2])
                )
            checkpointers = [s for s in (a, b) if _events(s.log_path, "checkpointer_lock_taken")]
            assert len(checkpointers) == 1
            holder.kill()  # the release worker's holder dies mid-load
            with ThreadPoolExecutor(8) as pool:
                second = list(pool.map(lambda m: _propose(other.url, agent, m), ids[N // 2 :]))
            proposals = [p["id"] for p in first + second]
            assert _wait_settled(other, agent, proposals) == {"released"}
            assert _leases(other.log_path, "release-worker") == 1  # taken over
            verified = run_cli(env, "audit", "verify")
        finally:
            a.stop()
            b.stop()
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert len(receiver.posted) == N  # every reply reached the channel once
    assert all(r["signed"] and r["committed"] for r in receiver.requests)
    assert len({r["key"] for r in receiver.requests}) == N


@pytest.mark.slow
def test_serve_with_two_workers_shares_the_port_and_releases_once(
    fresh_db_url: str, tmp_path: Path
) -> None:
    env = gateway_env(fresh_db_url, tmp_path)
    admin, agent = add_user(env, "root", "admin"), add_user(env, "alice", "agent")
    server = Server(env, tmp_path / "serve.log", workers=2)
    try:
        children = psutil.Process(server.proc.pid).children()
        workers = [c for c in children if "spawn_main" in " ".join(c.cmdline())]
        assert len(workers) == 2, [c.cmdline() for c in children]
        ids = _mentions(server, admin, 0, 20, "demo")
        with ThreadPoolExecutor(8) as pool:
            proposals = [p["id"] for p in pool.map(lambda m: _propose(server.url, agent, m), ids)]
        assert _wait_settled(server, agent, proposals) == {"released"}
    finally:
        server.stop()
    sent = (tmp_path / "demo-sent.jsonl").read_text().splitlines()
    assert len(sent) == 20  # the demo publisher saw each reply once
    assert _leases(tmp_path / "serve.log", "release-worker") == 1
    assert len(_events(tmp_path / "serve.log", "checkpointer_lock_taken")) == 1
