"""The README's first command as a user runs it: no DATABASE_URL, embedded PostgreSQL,
default policies, the demo source feeding mentions and the demo publisher releasing."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from tests.e2e.server import Server, gateway_env, run_cli


@pytest.mark.slow
def test_serve_on_the_embedded_default(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = gateway_env("", data_dir, GATEWAY_DEMO_SOURCE="true", GATEWAY_DEMO_INTERVAL_S="0.5")
    del env["DATABASE_URL"]
    del env["GATEWAY_DEMO"]  # the embedded database alone turns the demo on
    done = run_cli(env, "users", "demo")
    assert done.returncode == 0, done.stderr
    tokens = dict(
        line.split("  #")[0].split("=", 1)
        for line in (data_dir / "demo-tokens.txt").read_text().splitlines()
    )
    assert set(tokens) >= {"DEMO_AGENT_TOKEN", "DEMO_COMPLIANCE_TOKEN", "DEMO_AUDITOR_TOKEN"}
    assert (data_dir / "demo-tokens.txt").stat().st_mode & 0o077 == 0
    server = Server(env, tmp_path / "serve.log")
    try:
        with server.client(tokens["DEMO_AGENT_TOKEN"]) as c:
            deadline = time.monotonic() + 20
            items: list[dict[str, object]] = []
            while time.monotonic() < deadline and len(items) < 10:
                items = c.get("/v1/mentions", params={"limit": 100}).json()["items"]
                time.sleep(0.2)
            assert len(items) >= 10, server.logs()
            target = next(m for m in items if m["intent"] == "complaint" and m["addressed"])
            proposal = c.post(
                "/v1/proposals",
                json={
                    "mention_id": target["id"],
                    "text": "Sorry about this, we are looking into your order right now.",
                },
            ).json()
            assert proposal["status"] == "approved", proposal
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                status = c.get(f"/v1/proposals/{proposal['id']}").json()
                if status["status"] == "released":
                    break
                time.sleep(0.2)
            assert status["status"] == "released", server.logs()
    finally:
        server.stop()
    assert "Sorry about this" in (data_dir / "demo-sent.jsonl").read_text()
    assert (data_dir / "pg" / "PG_VERSION").exists()
    # The CLI verifies the chain on the same embedded database after the server stopped.
    verify = run_cli(env, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("ok:")
    # Nothing is left running once the last process using the embedded database exited.
    pgdata = str(data_dir / "pg")
    leftovers = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"] and "postgres" in p.info["cmdline"][0] and pgdata in p.info["cmdline"]
    ]
    assert leftovers == []
