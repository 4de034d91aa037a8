"""The web console (issue 12): server-rendered pages under ``/ui/``, on the API's rules.

Writing a console page
======================

One module per area, ``gateway/web/<area>.py``, exporting a Litestar ``Controller``;
add it to ``WEB_ROUTES`` below (one line). Templates go in ``gateway/web/templates/``
(``<area>/*.html`` or ``<area>.html``) and extend ``base.html``::

    from litestar import Controller, Request, get, post
    from litestar.response import Template

    from gateway.http.auth import CurrentUser, Services, roles
    from gateway.web.pages import page, redirect_with_flash


    class ReviewController(Controller):
        path = "/ui/review"
        guards = (roles("compliance"),)         # same role rule as the API (admins pass)
        include_in_schema = False

        @get("/")
        async def queue(self, request: Request, user: CurrentUser, runtime: Services) -> Template:
            items = await runtime.reviewer.pending()  # the API's own service, never SQL
            return page(request, "review/queue.html", items=items)

        @post("/{proposal_id:int}/approve")
        async def approve(self, request: Request, user: CurrentUser, runtime: Services,
                          proposal_id: int) -> Any:
            form = await request.form()
            await runtime.reviewer.approve(proposal_id, reviewer=user.name, note=form["note"])
            return redirect_with_flash("/ui/review", f"Reply {proposal_id} approved.")

What you get for free (``gateway/http/auth.py``, the same path as the API):

- the app-wide guard: a console route needs a live session (else the browser is sent to
  ``/ui/sign-in?next=...``); every POST/PUT/PATCH/DELETE needs this session's CSRF token
  (form field ``_csrf``: ``<input type="hidden" name="_csrf" value="{{ csrf_token }}">``;
  htmx requests send the ``X-CSRF-Token`` header, set once on ``<body>`` in ``base.html``);
- ``guards=[roles(...)]`` on the controller (or route): required; the route-walk test
  (``tests/unit/http/test_route_guards.py``) fails on a route without one. ``roles(*ANY_ROLE)``
  for pages every signed-in user may see;
- dependencies: ``user: CurrentUser`` (the signed-in ``User``), ``runtime: Services`` (the
  running ``Runtime``: ``runtime.decider``, ``runtime.reviewer``, ``runtime.consent``, ...);
  the parameter names ``user`` and ``runtime`` are what Litestar matches;
- errors: raise the domain errors the API raises (``NotFound``, ``RoleRefused``,
  ``InvalidInput``, ...): a full page shows ``error.html``, an htmx request gets the message
  in the page's ``#flash`` area (``web/errors.py``). To show a form again with its errors,
  render it with ``errors=[...]`` instead (``base.html`` lists them at the top);
- ``page(request, "x.html", **context)`` adds ``user``, ``nav``, ``csrf_token``, ``flash``;
  ``redirect_with_flash(url, "message")`` after a successful POST;
- ``is_htmx(request)``: answer a fragment (a template not extending ``base.html``) for htmx
  and the whole page otherwise, so every page works without JavaScript;
- navigation: add or check the area's entry in ``gateway/web/nav.py`` (it appears once the
  route exists).

Static files are under ``/static/`` (``gateway/web/static/``; third-party assets in
``static/vendor/<name>/``, see docs/console.md). Browser tests: ``tests/browser/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from gateway.http.auth import PUBLIC
from gateway.web.agent import AgentController
from gateway.web.audit import AuditController
from gateway.web.dashboard import DashboardController
from gateway.web.home import HomeController
from gateway.web.opt_outs import OptOutsController
from gateway.web.policies import PoliciesController
from gateway.web.policies_edit import PolicyEditController
from gateway.web.review import ReviewController
from gateway.web.sign_in import SignInController
from gateway.web.sources import SourcesController

WEB_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
STATIC_PATH = "/static"

# Every console area's controllers, one line each.
WEB_ROUTES: list[Any] = [
    SignInController,
    HomeController,
    AuditController,
    DashboardController,
    AgentController,
    PoliciesController,
    PolicyEditController,
    ReviewController,
    OptOutsController,
    SourcesController,
]


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATE_DIR, engine=JinjaTemplateEngine)


def static_files() -> Any:
    """``/static/...`` from ``gateway/web/static/`` (public: no session needed)."""
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIR],
        opt=PUBLIC,
        include_in_schema=False,
        send_as_attachment=False,
    )
