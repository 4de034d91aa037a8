"""Console sign-in, sessions, CSRF and sign-out against the real app and database."""

from __future__ import annotations

import httpx

from gateway.pipeline.accounts import Accounts
from gateway.runtime import Runtime
from tests.integration.console_support import (
    PASSWORD,
    add_person,
    console_app,
    form_csrf,
    sign_in,
    sign_in_with_token,
)


async def test_a_password_sign_in_opens_a_session_and_lands_by_role(runtime: Runtime) -> None:
    await add_person(runtime, "alice", "agent")
    async with console_app(runtime) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/ui/home")).status_code == 303  # not signed in yet
        done = await sign_in(client, "alice")
        assert done.status_code == 303, done.text
        cookie = done.headers["set-cookie"]
        assert "egw_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Path=/ui" in cookie and "Secure" not in cookie  # plain HTTP here
        home = await client.get("/ui/home")
        assert home.status_code == 200
        assert "alice" in home.text and "agent" in home.text


async def test_a_wrong_password_says_so_and_opens_nothing(runtime: Runtime) -> None:
    await add_person(runtime, "alice", "agent")
    async with console_app(runtime) as base, httpx.AsyncClient(base_url=base) as client:
        done = await sign_in(client, "alice", "not the password")
        assert done.status_code == 401
        assert "The name or password is not right." in done.text
        assert "egw_session" not in done.headers.get("set-cookie", "")


async def test_an_api_token_signs_in_and_sign_out_ends_the_session(runtime: Runtime) -> None:
    token = await add_person(runtime, "carol", "compliance")
    async with console_app(runtime) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await sign_in_with_token(client, token)).status_code == 303
        home = await client.get("/ui/home")
        assert home.status_code == 200
        cookie = client.cookies.get("egw_session")
        out = await client.post("/ui/sign-out", data={"_csrf": form_csrf(home.text)})
        assert out.status_code == 303 and out.headers["location"] == "/ui/sign-in"
        # the old cookie, replayed, opens nothing: the session row is gone
        replay = httpx.AsyncClient(base_url=base, cookies={"egw_session": cookie or ""})
        async with replay:
            assert (await replay.get("/ui/home")).status_code == 303


async def test_a_state_changing_request_without_the_csrf_token_is_refused(
    runtime: Runtime,
) -> None:
    await add_person(runtime, "alice", "agent")
    async with console_app(runtime) as base, httpx.AsyncClient(base_url=base) as client:
        await sign_in(client, "alice")
        refused = await client.post("/ui/sign-out", data={})
        assert refused.status_code == 403
        assert "reload the page" in refused.text
        wrong = await client.post("/ui/sign-out", headers={"X-CSRF-Token": "0" * 64})
        assert wrong.status_code == 403
        home = await client.get("/ui/home")
        assert home.status_code == 200  # still signed in
        ok = await client.post(
            "/ui/sign-out", headers={"X-CSRF-Token": form_csrf(home.text), "HX-Request": "true"}
        )
        assert ok.status_code == 303


async def test_disabling_a_user_or_rotating_their_token_ends_their_sessions(
    runtime: Runtime,
) -> None:
    await add_person(runtime, "alice", "agent")
    await add_person(runtime, "bob", "agent")
    accounts = Accounts(runtime.db.pool)
    async with (
        console_app(runtime) as base,
        httpx.AsyncClient(base_url=base) as alice,
        httpx.AsyncClient(base_url=base) as bob,
    ):
        await sign_in(alice, "alice")
        await sign_in(bob, "bob")
        await accounts.rotate("alice", actor="test")
        await accounts.disable("bob", actor="test")
        assert (await alice.get("/ui/home")).status_code == 303
        assert (await bob.get("/ui/home")).status_code == 303
        assert (await sign_in(bob, "bob")).status_code == 401  # disabled: no new session
        assert (await sign_in(alice, "alice", PASSWORD)).status_code == 303
