"""The agents' console pages (issue 12, Agents): inbox, mention page with the live verdict,
a proposal's live status, and "my proposals".

Every page calls the services the API calls (``runtime.desk``, ``runtime.claims``,
``runtime.decider``) with the same role guard (agent; admins pass) and checks form input
against the API's own body types, so nothing here can do what the API would refuse.
Without JavaScript every form posts and the page comes back whole; with htmx the filters,
the verdict and the status update in place.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.response import Redirect, ServerSentEvent, Template
from litestar.response.sse import ServerSentEventMessage

from gateway.domain.highlights import segments
from gateway.domain.records import User
from gateway.http.agent_views import VerdictIn
from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.params import PathId
from gateway.http.views import IntentFlagIn, ProposalIn
from gateway.pipeline.agent_desk import ProposalView, Verdict
from gateway.pipeline.errors import InvalidInput
from gateway.runtime import Runtime
from gateway.store.inbox import CLAIMS, INTENTS, SENTIMENT_BUCKETS, STATUSES, InboxFilter
from gateway.web import agent_words as words
from gateway.web.pages import is_htmx, page, redirect_with_flash

PAGE_SIZE = 25
LIVE_FOR_S = 120  # an open status stream ends after this; the page then polls
LIVE_EVERY_S = 0.5


class InboxQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The inbox filters as the form sends them ("" is "any")."""

    status: str = ""
    intent: str = ""
    channel: str = ""
    addressed: str = ""
    sentiment: str = ""  # negative, neutral, positive
    sentiment_above: str = ""  # a VADER compound score, -1 to 1
    sentiment_below: str = ""
    claim: str = ""
    cursor: str = ""


def _choice(name: str, value: str, allowed: tuple[str, ...] | list[str]) -> str | None:
    if value == "":
        return None
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _score(name: str, value: str) -> float | None:
    if value.strip() == "":
        return None
    try:
        score = float(value)
    except ValueError:
        score = float("nan")
    if not -1.0 <= score <= 1.0:  # NaN fails too
        raise InvalidInput(f"{name} must be a number from -1 to 1, not {value!r}")
    return score


def inbox_filter(query: InboxQuery, user: User) -> InboxFilter:
    sentiment = _choice("sentiment", query.sentiment, list(SENTIMENT_BUCKETS))
    addressed = _choice("addressed", query.addressed, ("true", "false"))
    cursor = query.cursor
    if cursor and not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
        raise InvalidInput(f"cursor {cursor!r} is not one this page gave out")
    if len(query.channel) > 64 or not query.channel.isprintable():
        raise InvalidInput("channel is not a channel name")
    return InboxFilter(
        agent=user.name,
        now=datetime.now(UTC),
        status=_choice("status", query.status, STATUSES),
        intent=_choice("intent", query.intent, INTENTS),
        channel=query.channel or None,
        addressed=None if addressed is None else addressed == "true",
        sentiment_above=_score("sentiment_above", query.sentiment_above),
        sentiment_below=_score("sentiment_below", query.sentiment_below),
        sentiment_bucket=sentiment,
        claim=_choice("claim", query.claim, CLAIMS),
        before_id=int(cursor) if cursor else None,
        limit=PAGE_SIZE,
    )


def _form_text(form: Any) -> tuple[str, bool]:
    return str(form.get("text", "")), form.get("ai_generated") in ("on", "true", "1")


def _checked(text: str, ai_generated: bool, struct: type[Any], **extra: Any) -> None:
    """The API's own body constraints on what the form sent (length, characters)."""
    try:
        msgspec.convert({"text": text, "ai_generated": ai_generated, **extra}, struct)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"the reply cannot be sent as typed: {exc}") from None


def verdict_context(verdict: Verdict | None, text: str) -> dict[str, Any]:
    if verdict is None:
        return {"verdict": None, "text": text, "reply_segments": []}
    spans = {r.code: r.spans for r in verdict.reasons if r.spans}
    return {"verdict": verdict, "text": text, "reply_segments": segments(text, spans)}


def status_context(view: ProposalView) -> dict[str, Any]:
    p = view.proposal
    return {
        "view": view,
        "proposal": p,
        "steps": words.steps(status=p.status, outcome=p.outcome, reviewed=bool(p.reviewed_by)),
    }


WORDS: dict[str, Any] = {
    "outcome_words": words.OUTCOME_WORDS,
    "status_words": words.STATUS_WORDS,
    "reason_title": words.reason_title,
    "window_words": words.WINDOW_WORDS,
    "step_state_words": words.STEP_STATE_WORDS,
}


