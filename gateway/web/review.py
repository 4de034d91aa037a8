"""``/ui/review``: the compliance officers' review queue, live.

Each waiting reply shows the mention, its thread, the reply and the policy's reasons;
approve or reject with a note. Both go through the API's own ``Reviewer`` (never your own
reply, the two-person rule, and the approval re-check that withdraws a reply the policy now
denies). The queue is live over server-sent events (``/ui/review/events``, fed by one
shared poll per process: ``review_feed.py``): the navigation badge counts what waits, and
the queue page appends replies that arrive and shows those decided elsewhere
(``/ui/review/rows``). When EventSource fails, htmx polls the badge and the waiting line as
before; a decided reply's status is polled until it is final (released, failed, withdrawn,
rejected). Without JavaScript every form posts and the page reloads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, ServerSentEvent, Template
from litestar.response.sse import ServerSentEventMessage

from gateway.domain.records import User
from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.params import MAX_INT64, PathId, QueryCursor, QueryId
from gateway.pipeline.errors import InvalidInput, StateConflict
from gateway.pipeline.review_queue import ReviewItem, ReviewQueue
from gateway.store.errors import NotFound
from gateway.web.pages import is_htmx, page, redirect_with_flash
from gateway.web.review_feed import ReviewFeed, feed_for

PAGE_SIZE = 10
# An open stream ends by itself after STREAM_FOR_S and the browser reconnects after
# RETRY_MS (EventSource does): uvicorn waits for open responses when it shuts down without
# telling the app, so this bounds how long a shutdown waits for live pages.
STREAM_FOR_S = 30.0
HEARTBEAT_S = 10.0  # a comment line this often keeps proxies from closing a quiet stream
RETRY_MS = 1000
MAX_SHOWN = 50  # ids a page may ask about in one /rows request
QueryIds = Annotated[str | None, QueryParameter(max_length=1000, pattern="^[0-9,]*$")]
FINAL = frozenset({"released", "failed", "withdrawn", "rejected", "denied"})
STATUS_WORDS = {
    "pending_review": "waiting for review",
    "approved": "approved, queued for release",
    "released": "released to the channel",
    "failed": "failed to deliver (retries exhausted)",
    "withdrawn": "withdrawn: the policy now denies it",
    "rejected": "rejected",
    "denied": "denied by the policy",
}


def _queue(runtime: Services) -> ReviewQueue:
    return ReviewQueue(runtime.db.pool)


def _after(cursor: str | None) -> int:
    after = int(cursor) if cursor else 0
    if after > MAX_INT64:
        raise InvalidInput("this page link is not one the console gave out; start again")
    return after


def _context(item: ReviewItem, user: User) -> dict[str, Any]:
    return {
        "item": item,
        "own": item.proposal.agent == user.name,
        "final": item.proposal.status in FINAL,
        "message": None,
    }


def _shown(ids: str | None) -> list[int]:
    shown = [int(i) for i in (ids or "").split(",") if i]
    if len(shown) > MAX_SHOWN or any(i > MAX_INT64 for i in shown):
        raise InvalidInput(f"ask about at most {MAX_SHOWN} replies at a time")
    return shown


async def _decided(queue: ReviewQueue, ids: list[int]) -> list[ReviewItem]:
    """Of ``ids`` (shown as waiting), those no longer waiting; one since erased is skipped."""
    decided = []
    for proposal_id in ids:
        try:
            item = await queue.item(proposal_id)
        except NotFound:
            continue
        if item.proposal.status != "pending_review":
            decided.append(item)
    return decided


async def _form(request: Request[Any, Any, Any]) -> tuple[str, str]:
    form = await request.form()
    decision = str(form.get("decision", ""))
    if decision not in ("approve", "reject"):
        raise InvalidInput("choose Approve or Reject")
    return decision, str(form.get("note", ""))


class ReviewController(Controller):
    path = "/ui/review"
    guards = (roles("compliance"),)
    include_in_schema = False

    @get("/")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        cursor: QueryCursor = None,
    ) -> Template:
        queue = _queue(runtime)
        items = await queue.page(after_id=_after(cursor), limit=PAGE_SIZE)
        waiting = await queue.waiting()
        newest = await queue.newest_id()
        return page(
            request,
            "review/queue.html",
            status_words=STATUS_WORDS,
            items=[_context(i, user) for i in items],
            waiting=waiting,
            since=newest,
            next_cursor=str(items[-1].proposal.id) if len(items) == PAGE_SIZE else None,
            last_id=items[-1].proposal.id if items else _after(cursor),
            first_page=not cursor,
        )

    @get("/badge")
    async def badge(self, request: Request[Any, Any, Any], runtime: Services) -> Template:
        """The navigation badge: how many replies wait (polled)."""
        return page(request, "review/_badge.html", waiting=await _queue(runtime).waiting())

    @get("/waiting")
    async def waiting(
        self,
        request: Request[Any, Any, Any],
        runtime: Services,
        since: QueryId = None,
    ) -> Template:
        """The queue page's live line: how many wait, and whether new ones came in."""
        queue = _queue(runtime)
        return page(
            request,
            "review/_waiting.html",
            waiting=await queue.waiting(),
            newer=await queue.waiting(after_id=since or 0) if since else 0,
            since=since or 0,
        )

    @get("/events")
    async def events(self, runtime: Services) -> ServerSentEvent:
        """The queue as server-sent events: ``queue`` (JSON ``{"waiting", "newest"}``) at
        once and whenever it changes; a comment every ``HEARTBEAT_S``; ends after
        ``STREAM_FOR_S`` (the browser reconnects)."""
        return ServerSentEvent(_queue_stream(feed_for(runtime.db)))

    @get("/rows")
    async def rows(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        after: QueryId = None,
        ids: QueryIds = None,
    ) -> Template:
        """What a live queue page lacks: the replies waiting after ``after`` (to append)
        and, of the ``ids`` it shows as waiting, those decided meanwhile (to replace)."""
        queue = _queue(runtime)
        decided = await _decided(queue, _shown(ids))
        arrived = await queue.page(after_id=after, limit=PAGE_SIZE) if after is not None else []
        return page(
            request,
            "review/_rows.html",
            status_words=STATUS_WORDS,
            items=[_context(i, user) for i in (*decided, *arrived)],
        )

    @get("/{proposal_id:int}")
    async def item(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        proposal_id: PathId,
    ) -> Template:
        item = await _queue(runtime).item(proposal_id)
        return page(request, "review/item.html", status_words=STATUS_WORDS, **_context(item, user))

    @get("/{proposal_id:int}/status")
    async def status(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        proposal_id: PathId,
    ) -> Template:
        """The reply's status line (polled until it is final)."""
        item = await _queue(runtime).item(proposal_id)
        return page(
            request, "review/_status.html", status_words=STATUS_WORDS, **_context(item, user)
        )

    @post("/{proposal_id:int}")
    async def decide(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        proposal_id: PathId,
    ) -> Template | Redirect:
        decision, note = await _form(request)
        reviewer = runtime.reviewer
        message: str
        try:
            if decision == "approve":
                await reviewer.approve(proposal_id, user=user, note=note)
                message = f"Reply {proposal_id} approved; it is queued for release."
            else:
                await reviewer.reject(proposal_id, user=user, note=note)
                message = f"Reply {proposal_id} rejected."
        except StateConflict as exc:  # the approval re-check withdrew it: an outcome, shown
            message = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
        if not is_htmx(request):
            return redirect_with_flash(f"/ui/review/{proposal_id}", message)
        item = await _queue(runtime).item(proposal_id)
        context = {**_context(item, user), "message": message}
        return page(request, "review/_item.html", status_words=STATUS_WORDS, **context)


async def _queue_stream(feed: ReviewFeed) -> AsyncGenerator[ServerSentEventMessage, None]:
    loop = asyncio.get_running_loop()
    until = loop.time() + STREAM_FOR_S
    async with feed.subscribe() as subscription:
        while (left := until - loop.time()) > 0:
            state = await subscription.next(within=min(HEARTBEAT_S, left))
            if state is None:
                yield ServerSentEventMessage(data=None, comment="still here")
            else:
                data = msgspec.json.encode(state).decode()
                yield ServerSentEventMessage(data=data, event="queue", retry=RETRY_MS)
