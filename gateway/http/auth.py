"""One way in: authentication and role checks for the API and the console.

Every route passes the app-wide guard ``authenticated``, which Litestar runs before it reads
the request's body or converts its parameters (an unauthenticated caller learns nothing
about what a route accepts):

- ``/v1/...``: ``Authorization: Bearer TOKEN`` (except routes marked ``opt=PUBLIC``: the
  checkpoint signing key, and inbound webhooks, which are authenticated by their signature);
- ``/ui/...``: the console's session cookie (``session_cookie.py``), plus this session's
  CSRF token on every state-changing request (except ``opt=PUBLIC`` pages: sign-in);
- anything else must be marked ``opt=PUBLIC`` (``/health``, ``/static``) or be the OpenAPI
  documents under ``/schema``; any other route is refused (fail closed).

Who may do what is a role guard on each route: ``guards=[roles("compliance")]``
(``gateway.domain.access.require``: admins may do everything). A handler never checks the
role again; a rule finer than a role (an agent sees only their own proposals, nobody
reviews their own reply) stays in the handler or the service it calls.
``tests/unit/http/test_route_guards.py`` walks every route and fails on one without a role
guard that is not on its short public list.

Handlers get what they need by dependency injection (``DEPENDENCIES``, registered on the
app; the parameter name is what Litestar matches, and none of them appears in the OpenAPI
document):

- ``user: CurrentUser``: the user the guard authenticated (a public route asking for it is
  refused, 401);
- ``runtime: Services``: the running ``Runtime`` (503 problem while the gateway starts);
- ``sources: Sources``: the configured sources' service and inbound webhooks;
- ``runtime_if_started: RuntimeIfStarted``: the ``Runtime`` or None (``/health`` only).

This module is the only one that reads ``app.state`` or checks a token or session:
``tests/unit/http/test_one_way_in.py`` fails on a handler module (``gateway/http``,
``gateway/web``, the handlers of ``gateway/app.py``) that does either itself.

A missing or unknown token is 401, a user whose role may not do the thing is 403 (API:
problem+json; console: a sign-in redirect or an error page). Tokens and sessions are looked
up on every request (one indexed query, no cache), so a disabled or rotated token, or an
ended session, is refused on the very next request on every instance.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler

from gateway.domain.access import (
    CsrfRefused,
    RoleRefused,
    SignInRequired,
    Unauthenticated,
    require,
)
from gateway.domain.records import ROLES, User
from gateway.http.session_cookie import (
    CONSOLE_PATH,
    SAFE_METHODS,
    SESSION_COOKIE,
    check_csrf,
    csrf_for_session,
)
from gateway.http.source_parts import SourceParts, source_parts
from gateway.runtime import Runtime
from gateway.store import users

__all__ = [
    "ANY_ROLE",
    "DEPENDENCIES",
    "PUBLIC",
    "CsrfRefused",
    "CurrentUser",
    "RoleRefused",
    "RuntimeIfStarted",
    "Services",
    "SignInRequired",
    "Sources",
    "Unauthenticated",
    "authenticated",
    "authenticated_user",
    "console_session_id",
    "require",
    "roles",
]

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]

PUBLIC = {"public": True}  # opt= of a route that needs no token or session
_USER_KEY = "gateway_user"
_SESSION_KEY = "gateway_console_session"
OPENAPI_PATH = "/schema"


async def _bearer_user(request: ASGIConnection[Any, Any, Any, Any], pool: asyncpg.Pool) -> User:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("send your API token as 'Authorization: Bearer TOKEN'")
    async with pool.acquire() as conn:
        user = await users.user_by_token(conn, token)
    if user is None:
        raise Unauthenticated("this API token is not valid (unknown, disabled or replaced)")
    return user


def is_console(path: str) -> bool:
    return path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/")


def _runtime(connection: ASGIConnection[Any, Any, Any, Any]) -> Any:
    runtime = getattr(connection.app.state, "runtime", None)
    if runtime is None:
        from gateway.store.errors import Unavailable

        raise Unavailable("the gateway is starting; try again in a moment")
    return runtime


async def _console_user(connection: ASGIConnection[Any, Any, Any, Any], runtime: Any) -> User:
    from gateway.pipeline.sign_in import SignIn

    session_id = connection.cookies.get(SESSION_COOKIE, "")
    found = (
        await SignIn(runtime.db.pool, runtime.settings).session(session_id) if session_id else None
    )
    if found is None:
        raise SignInRequired("sign in to use the console (your session ended or never began)")
    if connection.scope.get("method", "GET") not in SAFE_METHODS:
        await check_csrf(connection, csrf_for_session(session_id))
    connection.scope.setdefault("state", {})[_SESSION_KEY] = session_id
    return found.user


async def authenticated(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: bearer token on /v1, session (and CSRF) on /ui, else public or refused."""
    path = connection.url.path
    if handler.opt.get("public") or path == OPENAPI_PATH or path.startswith(OPENAPI_PATH + "/"):
        return
    if path.startswith("/v1/"):
        user = await _bearer_user(connection, _runtime(connection).db.pool)
    elif is_console(path):
        user = await _console_user(connection, _runtime(connection))
    else:
        raise Unauthenticated("this route is neither in the API nor in the console")
    connection.scope.setdefault("state", {})[_USER_KEY] = user


