"""The review queue with its context and count, and opt-out history and lifting with a
reason (compliance); the console's compliance pages call the same services."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import get, post
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta

from gateway.domain.records import OptOut
from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.controllers import _cursor
from gateway.http.params import TEXT_CHARS, PathId, QueryCursor
from gateway.http.views import MentionOut, Page, ProposalOut, mention_out, page, proposal_out
from gateway.pipeline.review_queue import ReviewItem, ReviewQueue
from gateway.runtime import Runtime

QueueLimit = Annotated[int, QueryParameter(ge=1, le=100, description="page size")]


class ThreadReplyOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    agent: str
    text: str
    status: str
    created_at: datetime


class ReviewItemOut(msgspec.Struct, frozen=True, kw_only=True):
    proposal: ProposalOut  # the reply and the policy's decision with its reasons
    mention: MentionOut  # what the customer wrote
    thread: list[MentionOut]  # the thread's latest mentions, oldest first
    thread_replies: list[ThreadReplyOut]  # other replies proposed in the thread
    opted_out: bool  # the customer opted out meanwhile: approving would withdraw the reply


class WaitingOut(msgspec.Struct, frozen=True, kw_only=True):
    waiting: int


class LiftIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(min_length=1, max_length=2_000, pattern=TEXT_CHARS)]


def review_item_out(item: ReviewItem) -> ReviewItemOut:
    return ReviewItemOut(
        proposal=proposal_out(item.proposal),
        mention=mention_out(item.mention),
        thread=[mention_out(m) for m in item.thread],
        thread_replies=[
            ThreadReplyOut(
                id=p.id, agent=p.agent, text=p.text, status=p.status, created_at=p.created_at
            )
            for p in item.thread_replies
        ],
        opted_out=item.opted_out,
    )


def _queue(runtime: Runtime) -> ReviewQueue:
    return ReviewQueue(runtime.db.pool)


@get(
    "/v1/review-queue",
    guards=[roles("compliance")],
    summary="Replies waiting for review, with their thread (compliance)",
)
async def review_queue(
    runtime: Services, cursor: QueryCursor = None, limit: QueueLimit = 20
) -> Page:
    items = await _queue(runtime).page(after_id=_cursor(cursor), limit=limit)
    return page([review_item_out(i) for i in items], limit=limit, cursor_of=lambda i: i.proposal.id)


@get(
    "/v1/review-queue/count",
    guards=[roles("compliance")],
    summary="How many replies wait for review (compliance)",
)
async def review_queue_count(runtime: Services) -> WaitingOut:
    return WaitingOut(waiting=await _queue(runtime).waiting())


@post(
    "/v1/opt-outs/{opt_out_id:int}/lift",
    status_code=200,
    guards=[roles("compliance")],
    summary="Lift an opt-out, saying why",
)
async def lift_opt_out(
    user: CurrentUser, runtime: Services, opt_out_id: PathId, data: JSONBody[LiftIn]
) -> OptOut:
    return await runtime.consent.lift(opt_out_id, user=user, reason=data.reason)


@get(
    "/v1/opt-outs/{opt_out_id:int}/history",
    guards=[roles("compliance", "auditor")],
    summary="Every opt-out of that customer",
)
async def opt_out_history(runtime: Services, opt_out_id: PathId) -> list[OptOut]:
    return await runtime.consent.history(opt_out_id)


COMPLIANCE_ROUTES = [review_queue, review_queue_count, lift_opt_out, opt_out_history]
