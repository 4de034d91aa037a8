"""Bearer-token authentication and role checks.

Every ``/v1`` call needs ``Authorization: Bearer TOKEN``, except the few routes marked
``opt={"public": True}`` (the checkpoint signing key, and inbound webhooks, which are
authenticated by their signature instead). A missing or unknown token is 401, a user whose
role may not do the thing is 403; both answered as problem+json.

The token is checked by the app-wide guard ``authenticated``, which Litestar runs before it
reads the request's body or converts its parameters: an unauthenticated caller learns
nothing about what a route accepts.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from gateway.domain.records import User
from gateway.store import users


class Unauthenticated(Exception):
    pass


class RoleRefused(Exception):
    pass


class TokenCache:
    """Token → user for a few seconds, so each request does not cost a query."""

    def __init__(self, ttl_s: float = 5.0) -> None:
        self._ttl = ttl_s
        self._entries: dict[str, tuple[float, User]] = {}

    def get(self, token: str) -> User | None:
        entry = self._entries.get(token)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, user: User) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[token] = (time.monotonic() + self._ttl, user)


async def authenticate(
    request: ASGIConnection[Any, Any, Any, Any], pool: asyncpg.Pool, cache: TokenCache
) -> User:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("send your API token as 'Authorization: Bearer TOKEN'")
    user = cache.get(token)
    if user is None:
        async with pool.acquire() as conn:
            user = await users.user_by_token(conn, token)
        if user is None:
            raise Unauthenticated("this API token is not valid (unknown or disabled)")
        cache.put(token, user)
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
    user = await authenticate(connection, runtime.db.pool, runtime.tokens)
    connection.scope.setdefault("state", {})[_USER_KEY] = user


def authenticated_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The user the guard authenticated for this request (None on a public route)."""
    user: User | None = connection.scope.get("state", {}).get(_USER_KEY)
    return user


def require(user: User, *roles: str) -> None:
    """Admins may do everything; everyone else needs one of ``roles``."""
    if user.role == "admin" or user.role in roles:
        return
    raise RoleRefused(f"your role is {user.role}; this needs {' or '.join(roles)}")
