"""Thin API handlers: call one pipeline step, shape the answer.

The app-wide guard has authenticated the caller and the route's ``roles(...)`` guard has
checked the role before a handler runs; handlers get ``user: CurrentUser`` and
``runtime: Services`` by injection (``gateway.http.auth``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from litestar import delete, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from gateway.audit.subjects import opened
from gateway.domain.records import OptOut
from gateway.http.auth import CurrentUser, RoleRefused, Services, roles
from gateway.http.bodies import MAX_INGEST_BODY_BYTES
from gateway.http.params import (
    MAX_INT64,
    PathId,
    QueryCursor,
    QueryFilter,
    QueryId,
    QuerySentiment,
    bad_field,
    instant,
)
from gateway.http.views import (
    DecisionOut,
    IngestIn,
    IngestOut,
    MentionOut,
    OptOutIn,
    Page,
    PreviewIn,
    ProposalIn,
    ProposalOut,
    ReviewIn,
    VerifyOut,
    decision_out,
    mention_out,
    page,
    proposal_out,
)
from gateway.store import audit as audit_store
from gateway.store import mentions as mention_store
from gateway.store import proposals as proposal_store
from gateway.store.mentions import MentionFilter

MentionStatusQ = Literal["new", "proposed", "replied"]
IntentQ = Literal["complaint", "question", "praise", "other"]
ProposalStatusQ = Literal[
    "approved", "pending_review", "denied", "rejected", "released", "failed", "withdrawn"
]
Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size")]
Cursor = QueryCursor


def _cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_INT64:
        raise bad_field("cursor", f"cursor {cursor!r} is not one this API gave out")
    return int(cursor)


def _now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


@post(
    "/v1/mentions",
    status_code=200,
    summary="Ingest a batch of mentions (admin)",
    request_max_body_size=MAX_INGEST_BODY_BYTES,
    guards=[roles("admin")],
)
async def ingest_mentions(
    user: CurrentUser, runtime: Services, data: JSONBody[IngestIn]
) -> IngestOut:
    result = await runtime.ingestor.ingest([m.to_raw() for m in data.mentions], actor=user.name)
    return IngestOut(ids=result.ids, duplicates=result.duplicates)


@get(
    "/v1/mentions",
    summary="The inbox of mentions, filtered, cursor-paginated",
    guards=[roles("agent", "compliance", "auditor")],
)
async def list_mentions(
    runtime: Services,
    status: FromQuery[MentionStatusQ | None] = None,
    intent: FromQuery[IntentQ | None] = None,
    addressed: FromQuery[bool | None] = None,
    channel: QueryFilter = None,
    sentiment_below: QuerySentiment = None,
    sentiment_above: QuerySentiment = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page:
    where = MentionFilter(
        status=status,
        intent=intent,
        addressed=addressed,
        channel=channel,
        sentiment_below=sentiment_below,
        sentiment_above=sentiment_above,
        after_id=_cursor(cursor),
        limit=limit,
    )
    async with runtime.db.pool.acquire() as conn:
        items = await mention_store.list_mentions(conn, where, now=_now())
    return page([mention_out(m) for m in items], limit=limit, cursor_of=lambda m: m.id)


@get(
    "/v1/mentions/{mention_id:int}",
    summary="One mention with its classification",
    guards=[roles("agent", "compliance", "auditor")],
)
async def get_mention(runtime: Services, mention_id: PathId) -> MentionOut:
    async with runtime.db.pool.acquire() as conn:
        return mention_out(await mention_store.get_mention(conn, mention_id, now=_now()))


@post(
    "/v1/mentions/{mention_id:int}/claim",
    status_code=200,
    summary="Reserve a mention",
    guards=[roles("agent")],
)
async def claim_mention(user: CurrentUser, runtime: Services, mention_id: PathId) -> MentionOut:
    return mention_out(await runtime.claims.claim(mention_id, user=user))


@post(
    "/v1/proposals/preview",
    status_code=200,
    summary="What the policy would decide",
    guards=[roles("agent")],
)
async def preview_proposal(
    user: CurrentUser, runtime: Services, data: JSONBody[PreviewIn]
) -> DecisionOut:
    decision = await runtime.decider.preview(
        mention_id=data.mention_id, text=data.text, user=user, ai_generated=data.ai_generated
    )
    return decision_out(decision)


@post(
    "/v1/proposals",
    status_code=201,
    summary="Propose a reply: decided, audited, queued",
    guards=[roles("agent")],
)
async def create_proposal(
    user: CurrentUser, runtime: Services, data: JSONBody[ProposalIn]
) -> ProposalOut:
    proposal = await runtime.decider.propose(
        mention_id=data.mention_id, text=data.text, user=user, ai_generated=data.ai_generated
    )
    return proposal_out(proposal)


@get(
    "/v1/proposals",
    summary="Proposals (agents see their own)",
    guards=[roles("agent", "compliance", "auditor")],
)
async def list_proposals(
    user: CurrentUser,
    runtime: Services,
    status: FromQuery[ProposalStatusQ | None] = None,
    agent: QueryFilter = None,
    mention_id: QueryId = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page:
    if user.role == "agent":
        agent = user.name
    async with runtime.db.pool.acquire() as conn:
        items = await proposal_store.list_proposals(
            conn,
            status=status,
            agent=agent,
            mention_id=mention_id,
            after_id=_cursor(cursor),
            limit=limit,
        )
    return page([proposal_out(p) for p in items], limit=limit, cursor_of=lambda p: p.id)


@get(
    "/v1/proposals/{proposal_id:int}",
    summary="One proposal, its decision and receipt",
    guards=[roles("agent", "compliance", "auditor")],
)
async def get_proposal(user: CurrentUser, runtime: Services, proposal_id: PathId) -> ProposalOut:
    async with runtime.db.pool.acquire() as conn:
        proposal = await proposal_store.get_proposal(conn, proposal_id)
    if user.role == "agent" and proposal.agent != user.name:
        raise RoleRefused(f"proposal {proposal_id} was made by another agent")
    return proposal_out(proposal)


@post(
    "/v1/proposals/{proposal_id:int}/approve",
    status_code=200,
    summary="Approve (compliance)",
    guards=[roles("compliance")],
)
async def approve_proposal(
    user: CurrentUser,
    runtime: Services,
    proposal_id: PathId,
    data: JSONBody[ReviewIn | None] = None,
) -> ProposalOut:
    note = data.note if data else ""
    return proposal_out(await runtime.reviewer.approve(proposal_id, user=user, note=note))


@post(
    "/v1/proposals/{proposal_id:int}/reject",
    status_code=200,
    summary="Reject (compliance)",
    guards=[roles("compliance")],
)
async def reject_proposal(
    user: CurrentUser,
    runtime: Services,
    proposal_id: PathId,
    data: JSONBody[ReviewIn | None] = None,
) -> ProposalOut:
    note = data.note if data else ""
    return proposal_out(await runtime.reviewer.reject(proposal_id, user=user, note=note))


@post(
    "/v1/opt-outs",
    status_code=201,
    summary="Register an opt-out (compliance)",
    guards=[roles("compliance")],
)
async def add_opt_out(user: CurrentUser, runtime: Services, data: JSONBody[OptOutIn]) -> OptOut:
    opt_out, _created = await runtime.consent.add(
        channel=data.channel, handle=data.handle, reason=data.reason, user=user
    )
    return opt_out


@get(
    "/v1/opt-outs",
    summary="Opt-outs, searched by channel and any spelling of a handle",
    guards=[roles("compliance", "auditor")],
)
async def list_opt_outs(
    runtime: Services,
    include_removed: FromQuery[bool] = False,
    channel: QueryFilter = None,
    handle: QueryFilter = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page:
    items = await runtime.consent.search(
        channel=channel,
        term=handle,
        state="all" if include_removed else "active",
        after_id=_cursor(cursor),
        limit=limit,
    )
    return page(list(items), limit=limit, cursor_of=lambda o: o.id)


@delete(
    "/v1/opt-outs/{opt_out_id:int}",
    status_code=200,
    summary="Remove an opt-out",
    guards=[roles("compliance")],
)
async def remove_opt_out(user: CurrentUser, runtime: Services, opt_out_id: PathId) -> OptOut:
    return await runtime.consent.remove(opt_out_id, user=user)


@get(
    "/v1/audit",
    summary="The audit log, filtered, cursor-paginated (auditor, compliance)",
    guards=[roles("auditor", "compliance")],
)
async def list_audit(
    runtime: Services,
    kind: QueryFilter = None,
    actor: QueryFilter = None,
    subject: QueryFilter = None,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page:
    since, until = instant("since", since), instant("until", until)
    async with runtime.db.pool.acquire() as conn:
        items = await audit_store.list_events(
            conn,
            kind=kind,
            actor=actor,
            subject=subject,
            since=since,
            until=until,
            after_seq=_cursor(cursor),
            limit=limit,
        )
        items = await opened(conn, items)
    return page(list(items), limit=limit, cursor_of=lambda e: e.seq)


@get(
    "/v1/audit/verify",
    summary="Recompute the hash chain (auditor, compliance)",
    guards=[roles("auditor", "compliance")],
)
async def verify_audit(runtime: Services) -> VerifyOut:
    result = await runtime.verify_chain()
    return VerifyOut(
        ok=result.ok, events=result.events, first_bad_seq=result.first_bad_seq, detail=result.detail
    )


ROUTES = [
    ingest_mentions,
    list_mentions,
    get_mention,
    claim_mention,
    preview_proposal,
    create_proposal,
    list_proposals,
    get_proposal,
    approve_proposal,
    reject_proposal,
    add_opt_out,
    list_opt_outs,
    remove_opt_out,
    list_audit,
    verify_audit,
]
