"""Users and their bearer tokens (stored as SHA-256 hashes, never in clear)."""

from __future__ import annotations

import hashlib

import asyncpg

from gateway.domain.records import User
from gateway.store._rows import user_from_row
from gateway.store.connection import Conn
from gateway.store.errors import Conflict


def hash_token(token: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def add_user(conn: Conn, *, name: str, role: str, token: str) -> User:
    try:
        row = await conn.fetchrow(
            "INSERT INTO users (name, role, token_hash) VALUES ($1, $2, $3)"
            " RETURNING id, name, role, created_at",
            name,
            role,
            hash_token(token),
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"a user named {name!r} already exists") from None
    assert row is not None
    return user_from_row(row)


async def user_by_token(conn: Conn, token: str) -> User | None:
    row = await conn.fetchrow(
        "SELECT id, name, role, created_at FROM users"
        " WHERE token_hash = $1 AND disabled_at IS NULL",
        hash_token(token),
    )
    return user_from_row(row) if row else None


async def user_by_name(conn: Conn, name: str) -> User | None:
    row = await conn.fetchrow(
        "SELECT id, name, role, created_at FROM users WHERE name = $1 AND disabled_at IS NULL",
        name,
    )
    return user_from_row(row) if row else None
