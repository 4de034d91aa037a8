"""``/ui/opt-outs``: compliance officers search, add and lift opt-outs, and read a customer's
history. Everything goes through ``Consent``, the API's own service: a handle typed in any
spelling is turned into the customer's canonical identity (gateway/domain/identity.py),
each change is audited, and a lift needs a reason."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template

from gateway.domain.identity import InvalidIdentity
from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.params import NO_CONTROL, PathId, QueryId
from gateway.pipeline.errors import InvalidInput
from gateway.store import sources
from gateway.web.pages import page, redirect_with_flash

PAGE_SIZE = 25
State = Literal["active", "lifted", "all"]
SearchText = Annotated[str | None, QueryParameter(max_length=320, pattern=NO_CONTROL)]
CHANNEL_HINTS = ("mastodon", "bluesky", "rss", "webhook", "demo")


async def _channels(runtime: Services) -> list[str]:
    """Channels to suggest: the configured sources' and the usual ones."""
    async with runtime.db.pool.acquire() as conn:
        configured = [s.channel for s in await sources.list_sources(conn)]
    return sorted({*configured, *CHANNEL_HINTS})


async def _form(request: Request[Any, Any, Any], *names: str) -> dict[str, str]:
    form = await request.form()
    return {name: str(form.get(name, "")) for name in names}


class OptOutsController(Controller):
    path = "/ui/opt-outs"
    guards = (roles("compliance"),)
    include_in_schema = False

    async def _list(
        self,
        request: Request[Any, Any, Any],
        runtime: Services,
        *,
        channel: str | None,
        handle: str | None,
        state: State,
        before: int | None,
        added: dict[str, str] | None = None,
        errors: list[str] | None = None,
        status_code: int = 200,
    ) -> Template:
        found = await runtime.consent.search(
            channel=channel,
            term=handle,
            state=state,
            before_id=before,
            newest_first=True,
            limit=PAGE_SIZE,
        )
        return page(
            request,
            "opt_outs/list.html",
            status_code=status_code,
            items=found,
            query={"channel": channel or "", "handle": handle or "", "state": state},
            older=found[-1].id if len(found) == PAGE_SIZE else None,
            channels=await _channels(runtime),
            added=added or {"channel": "", "handle": "", "reason": ""},
            errors=errors or [],
        )

    @get("/")
    async def search(
        self,
        request: Request[Any, Any, Any],
        runtime: Services,
        channel: SearchText = None,
        handle: SearchText = None,
        show: FromQuery[State] = "active",
        before: QueryId = None,
    ) -> Template:
        return await self._list(
            request, runtime, channel=channel, handle=handle, state=show, before=before
        )

    @post("/")
    async def add(
        self, request: Request[Any, Any, Any], user: CurrentUser, runtime: Services
    ) -> Template | Redirect:
        fields = await _form(request, "channel", "handle", "reason")
        try:
            opt_out, created = await runtime.consent.add(
                channel=fields["channel"],
                handle=fields["handle"],
                reason=fields["reason"],
                user=user,
            )
        except (InvalidIdentity, InvalidInput) as exc:
            return await self._list(
                request,
                runtime,
                channel=None,
                handle=None,
                state="active",
                before=None,
                added=fields,
                errors=[f"The opt-out was not added: {exc}."],
                status_code=400,
            )
        said = f"{opt_out.handle} on {opt_out.channel}"
        if fields["handle"].strip() != opt_out.handle:
            said += f" (you typed {fields['handle'].strip()!r})"
        message = (
            f"Opt-out added for {said}: no reply reaches this customer from now on."
            if created
            else f"{said} had already opted out; nothing changed."
        )
        return redirect_with_flash(f"/ui/opt-outs/{opt_out.id}", message)

    @get("/{opt_out_id:int}")
    async def history(
        self, request: Request[Any, Any, Any], runtime: Services, opt_out_id: PathId
    ) -> Template:
        return await self._history(request, runtime, opt_out_id)

    async def _history(
        self,
        request: Request[Any, Any, Any],
        runtime: Services,
        opt_out_id: PathId,
        *,
        errors: list[str] | None = None,
        status_code: int = 200,
    ) -> Template:
        rows = await runtime.consent.history(opt_out_id)
        current = next(r for r in rows if r.id == opt_out_id)
        return page(
            request,
            "opt_outs/history.html",
            status_code=status_code,
            current=current,
            rows=list(reversed(rows)),  # newest first
            errors=errors or [],
        )

    @post("/{opt_out_id:int}/lift")
    async def lift(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        opt_out_id: PathId,
    ) -> Template | Redirect:
        fields = await _form(request, "reason")
        try:
            lifted = await runtime.consent.lift(opt_out_id, user=user, reason=fields["reason"])
        except InvalidInput as exc:
            return await self._history(
                request,
                runtime,
                opt_out_id,
                errors=[f"The opt-out was not lifted: {exc}."],
                status_code=400,
            )
        return redirect_with_flash(
            f"/ui/opt-outs/{opt_out_id}",
            f"Opt-out lifted for {lifted.handle} on {lifted.channel}: replies may reach this "
            "customer again (the policy still decides each one).",
        )
