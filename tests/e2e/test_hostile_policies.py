"""Hostile policy code cannot stall or kill the gateway (issue 10, points 1 and 2).

A real gateway process, with small sandbox limits (1 s, 256 MiB per run), receives the
drafts from the issue (a test looping twice over numbers.range(1, 5000); a test counting
numbers.range(1, 300000000)) and the same rules as a shadow policy, while another client
keeps calling GET /health and GET /v1/mentions. The issue asks for the latency bound:
their p99 must stay under 100 ms, and the process must survive.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import Server, add_user, gateway_env
from tests.e2e.test_api import COMPLAINT, REPLY, assert_problem, mention
from tests.support.hostile_policies import HUGE, ISSUE_SLOW, SLOW, with_decision, with_test

P99_LIMIT_MS = 100.0
# Above this with nothing running, the machine (shared CI, parallel suites) is too busy
# for a 100 ms bound to say anything about the gateway: after checking everything else,
# the test skips the latency assertion, saying so.
BASELINE_LIMIT_MS = 30.0


def _load_loop(url: str, token: str, ready: Any, stop: Any, results: Any) -> None:
    """In its own process, so the driver's work cannot delay a measured request."""
    latencies: dict[str, list[float]] = {"/health": [], "/v1/mentions": []}
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        client.get("/health")
        ready.set()
        while not stop.is_set():
            for path in latencies:
                started = time.perf_counter()
                try:
                    r = client.get(path, params={"limit": 20} if path != "/health" else None)
                except httpx.HTTPError as exc:
                    failures.append(f"{path}: {exc!r}")
                    continue
                latencies[path].append((time.perf_counter() - started) * 1000)
                if r.status_code != 200:
                    failures.append(f"{path}: {r.status_code}")
            time.sleep(0.005)
    results.put((latencies, failures))


class Load:
    """Calls GET /health and GET /v1/mentions in turn from another process, recording
    each latency."""

    def __init__(self, url: str, token: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._ready, self._stop = context.Event(), context.Event()
        self._results: Any = context.Queue()
        self._process = context.Process(
            target=_load_loop,
            args=(url, token, self._ready, self._stop, self._results),
            daemon=True,
        )
        self.latencies: dict[str, list[float]] = {}
        self.failures: list[str] = []

    def start(self) -> None:
        self._process.start()
        assert self._ready.wait(60), "the load process did not start"

    def finish(self) -> None:
        self._stop.set()
        self.latencies, self.failures = self._results.get(timeout=60)
        self._process.join(10)


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def measure_baseline(url: str, token: str) -> float:
    """p99 of the same requests with no policy work under way (1.5 s)."""
    load = Load(url, token)
    load.start()
    time.sleep(1.5)
    load.finish()
    return max(p99(ms) for ms in load.latencies.values())


@pytest.mark.slow
def test_hostile_drafts_and_shadows_neither_stall_nor_kill_the_gateway(
    fresh_db_url: str, tmp_path: Path
) -> None:
    env = gateway_env(
        fresh_db_url,
        tmp_path,
        GATEWAY_SANDBOX_TIMEOUT_S="1",
        GATEWAY_SANDBOX_MEMORY_MB="256",
        GATEWAY_POLICY_TIMEOUT_S="1",
    )
    carol = add_user(env, "carol", "compliance")
    dave = add_user(env, "dave", "compliance")
    agent = add_user(env, "alice", "agent")
    admin = add_user(env, "root", "admin")
    server = Server(env, tmp_path / "server.log", worker=False)
    try:
        with server.client(admin) as c:
            handles = [f"@hostile{n}@social.example" for n in range(6)]
            r = c.post(
                "/v1/mentions", json={"mentions": [mention(COMPLAINT, handle=h) for h in handles]}
            )
            assert r.status_code == 200, r.text
            mention_ids: list[int] = r.json()["ids"]
        for _ in range(20):  # warm both routes before measuring
            httpx.get(f"{server.url}/health")
        baseline = measure_baseline(server.url, agent)
        load = Load(server.url, agent)
        load.start()
        try:
            time.sleep(0.5)
            outcomes = run_hostile_policies(server, carol, dave, agent, mention_ids)
            time.sleep(0.5)
        finally:
            load.finish()

        assert server.proc.poll() is None, server.logs()[-2000:]  # the process survived
        assert httpx.get(f"{server.url}/health").status_code == 200
        assert not load.failures, load.failures[:5]
        logs = server.logs()
        assert "policy_run_failed" in logs and "policy_timeout" in logs
        figures = {path: round(p99(ms), 1) for path, ms in load.latencies.items()}
        counts = {path: len(ms) for path, ms in load.latencies.items()}
        print(f"p99 ms {figures} (baseline {baseline:.1f}), requests {counts}, runs {outcomes}")
        assert all(n >= 50 for n in counts.values()), counts
        if baseline >= BASELINE_LIMIT_MS:
            pytest.skip(
                f"everything but the latency bound checked; this machine is too loaded to "
                f"measure a 100 ms bound: p99 was {baseline:.0f} ms with no policy running "
                f"(then {figures})"
            )
        assert all(value < P99_LIMIT_MS for value in figures.values()), (figures, counts)
    finally:
        server.stop()


def run_hostile_policies(
    server: Server, carol: str, dave: str, agent: str, mention_ids: list[int]
) -> dict[str, Any]:
    outcomes: dict[str, Any] = {}
    with server.client(carol) as c:
        for name, condition, codes in (
            ("slow", SLOW, {"policy_timeout"}),
            ("huge", HUGE, {"policy_memory"}),
            ("issue_slow", ISSUE_SLOW, {"policy_timeout", "policy_memory"}),
        ):
            started = time.monotonic()
            r = c.post("/v1/policies", json={"files": with_test(condition), "data": {}})
            body = assert_problem(r, 422)
            assert body["code"] in codes, body
            outcomes[f"draft_{name}_s"] = round(time.monotonic() - started, 2)
    shadows = iter(mention_ids)
    for name, condition in (("huge", HUGE), ("slow", SLOW)):
        with server.client(carol) as c:
            r = c.post(
                "/v1/policies",
                json={"files": with_decision(condition), "data": {}, "description": name},
            )
            assert r.status_code == 201, r.text
            revision = r.json()["revision"]
        with server.client(carol) as c:  # one officer proposes the shadow ...
            r = c.post(f"/v1/policies/{revision}/shadow")
            assert r.status_code in (200, 201, 202), r.text
            request_id = r.json()["id"]
        with server.client(dave) as c:  # ... and another confirms it (two-person rule)
            r = c.post(f"/v1/policies/requests/{request_id}/confirm")
            assert r.status_code == 200, r.text
            assert r.json()["shadow_revision"] == revision
        with server.client(agent) as c:
            for _ in range(3):
                started = time.monotonic()
                r = c.post("/v1/proposals", json={"mention_id": next(shadows), "text": REPLY})
                took = time.monotonic() - started
                assert r.status_code == 201, r.text
                assert r.json()["status"] == "approved"  # the active policy decided
                assert took < 1.0, took  # the shadow waits 0.25 s at most
                outcomes.setdefault(f"proposal_with_{name}_shadow_s", []).append(round(took, 3))
    with server.client(dave) as c:
        assert c.delete("/v1/policies/shadow").status_code == 200
    return outcomes
