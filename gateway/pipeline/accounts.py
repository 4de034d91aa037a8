"""Users and their tokens, managed by admins (API) or operators (CLI); each change audited.

A token is ``egw_`` and 256 random bits (URL-safe base64), shown once and stored only as a
hash. The prefix lets secret scanners recognise a leaked token, and means a token never
starts with ``-``, which a command line would take for an option (``--token -x...``).
Disabling a user or replacing their token takes effect on the next request: tokens are never
cached. Either also ends the user's console sessions (in the same transaction), and so does
setting a new password.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import asyncpg
import structlog

from gateway.domain.records import ROLES, User, UserAccount
from gateway.pipeline.errors import InvalidInput
from gateway.pipeline.passwords import hash_password
from gateway.store import audit, users
from gateway.store.sessions import end_user_sessions

log = structlog.get_logger(__name__)


TOKEN_PREFIX = "egw_"
# Names appear as actors in the audit log: plain ASCII, so no look-alike (full-width,
# Cyrillic) or control-character name can pass for another, and never a name the gateway
# itself acts under.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
RESERVED_NAMES = frozenset({"cli", "system", "release-worker"})


def check_name(name: str) -> str:
    """``name`` as a user name, or InvalidInput saying what a name may be."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"user name {name[:100]!r}: 1 to 100 ASCII letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    if name.lower() in RESERVED_NAMES:
        raise InvalidInput(f"user name {name!r} is reserved: the gateway acts under it")
    return name


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class Accounts:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, *, name: str, role: str, actor: str) -> tuple[User, str]:
        """A new user and their token (shown once)."""
        name = check_name(name.strip())
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        token = new_token()
        async with self._pool.acquire() as conn, conn.transaction():
            user = await users.add_user(conn, name=name, role=role, token=token, issued_by=actor)
            await audit.append(
                conn,
                kind="user_added",
                actor=actor,
                subject=f"user:{user.name}",
                payload={"user_id": user.id, "name": user.name, "role": role},
            )
        log.info("user_added", user=user.name, role=role, actor=actor)
        return user, token

    async def list(self) -> list[UserAccount]:
        async with self._pool.acquire() as conn:
            return await users.list_accounts(conn)

    async def disable(self, name: str, *, actor: str) -> UserAccount:
        """Disable ``name``: their token is refused from the next request on."""
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            account = await users.disable_user(conn, name, now=now)
            await end_user_sessions(conn, account.id)
            await audit.append(
                conn,
                kind="user_disabled",
                actor=actor,
                subject=f"user:{account.name}",
                payload={"user_id": account.id, "name": account.name, "role": account.role},
            )
        log.info("user_disabled", user=account.name, actor=actor)
        return account

    async def rotate(self, name: str, *, actor: str) -> tuple[UserAccount, str]:
        """Give ``name`` a new token (returned, shown once); the old one is refused at once."""
        token = new_token()
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            account = await users.rotate_token(conn, name, token=token, now=now, issued_by=actor)
            await end_user_sessions(conn, account.id)
            await audit.append(
                conn,
                kind="user_token_rotated",
                actor=actor,
                subject=f"user:{account.name}",
                payload={"user_id": account.id, "name": account.name},
            )
        log.info("user_token_rotated", user=account.name, actor=actor)
        return account, token

    async def set_password(self, name: str, password: str, *, actor: str) -> User:
        """Give ``name`` a console password (argon2 hash); their sessions end."""
        password_hash = await hash_password(password)
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            user = await users.set_password(conn, name, password_hash=password_hash, now=now)
            ended = await end_user_sessions(conn, user.id)
            await audit.append(
                conn,
                kind="user_password_set",
                actor=actor,
                subject=f"user:{user.name}",
                payload={"user_id": user.id, "name": user.name, "sessions_ended": ended},
            )
        log.info("user_password_set", user=user.name, actor=actor)
        return user
