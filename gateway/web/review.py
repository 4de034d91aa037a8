"""``/ui/review``: the compliance officers' review queue, live.

Each waiting reply shows the mention, its thread, the reply and the policy's reasons;
approve or reject with a note. Both go through the API's own ``Reviewer`` (never your own
reply, the two-person rule, and the approval re-check that withdraws a reply the policy now
denies). The queue's count is polled for the navigation badge and for "new replies" on the
queue page; a decided reply's status is polled until it is final (released, failed,
withdrawn, rejected). Without JavaScript every form posts and the page reloads.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from gateway.domain.records import User
from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.params import MAX_INT64, PathId, QueryCursor, QueryId
from gateway.pipeline.errors import InvalidInput, StateConflict
from gateway.pipeline.review_queue import ReviewItem, ReviewQueue
from gateway.web.pages import is_htmx, page, redirect_with_flash

PAGE_SIZE = 10
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
