"""The audit-log API: filters over HTTP, 400s naming the field, roles, the verification
record, the dashboard figures, and a bundle for a filter."""

from __future__ import annotations

import io
import json
import secrets
import tarfile
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from gateway.http.audit_log_routes import AUDIT_LOG_ROUTES
from gateway.http.audit_routes import AUDIT_ROUTES
from gateway.http.auth import DEPENDENCIES, authenticated
from gateway.http.controllers import ROUTES
from gateway.http.problems import EXCEPTION_HANDLERS
from gateway.runtime import Runtime
from gateway.store import users
from tests.integration.sources_support import serving
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user


@pytest.fixture
async def clients(runtime: Runtime) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    tokens = {}
    async with runtime.db.pool.acquire() as conn:
        for name, role in (("erin", "auditor"), ("alice", "agent"), ("carol", "compliance")):
            tokens[role] = secrets.token_hex(16)
            await users.add_user(conn, name=name, role=role, token=tokens[role])
    app = Litestar(
        route_handlers=[*ROUTES, *AUDIT_ROUTES, *AUDIT_LOG_ROUTES],
        exception_handlers=EXCEPTION_HANDLERS,
        guards=[authenticated],  # the app's own: role guards read the user it sets
        dependencies=DEPENDENCIES,
        debug=False,
    )
    app.state.runtime = runtime
    async with serving(app) as base:
        made = {
            role: httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            for role, token in tokens.items()
        }
        try:
            yield made
        finally:
            for client in made.values():
                await client.aclose()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("outcome=maybe", "outcome"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("before=0", "before"),
        ("since=yesterday", "since"),
        ("kind=a%00b", "kind"),
        ("since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "until"),
        ("customer=%40", "customer"),
    ],
)
async def test_bad_filters_are_400s_naming_the_field(
    clients: dict[str, httpx.AsyncClient], query: str, field: str
) -> None:
    response = await clients["auditor"].get(f"/v1/audit/events?{query}")
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.text


async def test_the_log_over_http_and_who_may_read_it(
    runtime: Runtime, clients: dict[str, httpx.AsyncClient]
) -> None:
    agent = await make_user(runtime, "ann", "agent")
    mention_id = await ingest_one(runtime, COMPLAINT, handle="@zed@social.example")
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    response = await clients["auditor"].get(
        "/v1/audit/events", params={"customer": "ZED@social.example", "outcome": "allow"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [e["seq"] for e in body["items"]] == [proposal.audit_seq]
    assert body["next_before"] is None
    assert (await clients["agent"].get("/v1/audit/events")).status_code == 403
    assert (await clients["compliance"].get("/v1/audit/events")).status_code == 200

    # The dashboard is for everyone; the verification record for readers of the log.
    figures = await clients["agent"].get("/v1/dashboard")
    assert figures.status_code == 200, figures.text
    assert figures.json()["decisions_by_outcome"] == {"allow": 1}
    assert (await clients["auditor"].get("/v1/audit/verifications/latest")).status_code == 404
    assert (await clients["agent"].post("/v1/audit/verifications")).status_code == 403
    ran = await clients["auditor"].post("/v1/audit/verifications")
    assert ran.status_code == 200 and ran.json()["ok"] is True, ran.text
    latest = await clients["auditor"].get("/v1/audit/verifications/latest")
    assert latest.json()["verified_by"] == "erin"
    reports = await clients["auditor"].get("/v1/audit/reports/activity")
    assert reports.status_code == 200 and reports.json()["decisions_per_day"], reports.text

    # A bundle for the filter carries its selection; a bad filter is a 400 before any work.
    bundle = await clients["auditor"].get("/v1/audit/bundle", params={"outcome": "allow"})
    assert bundle.status_code == 200, bundle.text
    with tarfile.open(fileobj=io.BytesIO(bundle.content), mode="r:gz") as tar:
        handle = tar.extractfile("audit-evidence/selection.json")
        assert handle is not None
        selection = json.loads(handle.read())
    assert selection["filter"] == {"outcome": "allow"}
    assert [seq for seq, _ in selection["events"]] == [proposal.audit_seq]
    bad = await clients["auditor"].get("/v1/audit/bundle", params={"customer": "@"})
    assert bad.status_code == 400, bad.text