class AgentController(Controller):
    path = "/ui/agent"
    guards = (roles("agent"),)
    include_in_schema = False

    @get("/inbox")
    async def inbox(
        self, request: Request[Any, Any, Any], user: CurrentUser, runtime: Services
    ) -> Template:
        params = {
            k: v for k, v in request.query_params.items() if k in InboxQuery.__struct_fields__
        }
        try:
            query = msgspec.convert(params, InboxQuery)
        except msgspec.ValidationError as exc:
            raise InvalidInput(str(exc)) from None
        found = await runtime.desk.inbox(inbox_filter(query, user))
        template = "agent/_inbox_results.html" if is_htmx(request) else "agent/inbox.html"
        return page(request, template, query=query, found=found, **WORDS)

    @get("/mentions/{mention_id:int}")
    async def mention(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        mention_id: PathId,
    ) -> Template:
        return await _mention_page(request, runtime, mention_id, verdict=None, text="")

    @post("/mentions/{mention_id:int}/verdict")
    async def verdict(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        mention_id: PathId,
    ) -> Template:
        text, ai_generated = _form_text(await request.form())
        verdict = None
        if text.strip():
            _checked(text, ai_generated, VerdictIn)
            verdict = await runtime.desk.verdict(
                mention_id=mention_id, text=text, user=user, ai_generated=ai_generated
            )
        if is_htmx(request):
            context = verdict_context(verdict, text)
            return page(request, "agent/_verdict.html", mention_id=mention_id, **context, **WORDS)
        return await _mention_page(request, runtime, mention_id, verdict=verdict, text=text)

    @post("/mentions/{mention_id:int}/claim")
    async def claim(self, user: CurrentUser, runtime: Services, mention_id: PathId) -> Redirect:
        await runtime.claims.claim(mention_id, user=user)
        return redirect_with_flash(
            f"/ui/agent/mentions/{mention_id}", f"You hold mention {mention_id} now."
        )

    @post("/mentions/{mention_id:int}/release")
    async def release(self, user: CurrentUser, runtime: Services, mention_id: PathId) -> Redirect:
        await runtime.claims.release(mention_id, user=user)
        return redirect_with_flash(
            f"/ui/agent/mentions/{mention_id}", f"You gave mention {mention_id} up."
        )

    @post("/mentions/{mention_id:int}/proposals")
    async def propose(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        mention_id: PathId,
    ) -> Redirect:
        text, ai_generated = _form_text(await request.form())
        _checked(text, ai_generated, ProposalIn, mention_id=mention_id)
        proposal = await runtime.decider.propose(
            mention_id=mention_id, text=text, user=user, ai_generated=ai_generated
        )
        return redirect_with_flash(
            f"/ui/agent/proposals/{proposal.id}",
            f"Reply {proposal.id} submitted: {words.STATUS_WORDS.get(proposal.status, '')}.",
        )

    @post("/mentions/{mention_id:int}/intent-flags")
    async def flag_intent(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        mention_id: PathId,
    ) -> Redirect:
        """Disagree with the classifier: the API's own service and body type
        (``POST /v1/mentions/{id}/intent-flags``); audited, replies then go to review."""
        form = await request.form()
        try:
            body = msgspec.convert(
                {"intent": form.get("intent", ""), "note": str(form.get("note", ""))}, IntentFlagIn
            )
        except msgspec.ValidationError as exc:
            raise InvalidInput(f"the correction cannot be recorded: {exc}") from None
        await runtime.intent_flags.flag(mention_id, intent=body.intent, note=body.note, user=user)
        return redirect_with_flash(
            f"/ui/agent/mentions/{mention_id}",
            f"Recorded: you say this is {body.intent}. Replies to it now go to review "
            "(intent_overridden).",
        )

    @get("/proposals")
    async def proposals(
        self, request: Request[Any, Any, Any], user: CurrentUser, runtime: Services
    ) -> Template:
        status = request.query_params.get("status") or None
        if status is not None and status not in words.STATUS_WORDS:
            raise InvalidInput(f"status must be one of {', '.join(words.STATUS_WORDS)}")
        mine = await runtime.desk.my_proposals(user, status=status, limit=100)
        return page(request, "agent/proposals.html", proposals=mine, status=status, **WORDS)

    @get("/proposals/{proposal_id:int}")
    async def proposal(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        proposal_id: PathId,
    ) -> Template:
        view = await runtime.desk.proposal(proposal_id, user=user)
        template = "agent/_proposal_status.html" if is_htmx(request) else "agent/proposal.html"
        return page(request, template, **status_context(view), **WORDS)

    @get("/proposals/{proposal_id:int}/events")
    async def events(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        proposal_id: PathId,
    ) -> ServerSentEvent:
        """The proposal's status as server-sent events (``status``: the status fragment),
        one each time it changes, until it is final or ``LIVE_FOR_S`` passed."""
        await runtime.desk.proposal(proposal_id, user=user)  # 404 / 403 before streaming
        return ServerSentEvent(_status_stream(request, runtime, user, proposal_id))


async def _status_stream(
    request: Request[Any, Any, Any], runtime: Runtime, user: User, proposal_id: int
) -> AsyncGenerator[ServerSentEventMessage, None]:
    template = request.app.template_engine.get_template("agent/_proposal_status.html")  # type: ignore[union-attr]
    last = None
    loop = asyncio.get_running_loop()
    until = loop.time() + LIVE_FOR_S
    while loop.time() < until:
        view = await runtime.desk.proposal(proposal_id, user=user)
        if view.proposal.status != last:
            last = view.proposal.status
            html = template.render(**status_context(view), **WORDS, live=True)
            yield ServerSentEventMessage(data=html, event="status")
            if view.final:
                return
        await asyncio.sleep(LIVE_EVERY_S)


async def _mention_page(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    mention_id: int,
    *,
    verdict: Verdict | None,
    text: str,
) -> Template:
    desk = runtime.desk
    item = await desk.mention(mention_id)
    thread = await desk.thread(item.mention)
    history = await desk.contact_history(mention_id)
    flags = await runtime.intent_flags.flags(mention_id)
    return page(
        request,
        "agent/mention.html",
        item=item,
        mention=item.mention,
        thread=thread,
        history=history,
        flags=flags,
        intents=INTENTS,
        mention_id=mention_id,
        **verdict_context(verdict, text),
        **WORDS,
    )
