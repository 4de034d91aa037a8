"""Users and their bearer tokens (stored as SHA-256 hashes, never in clear)."""

from __future__ import annotations

import hashlib
from datetime import datetime

import asyncpg

from gateway.domain.records import User, UserAccount
from gateway.store._rows import user_from_row
from gateway.store.connection import Conn
from gateway.store.errors import Conflict, NotFound


def hash_token(token: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_USER_COLUMNS = "id, name, role, created_at, token_issued_by"


async def add_user(
    conn: Conn, *, name: str, role: str, token: str, issued_by: str | None = None
) -> User:
    try:
        row = await conn.fetchrow(
            "INSERT INTO users (name, role, token_hash, token_issued_by) VALUES ($1, $2, $3, $4)"
            f" RETURNING {_USER_COLUMNS}",
            name,
            role,
            hash_token(token),
            issued_by,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"a user named {name!r} already exists") from None
    assert row is not None
    return user_from_row(row)


async def user_by_token(conn: Conn, token: str) -> User | None:
    row = await conn.fetchrow(
        f"SELECT {_USER_COLUMNS} FROM users WHERE token_hash = $1 AND disabled_at IS NULL",
        hash_token(token),
    )
    return user_from_row(row) if row else None


async def user_by_name(conn: Conn, name: str) -> User | None:
    row = await conn.fetchrow(
        f"SELECT {_USER_COLUMNS} FROM users WHERE name = $1 AND disabled_at IS NULL",
        name,
    )
    return user_from_row(row) if row else None


_ACCOUNT_COLUMNS = "id, name, role, created_at, disabled_at, token_rotated_at"


def _account(row: asyncpg.Record) -> UserAccount:
    return UserAccount(**{k: row[k] for k in _ACCOUNT_COLUMNS.replace(" ", "").split(",")})


async def list_accounts(conn: Conn) -> list[UserAccount]:
    rows = await conn.fetch(f"SELECT {_ACCOUNT_COLUMNS} FROM users ORDER BY name")
    return [_account(r) for r in rows]


async def disable_user(conn: Conn, name: str, *, now: datetime) -> UserAccount:
    """Disable ``name`` (its token stops working); disabling twice keeps the first time."""
    row = await conn.fetchrow(
        "UPDATE users SET disabled_at = coalesce(disabled_at, $2) WHERE name = $1"
        f" RETURNING {_ACCOUNT_COLUMNS}",
        name,
        now,
    )
    if row is None:
        raise NotFound(f"no user named {name!r}")
    return _account(row)


async def rotate_token(
    conn: Conn, name: str, *, token: str, now: datetime, issued_by: str | None = None
) -> UserAccount:
    """Replace the token of ``name``: the old one stops working, ``token`` works instead."""
    row = await conn.fetchrow(
        "UPDATE users SET token_hash = $2, token_rotated_at = $3, token_issued_by = $4"
        f" WHERE name = $1 RETURNING {_ACCOUNT_COLUMNS}",
        name,
        hash_token(token),
        now,
        issued_by,
    )
    if row is None:
        raise NotFound(f"no user named {name!r}")
    return _account(row)


async def password_hash_by_name(conn: Conn, name: str) -> tuple[User, str | None] | None:
    """An enabled user named ``name`` and their password hash (None: no password set)."""
    row = await conn.fetchrow(
        f"SELECT {_USER_COLUMNS}, password_hash FROM users WHERE name = $1 AND disabled_at IS NULL",
        name,
    )
    return (user_from_row(row), row["password_hash"]) if row else None


async def set_password(conn: Conn, name: str, *, password_hash: str, now: datetime) -> User:
    """Store a new password hash for ``name`` (the old password stops working)."""
    row = await conn.fetchrow(
        "UPDATE users SET password_hash = $2, password_set_at = $3"
        f" WHERE name = $1 RETURNING {_USER_COLUMNS}",
        name,
        password_hash,
        now,
    )
    if row is None:
        raise NotFound(f"no user named {name!r}")
    return user_from_row(row)
