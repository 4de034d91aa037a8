"""The agents' API beyond mentions and proposals: the inbox with counts, a customer's
contact history, a live verdict on a draft, and giving a claim up.

Thin: each route has its role guard (``roles``, as the console's pages); the handler gets
the user and the runtime by injection (``CurrentUser``, ``Services``), as every API route,
then calls one ``AgentDesk`` (or ``Claims``) method; the console's agent pages call the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from litestar import delete, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from gateway.http.agent_views import (
    ContactsOut,
    InboxOut,
    VerdictIn,
    VerdictOut,
    contacts_out,
    inbox_out,
    verdict_out,
)
from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.controllers import IntentQ, MentionStatusQ
from gateway.http.params import (
    MAX_INT64,
    PathId,
    QueryCursor,
    QueryFilter,
    QuerySentiment,
    bad_field,
)
from gateway.http.views import MentionOut, mention_out
from gateway.store.inbox import MAX_INBOX_PAGE, InboxFilter

ClaimQ = Literal["mine", "others", "free"]
InboxLimit = Annotated[
    int, QueryParameter(ge=1, le=MAX_INBOX_PAGE, description="page size (at most 200)")
]


def before_id(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_INT64:
        raise bad_field("cursor", f"cursor {cursor!r} is not one this API gave out")
    return int(cursor)


@get(
    "/v1/inbox",
    guards=[roles("agent", "compliance", "auditor")],
    summary="The agents' inbox: newest first, filtered, with counts per filter",
)
async def get_inbox(
    user: CurrentUser,
    runtime: Services,
    status: FromQuery[MentionStatusQ | None] = None,
    intent: FromQuery[IntentQ | None] = None,
    channel: QueryFilter = None,
    addressed: FromQuery[bool | None] = None,
    sentiment_above: QuerySentiment = None,
    sentiment_below: QuerySentiment = None,
    claim: FromQuery[ClaimQ | None] = None,
    cursor: QueryCursor = None,
    limit: InboxLimit = 50,
) -> InboxOut:
    where = InboxFilter(
        agent=user.name,
        now=datetime.now(UTC),
        status=status,
        intent=intent,
        channel=channel,
        addressed=addressed,
        sentiment_above=sentiment_above,
        sentiment_below=sentiment_below,
        claim=claim,
        before_id=before_id(cursor),
        limit=limit,
    )
    return inbox_out(await runtime.desk.inbox(where))


@get(
    "/v1/mentions/{mention_id:int}/contacts",
    guards=[roles("agent", "compliance", "auditor")],
    summary="The customer's contact history against the active caps, and opt-out status",
)
async def get_contacts(runtime: Services, mention_id: PathId) -> ContactsOut:
    return contacts_out(await runtime.desk.contact_history(mention_id))


@post(
    "/v1/mentions/{mention_id:int}/verdict",
    guards=[roles("agent")],
    status_code=200,
    summary="What the policy would decide on a draft reply, with the words behind each reason",
)
async def post_verdict(
    user: CurrentUser, runtime: Services, mention_id: PathId, data: JSONBody[VerdictIn]
) -> VerdictOut:
    verdict = await runtime.desk.verdict(
        mention_id=mention_id, text=data.text, user=user, ai_generated=data.ai_generated
    )
    return verdict_out(verdict)


@delete(
    "/v1/mentions/{mention_id:int}/claim",
    guards=[roles("agent")],
    status_code=200,
    summary="Give a claim up",
)
async def release_claim(user: CurrentUser, runtime: Services, mention_id: PathId) -> MentionOut:
    return mention_out(await runtime.claims.release(mention_id, user=user))


AGENT_ROUTES = [get_inbox, get_contacts, post_verdict, release_claim]
