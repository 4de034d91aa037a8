"""Opt-outs managed by compliance officers, and mention claims by agents; each audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from gateway.audit.subjects import sealed_for
from gateway.domain.records import Mention, OptOut, User
from gateway.pipeline.errors import InvalidInput
from gateway.store import audit, identities, mentions, opt_outs

log = structlog.get_logger(__name__)


class Consent:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(
        self, *, channel: str, handle: str, reason: str, user: User
    ) -> tuple[OptOut, bool]:
        channel = channel.strip()
        if not channel:
            raise InvalidInput("channel must not be empty")
        if "\x00" in channel + reason:
            raise InvalidInput("channel and reason must not contain NUL characters")
        async with self._pool.acquire() as conn, conn.transaction():
            customer = await identities.resolve(conn, channel=channel, value=handle)
            opt_out, created = await opt_outs.add_opt_out(
                conn,
                channel=channel,
                handle=customer,
                reason=reason,
                source="api",
                created_by=user.name,
            )
            if created:
                await audit.append(
                    conn,
                    kind="opt_out_added",
                    actor=user.name,
                    subject=f"opt_out:{opt_out.id}",
                    payload=await sealed_for(
                        conn,
                        {
                            "opt_out_id": opt_out.id,
                            "channel": opt_out.channel,
                            "handle": opt_out.handle,
                            "reason": reason,
                            "source": "api",
                        },
                        channel=opt_out.channel,
                        customer=opt_out.handle,
                    ),
                )
        log.info("opt_out_added", opt_out_id=opt_out.id, created=created, actor=user.name)
        return opt_out, created

    async def remove(self, opt_out_id: int, *, user: User) -> OptOut:
        async with self._pool.acquire() as conn, conn.transaction():
            opt_out = await opt_outs.remove_opt_out(conn, opt_out_id, removed_by=user.name)
            await audit.append(
                conn,
                kind="opt_out_removed",
                actor=user.name,
                subject=f"opt_out:{opt_out.id}",
                payload=await sealed_for(
                    conn,
                    {
                        "opt_out_id": opt_out.id,
                        "channel": opt_out.channel,
                        "handle": opt_out.handle,
                    },
                    channel=opt_out.channel,
                    customer=opt_out.handle,
                ),
            )
        log.info("opt_out_removed", opt_out_id=opt_out_id, actor=user.name)
        return opt_out


class Claims:
    def __init__(self, pool: asyncpg.Pool, *, ttl_s: int) -> None:
        self._pool = pool
        self._ttl = timedelta(seconds=ttl_s)

    async def claim(self, mention_id: int, *, user: User) -> Mention:
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            mention = await mentions.claim_mention(
                conn, mention_id, agent=user.name, now=now, until=now + self._ttl
            )
        log.info("mention_claimed", mention_id=mention_id, agent=user.name)
        return mention
