"""Mixed traffic for a while (issue 11): no errors, memory within its bound, chain intact.

Ingest, proposals (some held for review), reviews, and audit reads run side by side from
threads against a real gateway with its release worker, each loop bounded in concurrency.
The default run lasts 30 seconds; ``./dev test --slow`` (pytest ``--slow``) runs it for five
minutes. Every request must succeed, the server's memory (its process and its children)
must stay under ``RSS_BOUND_MIB``, and at the end the integrity check of the fault tests
holds and the chain verifies (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.e2e.faults import Answer, assert_chain_verifies, assert_intact, mention_batch
from tests.e2e.server import Server, add_user, gateway_env

RSS_BOUND_MIB = 512  # the server and its policy workers, whole tree (docs/reliability.md)
BATCH = 20
PROPOSERS = 4


class Load:
    """The shared state of one run: answers by kind, failures, the mentions to answer."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.fresh: queue.Queue[int] = queue.Queue()
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.failures: list[str] = []
        self.acknowledged: list[Answer] = []

    def running(self) -> bool:
        return time.monotonic() < self.deadline and not self.failures

    def record(self, kind: str, response: httpx.Response | None, error: str = "") -> bool:
        ok = response is not None and response.is_success
        with self.lock:
            self.counts[kind] += 1
            if not ok:
                detail = error or f"{response.status_code} {response.text[:300]}"  # type: ignore[union-attr]
                self.failures.append(f"{kind}: {detail}")
        return ok


def _call(load: Load, kind: str, client: httpx.Client, method: str, url: str, **kw: Any) -> Any:
    try:
        response = client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        load.record(kind, None, f"{type(exc).__name__}: {exc}")
        return None
    return response.json() if load.record(kind, response) else None


def ingester(load: Load, client: httpx.Client) -> None:
    for round_no in itertools.count():
        if not load.running():
            return
        body = _call(
            load,
            "ingest",
            client,
            "POST",
            "/v1/mentions",
            json=mention_batch(f"L{round_no}", BATCH),
        )
        for mention_id in body["ids"] if body else []:
            load.fresh.put(mention_id)
        while load.fresh.qsize() > 4 * BATCH and load.running():
            time.sleep(0.05)


def proposer(load: Load, client: httpx.Client, number: int) -> None:
    for n in itertools.count():
        if not load.running():
            return
        try:
            mention_id = load.fresh.get(timeout=0.5)
        except queue.Empty:
            continue
        body = _call(
            load,
            "propose",
            client,
            "POST",
            "/v1/proposals",
            json={
                "mention_id": mention_id,
                "text": "Sorry, we are on it.",
                "ai_generated": n % 3 == 0,
            },
        )
        if body is not None:
            with load.lock:
                load.acknowledged.append(Answer(mention_id, 201, body, None))


def reviewer(load: Load, client: httpx.Client) -> None:
    while load.running():
        page = _call(
            load, "review-list", client, "GET", "/v1/proposals?status=pending_review&limit=20"
        )
        for item in page["items"] if page else []:
            verb = "approve" if item["id"] % 2 else "reject"
            _call(
                load,
                "review",
                client,
                "POST",
                f"/v1/proposals/{item['id']}/{verb}",
                json={"note": "load"},
            )
        time.sleep(0.2)


def auditor(load: Load, client: httpx.Client) -> None:
    for n in itertools.count():
        if not load.running():
            return
        _call(load, "audit-read", client, "GET", "/v1/audit?limit=50")
        if n % 20 == 0:
            body = _call(load, "audit-verify", client, "GET", "/v1/audit/verify")
            if body is not None and not body.get("ok"):
                load.failures.append(f"audit-verify: {body}")
        time.sleep(0.1)


def _tree_rss_mib(pid: int) -> float:
    root = psutil.Process(pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


@pytest.mark.slow
async def test_mixed_load_has_no_errors_bounded_memory_and_an_intact_chain(
    fresh_db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    seconds = 300.0 if request.config.getoption("--slow") else 30.0
    env = gateway_env(fresh_db_url, tmp_path)
    tokens = {
        "admin": add_user(env, "root", "admin"),
        "agent": add_user(env, "alice", "agent"),
        "compliance": add_user(env, "carol", "compliance"),
        "auditor": add_user(env, "erin", "auditor"),
    }
    server = Server(env, tmp_path / "server.log")
    load = Load(seconds)
    peak = 0.0
    clients: list[httpx.Client] = []

    def client(role: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        clients.append(httpx.Client(base_url=server.url, headers=headers, timeout=30))
        return clients[-1]

    try:
        jobs = [
            threading.Thread(target=ingester, args=(load, client("admin"))),
            threading.Thread(target=reviewer, args=(load, client("compliance"))),
            threading.Thread(target=auditor, args=(load, client("auditor"))),
        ] + [
            threading.Thread(target=proposer, args=(load, client("agent"), n))
            for n in range(PROPOSERS)
        ]
        for job in jobs:
            job.daemon = True
            job.start()
        while any(job.is_alive() for job in jobs):
            peak = max(peak, _tree_rss_mib(server.proc.pid))
            await asyncio.sleep(0.5)
            assert time.monotonic() < load.deadline + 120, "the load did not stop in time"
        assert not load.failures, load.failures[:5]
        assert load.counts["propose"] > 0 and load.counts["review"] > 0, load.counts
        await assert_intact(fresh_db_url, load.acknowledged)
        assert_chain_verifies(env)
    finally:
        for each in clients:
            each.close()
        server.stop()
    print(f"\nload {seconds:.0f}s: {dict(load.counts)}; peak server RSS {peak:.0f} MiB")
    assert peak < RSS_BOUND_MIB, f"server tree peaked at {peak:.0f} MiB"
