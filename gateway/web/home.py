"""``/ui/``: sends each role to its first page; ``/ui/home``: links to every area."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Redirect, Template

from gateway.http.auth import ANY_ROLE, CurrentUser, roles
from gateway.web.nav import landing_for
from gateway.web.pages import page


class HomeController(Controller):
    path = "/ui"
    guards = (roles(*ANY_ROLE),)
    include_in_schema = False

    @get("/", status_code=303)
    async def landing(self, request: Request[Any, Any, Any], user: CurrentUser) -> Redirect:
        return Redirect(landing_for(request.app, user), status_code=303)

    @get("/home")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        return page(request, "home.html")
