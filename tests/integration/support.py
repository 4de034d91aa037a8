"""Helpers for integration tests: users, raw mentions, canned texts."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from connectors.contract import RawAuthor, RawMention
from gateway.domain.records import User
from gateway.runtime import Runtime
from gateway.store import users


async def make_user(rt: Runtime, name: str, role: str) -> User:
    async with rt.db.pool.acquire() as conn:
        return await users.add_user(conn, name=name, role=role, token=secrets.token_hex(16))


_ids = iter(range(1, 1_000_000))


def raw(
    text: str,
    *,
    handle: str = "@dana@social.example",
    channel: str = "demo",
    thread_id: str | None = None,
    **extra: Any,
) -> RawMention:
    n = next(_ids)
    return RawMention(
        channel=channel,
        external_id=f"ext-{n}",
        url=f"https://demo.example/{n}",
        author=RawAuthor(handle=handle, display_name=extra.pop("display_name", "Dana")),
        text=text,
        created_at=extra.pop("created_at", datetime.now(UTC).isoformat()),
        thread_id=thread_id,
        **extra,
    )


async def ingest_one(rt: Runtime, text: str, **kw: Any) -> int:
    result = await rt.ingestor.ingest([raw(text, **kw)], actor="test")
    return result.ids[0]


COMPLAINT = "@acme my order #4411 still hasn't arrived after three weeks, this is terrible"
GOOD_REPLY = "Sorry about the wait, Dana. We have escalated order 4411 with the courier today."
