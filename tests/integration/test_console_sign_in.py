"""Console sign-in, sessions, CSRF and sign-out against the real app and database."""

from __future__ import annotations

import httpx

from gateway.app import create_app
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
from tests.integration.sources_support import serving


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


async def _age_sessions(runtime: Runtime, sql_set: str) -> None:
    async with runtime.db.pool.acquire() as conn:
        await conn.execute("RESET ROLE")  # the test moves time, which the app role may not
        await conn.execute(f"UPDATE console_sessions SET {sql_set}")
        await conn.execute("SET ROLE gateway_app")


async def test_an_idle_session_ends(runtime: Runtime) -> None:
    await add_person(runtime, "alice", "agent")
    async with console_app(runtime) as base, httpx.AsyncClient(base_url=base) as client:
        await sign_in(client, "alice")
        assert (await client.get("/ui/home")).status_code == 200
        idle = runtime.settings.console_idle_s
        await _age_sessions(runtime, f"last_seen_at = now() - make_interval(secs => {idle + 1})")
        gone = await client.get("/ui/home")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/ui/sign-in")


async def test_a_session_ends_at_its_absolute_expiry_however_active(runtime: Runtime) -> None:
    await add_person(runtime, "alice", "agent")
    async with console_app(runtime) as base, httpx.AsyncClient(base_url=base) as client:
        before = await sign_in(client, "alice")
        max_age = int(before.headers["set-cookie"].split("Max-Age=")[1].split(";")[0])
        assert abs(max_age - runtime.settings.console_absolute_s) < 60
        await _age_sessions(runtime, "expires_at = now() - interval '1 second'")
        assert (await client.get("/ui/home")).status_code == 303


async def test_failed_sign_ins_are_rate_limited_per_name_with_when_to_retry(
    runtime: Runtime,
) -> None:
    await add_person(runtime, "alice", "agent")
    limit = runtime.settings.sign_in_max_failures
    async with console_app(runtime) as base, httpx.AsyncClient(base_url=base) as client:
        for _ in range(limit):
            assert (await sign_in(client, "alice", "wrong password!")).status_code == 401
        throttled = await sign_in(client, "alice", PASSWORD)  # even the right one, for now
        assert throttled.status_code == 429
        assert "Too many failed sign-ins for &#39;alice&#39;. Try again in" in throttled.text
        assert int(throttled.headers["retry-after"]) > 0
        assert "egw_session" not in throttled.headers.get("set-cookie", "")
        # another name from the same address is not locked out by alice's failures
        await add_person(runtime, "bob", "agent")
        assert (await sign_in(client, "bob")).status_code == 303


async def test_failed_sign_ins_are_rate_limited_per_address(runtime: Runtime) -> None:
    limit = runtime.settings.sign_in_max_failures_per_address
    async with console_app(runtime) as base, httpx.AsyncClient(base_url=base) as client:
        for n in range(limit):
            assert (await sign_in(client, f"nobody{n}", "wrong password!")).status_code == 401
        throttled = await sign_in(client, "someone-else", "wrong password!")
        assert throttled.status_code == 429
        assert "from your address" in throttled.text


async def test_sign_ins_are_audited_without_the_secret(runtime: Runtime) -> None:
    token = await add_person(runtime, "alice", "agent")
    async with console_app(runtime) as base, httpx.AsyncClient(base_url=base) as client:
        await sign_in(client, "alice", "a wrong secret")
        await sign_in_with_token(client, token + "x")
        await sign_in(client, "alice")
        home = await client.get("/ui/home")
        await client.post("/ui/sign-out", data={"_csrf": form_csrf(home.text)})
    async with runtime.db.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT kind, actor, payload::text AS payload FROM audit_events"
            " WHERE kind LIKE 'console_%' ORDER BY seq"
        )
    kinds = [(r["kind"], r["actor"]) for r in rows]
    assert kinds == [
        ("console_sign_in_failed", "system"),
        ("console_sign_in_failed", "system"),
        ("console_signed_in", "alice"),
        ("console_signed_out", "alice"),
    ]
    everything = " ".join(r["payload"] for r in rows)
    assert "a wrong secret" not in everything and token not in everything
    assert PASSWORD not in everything
    assert '"method": "password"' in rows[0]["payload"]
    assert '"method": "token"' in rows[1]["payload"]


async def test_the_session_id_is_stored_only_hashed(runtime: Runtime) -> None:
    await add_person(runtime, "alice", "agent")
    async with console_app(runtime) as base, httpx.AsyncClient(base_url=base) as client:
        await sign_in(client, "alice")
        cookie = client.cookies.get("egw_session")
    async with runtime.db.pool.acquire() as conn:
        stored = await conn.fetchval("SELECT id_hash FROM console_sessions")
        password_hash = await conn.fetchval("SELECT password_hash FROM users WHERE name='alice'")
    assert cookie and stored and cookie not in stored and len(stored) == 64
    assert password_hash.startswith("$argon2id$")


async def test_console_errors_are_pages_and_htmx_gets_them_in_the_flash_area(
    runtime: Runtime,
) -> None:
    from litestar import Controller, get

    from gateway.http.auth import roles

    class AdminOnly(Controller):
        path = "/ui/admin-only"
        guards = (roles("admin"),)

        @get("/", sync_to_thread=False)
        def admin_only(self) -> str:
            return "secret"

    await add_person(runtime, "alice", "agent")
    app = create_app(runtime.settings)
    app.register(AdminOnly)
    app.state.runtime = runtime
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as client:
        anonymous = await client.get("/ui/admin-only", headers={"HX-Request": "true"})
        assert anonymous.status_code == 401
        assert anonymous.headers["hx-redirect"] == "/ui/sign-in?next=/ui/admin-only"
        await sign_in(client, "alice")
        refused = await client.get("/ui/admin-only")
        assert refused.status_code == 403
        assert "text/html" in refused.headers["content-type"]
        assert "Not allowed" in refused.text and "your role is agent; this needs admin" in (
            refused.text
        )
        fragment = await client.get("/ui/admin-only", headers={"HX-Request": "true"})
        assert fragment.status_code == 403
        assert fragment.headers["hx-retarget"] == "#flash"
        assert "<html" not in fragment.text and "this needs admin" in fragment.text
        api = await client.get("/v1/users")  # the API keeps problem+json, cookie or not
        assert api.status_code == 401
        assert api.headers["content-type"].startswith("application/problem+json")
