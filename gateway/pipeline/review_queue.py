"""The review queue: the replies the policy held for a person, each with what a compliance
officer needs to judge it (the mention, its thread, the reply, the policy's reasons, whether
the customer has opted out since), and how many wait.

Reading only; approving and rejecting go through ``gateway.pipeline.review.Reviewer``, the
same for the API, the CLI and the console.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import msgspec

from gateway.domain.records import Mention, Proposal
from gateway.store import mentions, opt_outs, proposals
from gateway.store.connection import Conn

THREAD_POSTS = 20  # the latest posts of the thread shown with each item


class ReviewItem(msgspec.Struct, frozen=True, kw_only=True):
    proposal: Proposal
    mention: Mention
    thread: list[Mention]  # the thread's latest mentions, oldest first (the mention among them)
    thread_replies: list[Proposal]  # other replies proposed in the thread, oldest first
    opted_out: bool  # the customer has an active opt-out now: approving would withdraw it


class ReviewQueue:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def waiting(self, *, after_id: int = 0) -> int:
        """How many replies wait for review (those proposed after ``after_id``)."""
        async with self._pool.acquire() as conn:
            return await proposals.count_pending_review(conn, after_id=after_id)

    async def newest_id(self) -> int:
        """The id of the latest reply waiting (0: none), to tell new arrivals later."""
        async with self._pool.acquire() as conn:
            return await proposals.newest_pending_review_id(conn)

    async def page(self, *, after_id: int = 0, limit: int = 20) -> list[ReviewItem]:
        """The replies waiting for review, oldest first (first come, first reviewed)."""
        async with self._pool.acquire() as conn:
            waiting = await proposals.list_proposals(
                conn, status="pending_review", after_id=after_id, limit=limit
            )
            return [await _item(conn, p) for p in waiting]

    async def item(self, proposal_id: int) -> ReviewItem:
        """One proposal in any status, with its context (NotFound when there is none)."""
        async with self._pool.acquire() as conn:
            return await _item(conn, await proposals.get_proposal(conn, proposal_id))


async def _item(conn: Conn, proposal: Proposal) -> ReviewItem:
    now = datetime.now(UTC)
    return ReviewItem(
        proposal=proposal,
        mention=await mentions.get_mention(conn, proposal.mention_id, now=now),
        thread=await mentions.thread_mentions(
            conn,
            channel=proposal.channel,
            thread_id=proposal.thread_id,
            now=now,
            limit=THREAD_POSTS,
        ),
        thread_replies=await proposals.thread_proposals(
            conn,
            channel=proposal.channel,
            thread_id=proposal.thread_id,
            other_than=proposal.id,
            limit=THREAD_POSTS,
        ),
        opted_out=await opt_outs.is_opted_out(
            conn, channel=proposal.channel, handle=proposal.customer_handle
        ),
    )
