"""Users and tokens: admins list, disable and replace tokens (API and CLI), each audited;
a disabled or replaced token is refused on the very next request (no token cache)."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from gateway import cli_users
from gateway.http.auth import DEPENDENCIES
from gateway.http.controllers import ROUTES
from gateway.http.problems import EXCEPTION_HANDLERS
from gateway.http.user_routes import USER_ROUTES
from gateway.pipeline.accounts import Accounts
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.store import audit
from tests.integration.sources_support import serving


class Api:
    def __init__(self, base: str) -> None:
        self.base = base

    def as_(self, token: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.AsyncClient(base_url=self.base, headers=headers, timeout=10)


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[Api]:
    app = Litestar(
        route_handlers=[*ROUTES, *USER_ROUTES],
        exception_handlers=EXCEPTION_HANDLERS,
        dependencies=DEPENDENCIES,
        debug=False,
    )
    app.state.runtime = runtime
    async with serving(app) as base:
        yield Api(base)


async def kinds(runtime: Runtime, subject: str) -> list[tuple[str, str]]:
    async with runtime.db.pool.acquire() as conn:
        events = await audit.list_events(conn, subject=subject, limit=100)
    return [(e.kind, e.actor) for e in events]


async def test_a_rotated_or_disabled_token_is_refused_on_the_next_request(
    runtime: Runtime, api: Api
) -> None:
    accounts = Accounts(runtime.db.pool)
    _admin, admin_token = await accounts.add(name="root", role="admin", actor="test")
    _user, old = await accounts.add(name="carol", role="compliance", actor="test")
    async with api.as_(old) as carol:
        assert (await carol.get("/v1/mentions")).status_code == 200  # the token is now "warm"
        async with api.as_(admin_token) as root:
            rotated = await root.post("/v1/users/carol/rotate")
            assert rotated.status_code == 200, rotated.text
            new = rotated.json()["token"]
            assert rotated.json()["user"]["token_rotated_at"] is not None
            refused = await carol.get("/v1/mentions")
            assert refused.status_code == 401
            assert "not valid" in refused.json()["detail"]
            async with api.as_(new) as carol_again:
                assert (await carol_again.get("/v1/mentions")).status_code == 200
                disabled = await root.post("/v1/users/carol/disable")
                assert disabled.status_code == 200 and disabled.json()["disabled_at"]
                assert (await carol_again.get("/v1/mentions")).status_code == 401
            listed = (await root.get("/v1/users")).json()
            assert [(u["name"], u["role"]) for u in listed] == [
                ("carol", "compliance"),
                ("root", "admin"),
            ]
            assert all("token" not in u and "token_hash" not in u for u in listed)
            assert (await root.post("/v1/users/nobody/disable")).status_code == 404
    assert await kinds(runtime, "user:carol") == [
        ("user_added", "test"),
        ("user_token_rotated", "root"),
        ("user_disabled", "root"),
    ]


async def test_only_admins_manage_users(runtime: Runtime, api: Api) -> None:
    accounts = Accounts(runtime.db.pool)
    _user, token = await accounts.add(name="carol", role="compliance", actor="test")
    async with api.as_(token) as carol:
        assert (await carol.get("/v1/users")).status_code == 403
        assert (await carol.post("/v1/users/carol/rotate")).status_code == 403
    async with api.as_("not-a-token") as nobody:
        assert (await nobody.post("/v1/users/carol/disable")).status_code == 401


def users_cli(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway")
    cli_users.add_commands(parser.add_subparsers(dest="command", required=True))
    return cli_users.run(parser.parse_args(["users", *argv]), settings)


def test_users_list_disable_and_rotate_from_the_cli(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert users_cli(settings, "add", "zoe", "--role", "auditor") == 0
    first = capsys.readouterr().out.strip().splitlines()[-1]
    assert users_cli(settings, "rotate", "zoe") == 0
    out = capsys.readouterr().out
    assert "new API token for zoe (shown once; the old one is refused now):" in out
    second = out.strip().splitlines()[-1]
    assert len(second) >= 40 and second != first
    assert users_cli(settings, "list") == 0
    listing = capsys.readouterr().out
    [line] = [x for x in listing.splitlines() if x.startswith("zoe ")]
    assert "auditor" in line and "active" in line and "token replaced" in line
    assert first not in listing and second not in listing
    assert users_cli(settings, "disable", "zoe") == 0
    assert "refused from now on" in capsys.readouterr().out
    assert users_cli(settings, "list") == 0
    assert "disabled" in capsys.readouterr().out
    assert users_cli(settings, "rotate", "nobody") == 1
    assert "no user named 'nobody'" in capsys.readouterr().err
