"""Console sign-in: name + password or an API token, giving a server-side session.

    SignInError (PipelineError)
    ├── SignInRefused     wrong name, password or token (one message for all: no hint
    │                     which part was wrong)
    └── SignInThrottled   too many failures for this name or address; ``retry_at`` says when

A session id is 256 random bits, sent to the browser once (the cookie) and stored only as
its SHA-256. A session ends at sign-out, after ``console_idle_s`` unused, at
``console_absolute_s`` after sign-in, and when its user is disabled or their token or
password is replaced (``Accounts`` deletes their sessions in the same transaction).

Failed sign-ins are counted per name and per client address over ``sign_in_window_s``
(in the database: every instance sees the same counts) and audited as
``console_sign_in_failed`` (name and address; never the password or token).
Successful ones are audited as ``console_signed_in``, sign-outs as ``console_signed_out``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import structlog

from gateway.domain.records import User
from gateway.pipeline.errors import PipelineError
from gateway.pipeline.passwords import verify_password
from gateway.settings import Settings
from gateway.store import audit, users
from gateway.store import sessions as store
from gateway.store.sessions import SessionRow

log = structlog.get_logger(__name__)

ACTOR = "system"  # failed sign-ins have no actor we can trust; the name is in the payload


class SignInError(PipelineError):
    pass


class SignInRefused(SignInError):
    pass


class SignInThrottled(SignInError):
    def __init__(self, message: str, *, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class NewSession(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str  # for the cookie; never stored or logged
    user: User
    expires_at: datetime


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class SignIn:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._settings = settings

    async def with_password(self, name: str, password: str, *, address: str) -> NewSession:
        name = name.strip()
        await self._check_throttle(name, address)
        async with self._pool.acquire() as conn:
            found = await users.password_hash_by_name(conn, name) if name else None
        user, stored = found if found else (None, None)
        if not await verify_password(stored, password) or user is None:
            await self._failed(name or None, address, "password")
        assert user is not None
        return await self._open(user, "password", address)

    async def with_token(self, token: str, *, address: str) -> NewSession:
        await self._check_throttle(None, address)
        token = token.strip()
        async with self._pool.acquire() as conn:
            user = await users.user_by_token(conn, token) if token else None
        if user is None:
            await self._failed(None, address, "token")
        assert user is not None
        return await self._open(user, "token", address)

    async def session(self, session_id: str) -> SessionRow | None:
        """The live session for a cookie value, or None (unknown, ended, expired, idle)."""
        async with self._pool.acquire() as conn:
            return await store.touch_session(
                conn, session_hash(session_id), idle_s=self._settings.console_idle_s
            )

    async def sign_out(self, session_id: str, user: User) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if await store.delete_session(conn, session_hash(session_id)):
                await audit.append(
                    conn,
                    kind="console_signed_out",
                    actor=user.name,
                    subject=f"user:{user.name}",
                    payload={"user_id": user.id, "name": user.name},
                )
        log.info("console_signed_out", user=user.name)

    async def _open(self, user: User, method: str, address: str) -> NewSession:
        session_id = secrets.token_urlsafe(32)
        expires_at = datetime.now(UTC) + timedelta(seconds=self._settings.console_absolute_s)
        async with self._pool.acquire() as conn, conn.transaction():
            await store.purge_expired(conn, idle_s=self._settings.console_idle_s)
            await store.create_session(
                conn,
                id_hash=session_hash(session_id),
                user_id=user.id,
                method=method,
                expires_at=expires_at,
            )
            await store.forget_failures(conn, name=user.name)
            await audit.append(
                conn,
                kind="console_signed_in",
                actor=user.name,
                subject=f"user:{user.name}",
                payload={
                    "user_id": user.id,
                    "name": user.name,
                    "method": method,
                    "address": address,
                },
            )
        log.info("console_signed_in", user=user.name, method=method)
        return NewSession(session_id=session_id, user=user, expires_at=expires_at)

    async def _check_throttle(self, name: str | None, address: str) -> None:
        s = self._settings
        async with self._pool.acquire() as conn:
            counts = await store.count_failures(
                conn, name=name, address=address, window_s=s.sign_in_window_s
            )
        window = timedelta(seconds=s.sign_in_window_s)
        if counts.by_name >= s.sign_in_max_failures and counts.name_since is not None:
            raise SignInThrottled(
                f"too many failed sign-ins for {name!r}", retry_at=counts.name_since + window
            )
        if (
            counts.by_address >= s.sign_in_max_failures_per_address
            and counts.address_since is not None
        ):
            raise SignInThrottled(
                "too many failed sign-ins from your address",
                retry_at=counts.address_since + window,
            )

    async def _failed(self, name: str | None, address: str, method: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await store.record_failure(
                conn, name=name, address=address, window_s=self._settings.sign_in_window_s
            )
            await audit.append(
                conn,
                kind="console_sign_in_failed",
                actor=ACTOR,
                subject=f"user:{name}" if name else f"address:{address}",
                payload={"name": name, "method": method, "address": address},
            )
        log.warning("console_sign_in_failed", user=name, method=method, address=address)
        if method == "token":
            raise SignInRefused("this API token is not valid (unknown, disabled or replaced)")
        raise SignInRefused("the name or password is not right")
