"""Bearer-token authentication and role checks for the API.

Every ``/v1`` call needs ``Authorization: Bearer TOKEN``, except the few routes marked
``opt={"public": True}`` (the checkpoint signing key, and inbound webhooks, which are
authenticated by their signature instead). A missing or unknown token is 401, a user whose
role may not do the thing is 403; both answered as problem+json. The role rule and the
errors live in ``gateway.domain.access`` (the CLI uses the same).

The token is checked by the app-wide guard ``authenticated``, which Litestar runs before it
reads the request's body or converts its parameters: an unauthenticated caller learns
nothing about what a route accepts.

Tokens are looked up on every request (one indexed query, no cache), so a disabled or
rotated token is refused on the very next request on every instance.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from gateway.domain.access import RoleRefused, Unauthenticated, require
from gateway.domain.records import User
from gateway.store import users

__all__ = [
    "PUBLIC",
    "RoleRefused",
    "Unauthenticated",
    "authenticate",
    "authenticated",
    "authenticated_user",
    "require",
]


async def authenticate(request: ASGIConnection[Any, Any, Any, Any], pool: asyncpg.Pool) -> User:
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


PUBLIC = {"public": True}  # opt= of a /v1 route that needs no token
_USER_KEY = "gateway_user"


async def authenticated(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: every /v1 route not marked public needs a valid token, checked first."""
    if not connection.url.path.startswith("/v1/") or handler.opt.get("public"):
        return
    runtime = getattr(connection.app.state, "runtime", None)
    if runtime is None:
        from gateway.store.errors import Unavailable

        raise Unavailable("the gateway is starting; try again in a moment")
    user = await authenticate(connection, runtime.db.pool)
    connection.scope.setdefault("state", {})[_USER_KEY] = user


def authenticated_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The user the guard authenticated for this request (None on a public route)."""
    user: User | None = connection.scope.get("state", {}).get(_USER_KEY)
    return user
