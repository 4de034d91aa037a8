"""Rendering a console page: ``page(request, "x.html", **context)`` and flash messages.

Every template gets ``user`` (the signed-in User or None), ``nav`` (the entries for the
user's role), ``csrf_token`` (put it in every form as ``_csrf``; htmx sends it as a header),
``flash`` (messages left by ``redirect_with_flash``) and ``path`` (to mark the current nav
entry), besides what the handler passes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from litestar import MediaType, Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from gateway.http.auth import authenticated_user, console_session_id
from gateway.http.session_cookie import CONSOLE_PATH, csrf_for_session
from gateway.web.nav import nav_for

FLASH_COOKIE = "egw_flash"


def csrf_token(request: Request[Any, Any, Any]) -> str:
    """This session's CSRF token ('' on a page without a session)."""
    session_id = console_session_id(request)
    return csrf_for_session(session_id) if session_id else ""


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def page(
    request: Request[Any, Any, Any],
    template: str,
    /,
    *,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    """``template`` rendered with the console's common context (see the module doc)."""
    user = authenticated_user(request)
    cookies = list(cookies or [])
    flash = [m for m in unquote(request.cookies.get(FLASH_COOKIE, "")).split("\n") if m]
    if flash:
        cookies.append(Cookie(key=FLASH_COOKIE, value="", path=CONSOLE_PATH, max_age=0))
    base = {
        "user": user,
        "nav": nav_for(request.app, user),
        "csrf_token": csrf_token(request),
        "flash": flash,
        "errors": [],
        "path": request.url.path,
    }
    return Template(
        template_name=template,
        context={**base, **context},
        status_code=status_code,
        cookies=cookies,
        media_type=MediaType.HTML,
    )


def redirect_with_flash(url: str, *messages: str) -> Redirect:
    """303 to ``url`` (POST, then GET), showing ``messages`` on the next page once."""
    value = quote("\n".join(messages)[:1000])
    cookie = Cookie(
        key=FLASH_COOKIE,
        value=value,
        path=CONSOLE_PATH,
        httponly=True,
        samesite="lax",
        max_age=60,
    )
    return Redirect(url, status_code=303, cookies=[cookie])
