"""One admin cannot pass the two-person rule alone with a token they issued.

Admins "may do everything", so an admin may draft a policy. ``POST /v1/users/{name}/rotate``
hands the admin a fresh token of another compliance officer; with it the admin used to
activate their own draft, and the record showed a second person (``dave``) who never acted
(found by QA). A token issued by the first person cannot act as the second; a token issued
by someone else (the operator, another admin) can.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import Server, add_user, gateway_env, run_cli


@pytest.mark.slow
def test_an_admin_cannot_activate_their_own_draft_with_a_rotated_token(
    fresh_db_url: str, tmp_path: Path
) -> None:
    env = gateway_env(fresh_db_url, tmp_path)
    add_user(env, "dave", "compliance")
    admin = add_user(env, "root", "admin")
    server = Server(env, tmp_path / "a.log", worker=False)
    try:
        with server.client(admin) as c:
            state = c.get("/v1/policies/state").json()
            active: dict[str, Any] = c.get(f"/v1/policies/{state['active_revision']}").json()
            data = copy.deepcopy(active["data"])
            data["caps"]["per_customer_24h"] = 50
            draft = c.post(
                "/v1/policies", json={"files": active["files"], "data": data, "description": "x"}
            )
            assert draft.status_code == 201, draft.text
            revision = draft.json()["revision"]
            rotated = c.post("/v1/users/dave/rotate")
            assert rotated.status_code == 200, rotated.text
            daves = rotated.json()["token"]
        with server.client(daves) as c:
            activated = c.post(f"/v1/policies/{revision}/activate")
        # The promise: a second person, not a second token in the same hands.
        assert activated.status_code == 403, activated.text
        assert "issued by root" in activated.json()["detail"]
        own = run_cli(env, "users", "rotate", "dave")  # the operator issues dave a new token
        assert own.returncode == 0, own.stderr
        with server.client(own.stdout.strip().splitlines()[-1]) as c:
            activated = c.post(f"/v1/policies/{revision}/activate")
        assert activated.status_code == 200, activated.text
        assert activated.json()["active_revision"] == revision
    finally:
        server.stop()
