"""A compliance officer changes a rule through the API; a colleague activates it; every
gateway instance on the database switches to it (LISTEN/NOTIFY) and records it."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import Server, add_user, gateway_env
from tests.e2e.test_api import assert_problem


@pytest.mark.slow
def test_activation_reaches_every_instance(fresh_db_url: str, tmp_path: Path) -> None:
    env = gateway_env(fresh_db_url, tmp_path)
    carol = add_user(env, "carol", "compliance")
    dave = add_user(env, "dave", "compliance")
    agent = add_user(env, "alice", "agent")
    admin = add_user(env, "root", "admin")
    a = Server(env, tmp_path / "a.log", worker=False)
    b = Server(env, tmp_path / "b.log", worker=False)
    try:
        with a.client(carol) as c:
            state = c.get("/v1/policies/state").json()
            active: dict[str, Any] = c.get(f"/v1/policies/{state['active_revision']}").json()
            assert active["state"] == "active" and active["tests_passed"] is True
            broken = {**active["files"], "engagement/x.rego": "package engagement\nx := {\n"}
            refused = c.post("/v1/policies", json={"files": broken, "data": active["data"]})
            body = assert_problem(refused, 422)
            assert body["file"] == "engagement/x.rego" and body["line"]

            data = copy.deepcopy(active["data"])
            data["blocked_terms"] = [*data["blocked_terms"], "pineapple"]
            r = c.post(
                "/v1/policies",
                json={"files": active["files"], "data": data, "description": "no fruit"},
            )
            assert r.status_code == 201, r.text
            draft = r.json()
            assert draft["state"] == "draft" and draft["tests_passed"] is True
            diff = c.get(f"/v1/policies/{active['revision']}/diff/{draft['revision']}").json()
            assert '+    "pineapple"' in diff[0]["diff"]
            tested = c.post(f"/v1/policies/{draft['revision']}/test").json()
            assert tested["failed"] == 0 and tested["passed"] > 50 and tested["coverage"]
            impact = c.post(f"/v1/policies/{draft['revision']}/impact", json={"last": 100})
            assert impact.status_code == 200 and impact.json()["changed"] == 0
            assert_problem(
                c.post(f"/v1/policies/{draft['revision']}/activate"), 403, contains="two-person"
            )
        with b.client(dave) as c:
            started = time.monotonic()
            r = c.post(f"/v1/policies/{draft['revision']}/activate")
            assert r.status_code == 200, r.text
        # Instance A learns of it from NOTIFY.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if httpx.get(f"{a.url}/health").json()["policy_revision"] == draft["revision"]:
                break
            time.sleep(0.05)
        switched_after = time.monotonic() - started
        assert httpx.get(f"{a.url}/health").json()["policy_revision"] == draft["revision"]
        assert switched_after < 5, switched_after
        with a.client(admin) as c:
            [mention_id] = c.post(
                "/v1/mentions",
                json={
                    "mentions": [
                        {
                            "channel": "demo",
                            "external_id": "f-1",
                            "url": None,
                            "author": {"handle": "@lee@social.example"},
                            "text": "@acme why is my order late?",
                            "created_at": "2026-11-20T10:00:00Z",
                        }
                    ]
                },
            ).json()["ids"]
        with a.client(agent) as c:
            denied = c.post(
                "/v1/proposals", json={"mention_id": mention_id, "text": "Have a pineapple on us"}
            ).json()
        assert denied["decision"]["policy_revision"] == draft["revision"]
        assert "blocked_term" in [x["code"] for x in denied["decision"]["reasons"]]
        # Rolling back is proposed by one officer and carried out when another confirms.
        with a.client(carol) as c:
            proposed = c.post("/v1/policies/rollback")
            assert proposed.status_code == 202, proposed.text
            request = proposed.json()
            assert request["revision"] == active["revision"] and request["status"] == "pending"
            assert c.get("/v1/policies/state").json()["active_revision"] == draft["revision"]
            own = c.post(f"/v1/policies/requests/{request['id']}/confirm")
            detail = assert_problem(own, 403, contains="two-person")["detail"]
            assert f"POST /v1/policies/requests/{request['id']}/confirm" in detail
            assert "python -m gateway" not in detail
            [pending] = c.get("/v1/policies/requests").json()
            assert pending["id"] == request["id"]
        with b.client(dave) as c:
            confirmed = c.post(f"/v1/policies/requests/{request['id']}/confirm")
            assert confirmed.status_code == 200, confirmed.text
            assert confirmed.json()["active_revision"] == active["revision"]
    finally:
        a.stop()
        b.stop()
