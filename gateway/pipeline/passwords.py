"""Console passwords: argon2id hashes (argon2-cffi), checked off the event loop.

A password is never stored, logged or audited; only its argon2id hash (salted, with its
parameters inside) is kept in ``users.password_hash``. Hashing costs tens of milliseconds
and 64 MiB by design, so it runs in a thread.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.pipeline.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 1024  # argon2 takes any length; a megabyte "password" is an attack, not a secret

_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (argon2-cffi defaults)
# Checked when the name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY = _HASHER.hash("not a password anyone has")


def check_strength(password: str) -> str:
    """``password`` if it may be set, else InvalidInput saying what a password must be."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"a password has at most {MAX_LENGTH} characters")
    if password != password.strip():
        raise InvalidInput("a password must not start or end with spaces")
    return password


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, check_strength(password))


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (None: no password set, always False)."""
    if len(password) > MAX_LENGTH:
        return False
    return await asyncio.to_thread(_verify, stored, password)
