"""Bearer-token authentication and role checks.

Every API call needs ``Authorization: Bearer TOKEN``. A missing or unknown token is 401,
a user whose role may not do the thing is 403; both answered as problem+json.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg
from litestar import Request

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
    request: Request[Any, Any, Any], pool: asyncpg.Pool, cache: TokenCache
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


def require(user: User, *roles: str) -> None:
    """Admins may do everything; everyone else needs one of ``roles``."""
    if user.role == "admin" or user.role in roles:
        return
    raise RoleRefused(f"your role is {user.role}; this needs {' or '.join(roles)}")
