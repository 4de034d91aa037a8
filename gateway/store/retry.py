"""Retrying a whole transaction that PostgreSQL chose as a deadlock victim.

Some rare writers (erasure) must touch many rows of one customer that hot paths lock in
another order (the release worker locks a proposal, then the audit chain head; the
group-commit writer locks the chain head, then a mention). No single order fits every path,
so PostgreSQL's deadlock detector picks a victim; for these writers the remedy is to run the
transaction again from the start. The caller's work must be a whole transaction.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import structlog

from gateway.store.errors import Unavailable

log = structlog.get_logger(__name__)

T = TypeVar("T")

_RETRYABLE = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)


async def retrying(work: Callable[[], Awaitable[T]], *, what: str, attempts: int = 4) -> T:
    """``await work()``, again (after a short random pause) when its transaction was
    aborted as a deadlock or serialization victim; Unavailable after ``attempts``."""
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except _RETRYABLE as exc:
            log.warning("transaction_retried", what=what, attempt=attempt, error=type(exc).__name__)
            if attempt == attempts:
                raise Unavailable(
                    f"{what} collided with other writes {attempts} times; try again"
                ) from exc
            await asyncio.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")
