"""Opt-outs managed by compliance officers, and mention claims by agents; each audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import asyncpg
import structlog

from gateway.audit.subjects import sealed_for
from gateway.domain.identity import ANY_CHANNEL, MAX_CHARS, InvalidIdentity, canonical_id, clean
from gateway.domain.records import Mention, OptOut, User
from gateway.pipeline.errors import InvalidInput
from gateway.store import audit, identities, mentions, opt_outs
from gateway.store.connection import Conn
from gateway.store.opt_outs import OptOutSearch

MAX_REASON_CHARS = 2_000
MAX_CHANNEL_CHARS = 64  # as the API takes it

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
        if len(channel) > MAX_CHANNEL_CHARS or len(reason) > MAX_REASON_CHARS:
            raise InvalidInput(
                f"the channel is at most {MAX_CHANNEL_CHARS} characters and the reason at "
                f"most {MAX_REASON_CHARS}"
            )
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

    async def search(
        self,
        *,
        channel: str | None = None,
        term: str | None = None,
        state: Literal["active", "lifted", "all"] = "active",
        after_id: int = 0,
        before_id: int | None = None,
        newest_first: bool = False,
        limit: int = 100,
    ) -> list[OptOut]:
        """Opt-outs whose customer is ``term`` in any spelling (the identity rules of
        gateway/domain/identity.py: on ``channel`` when given, else on any channel) or
        whose canonical identity contains it; all of them without a term."""
        channel = (channel or "").strip() or None
        term = (term or "").strip() or None
        if term is not None and ("\x00" in term or len(term) > MAX_CHARS):
            raise InvalidInput(f"search for a handle of at most {MAX_CHARS} characters, no NUL")
        async with self._pool.acquire() as conn:
            handles = await _spellings(conn, channel, term) if term else ()
            return await opt_outs.search_opt_outs(
                conn,
                OptOutSearch(
                    channel=channel,
                    handles=handles,
                    contains=clean(term).removeprefix("@").lower() if term else None,
                    state=state,
                    after_id=after_id,
                    before_id=before_id,
                    newest_first=newest_first,
                    limit=limit,
                ),
            )

    async def history(self, opt_out_id: int) -> list[OptOut]:
        """Every opt-out of the customer of ``opt_out_id`` (added, lifted, added again),
        oldest first; NotFound when there is no such opt-out."""
        async with self._pool.acquire() as conn:
            one = await opt_outs.get_opt_out(conn, opt_out_id)
            return await opt_outs.customer_history(conn, channel=one.channel, handle=one.handle)

    async def lift(self, opt_out_id: int, *, user: User, reason: str) -> OptOut:
        """Lift an opt-out, saying why (the console and ``POST /v1/opt-outs/{id}/lift``)."""
        if not reason.strip():
            raise InvalidInput("say why the opt-out is lifted (e.g. the customer asked again)")
        return await self.remove(opt_out_id, user=user, reason=reason)

    async def remove(self, opt_out_id: int, *, user: User, reason: str = "") -> OptOut:
        """Lift an opt-out (kept in history with who lifted it, when and why; audited)."""
        reason = reason.strip()
        if "\x00" in reason or len(reason) > MAX_REASON_CHARS:
            raise InvalidInput(
                f"the reason must be at most {MAX_REASON_CHARS} characters, without NUL"
            )
        async with self._pool.acquire() as conn, conn.transaction():
            opt_out = await opt_outs.remove_opt_out(
                conn, opt_out_id, removed_by=user.name, reason=reason or None
            )
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
                        "reason": reason,
                    },
                    channel=opt_out.channel,
                    customer=opt_out.handle,
                ),
            )
        log.info("opt_out_removed", opt_out_id=opt_out_id, actor=user.name)
        return opt_out


async def _spellings(conn: Conn, channel: str | None, term: str) -> tuple[str, ...]:
    """The canonical identities ``term`` may mean (none when it cannot be an identity:
    the search then matches by part of the identity only)."""
    try:
        if channel is not None:
            return (await identities.resolve(conn, channel=channel, value=term),)
        return tuple(await identities.candidates(conn, canonical_id(ANY_CHANNEL, term)))
    except InvalidIdentity:
        return ()


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

    async def release(self, mention_id: int, *, user: User) -> Mention:
        """Give up one's claim so another agent can answer; refused for another's claim."""
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            mention = await mentions.release_claim(conn, mention_id, agent=user.name, now=now)
        log.info("mention_claim_released", mention_id=mention_id, agent=user.name)
        return mention