def authenticated_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The user the guard authenticated for this request (None on a public route)."""
    user: User | None = connection.scope.get("state", {}).get(_USER_KEY)
    return user


def console_session_id(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The console session id of this request (set by the guard on /ui routes)."""
    session_id: str | None = connection.scope.get("state", {}).get(_SESSION_KEY)
    return session_id


def roles(*allowed: str) -> Guard:
    """A route guard: the signed-in user needs one of ``allowed`` (admins pass always)."""
    unknown = set(allowed) - set(ROLES)
    if not allowed or unknown:
        raise ValueError(f"roles() needs roles from {ROLES}, not {sorted(unknown)}")

    async def role_guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        user = authenticated_user(connection)
        if user is None:  # an app built without the app-wide guard (some tests): same path
            await authenticated(connection, handler)
            user = authenticated_user(connection)
        if user is None:
            raise Unauthenticated("this route needs a signed-in user")
        require(user, *allowed)

    role_guard.roles = allowed  # type: ignore[attr-defined]  # read by the route-walk test
    role_guard.__qualname__ = f"roles{allowed}"
    return role_guard


ANY_ROLE = ROLES  # roles(*ANY_ROLE): any signed-in user


def provide_user(
    request: ASGIConnection[Any, Any, Any, Any], runtime: NamedDependency[Runtime]
) -> User:
    """The signed-in user. It takes ``runtime`` (any authenticated request needs it: the
    guard read the user through it) so that Litestar resolves the two one after the
    other: independent dependencies are resolved in an anyio task group, one task each,
    which cost about 6 % of the serving process's CPU under proposal load."""
    del runtime
    user = authenticated_user(request)
    if user is None:  # a public route asked for a user: a programming error, fail closed
        raise Unauthenticated("this route needs a signed-in user")
    return user


def provide_runtime(request: ASGIConnection[Any, Any, Any, Any]) -> Runtime:
    runtime: Runtime = _runtime(request)
    return runtime


def provide_runtime_if_started(request: ASGIConnection[Any, Any, Any, Any]) -> Runtime | None:
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    return runtime


def provide_sources(request: ASGIConnection[Any, Any, Any, Any]) -> SourceParts:
    state = request.app.state
    parts: SourceParts | None = getattr(state, "sources", None)
    if parts is None:  # an app whose lifespan did not build them (some tests): once, here
        parts = source_parts(_runtime(request))
        state.sources = parts
    return parts


# Handler parameters (the names matter: Litestar matches them):
CurrentUser = NamedDependency[User]  # user: CurrentUser, the signed-in user
Services = NamedDependency[Runtime]  # runtime: Services, the running parts (503 while starting)
RuntimeIfStarted = NamedDependency[Runtime | None]  # runtime_if_started: None while starting
Sources = NamedDependency[SourceParts]  # sources: Sources, configured sources and webhooks


DEPENDENCIES = {
    "user": Provide(provide_user, sync_to_thread=False),
    "runtime": Provide(provide_runtime, sync_to_thread=False),
    "runtime_if_started": Provide(provide_runtime_if_started, sync_to_thread=False),
    "sources": Provide(provide_sources, sync_to_thread=False),
}
