"""Sign-in and sign-out pages: ``/ui/sign-in`` (public) and ``/ui/sign-out``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from gateway.http.auth import ANY_ROLE, PUBLIC, CurrentUser, Services, console_session_id, roles
from gateway.http.session_cookie import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    console_cookie,
    cookie_secure,
    expired_cookie,
    new_sign_in_nonce,
)
from gateway.pipeline.sign_in import SignIn, SignInRefused, SignInThrottled
from gateway.web.pages import page, redirect_with_flash

SIGN_IN = "/ui/sign-in"


def safe_next(value: object) -> str:
    """Where to go after signing in: a console path of ours, never another site."""
    if (
        isinstance(value, str)
        and (value == "/ui" or value.startswith("/ui/"))
        and "\\" not in value
        and not value.startswith(SIGN_IN)
    ):
        return value
    return "/ui/"


def _form(
    request: Request[Any, Any, Any],
    runtime: Services,
    *,
    next_url: str,
    error: str | None = None,
    name: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    nonce = new_sign_in_nonce()
    secure = cookie_secure(request, runtime.settings.console_cookie_secure)
    response = page(
        request,
        "sign_in.html",
        status_code=status_code,
        cookies=[console_cookie(SIGN_IN_COOKIE, nonce, secure=secure)],
        sign_in_csrf=nonce,
        next_url=next_url,
        error=error,
        name=name,
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class SignInController(Controller):
    path = "/ui"
    include_in_schema = False

    @get("/sign-in", opt=PUBLIC)
    async def sign_in_page(
        self, request: Request[Any, Any, Any], runtime: Services, next: FromQuery[str | None] = None
    ) -> Template:
        return _form(request, runtime, next_url=safe_next(next))

    @post("/sign-in", opt=PUBLIC, status_code=303)
    async def sign_in(self, request: Request[Any, Any, Any], runtime: Services) -> Any:
        form = await request.form()
        next_url = safe_next(form.get("next"))
        name = str(form.get("name") or "")
        nonce = request.cookies.get(SIGN_IN_COOKIE)
        if not nonce or form.get(CSRF_FIELD) != nonce:
            return _form(
                request,
                runtime,
                next_url=next_url,
                name=name,
                status_code=403,
                error="This sign-in form expired. Please sign in again.",
            )
        service = SignIn(runtime.db.pool, runtime.settings)
        token = str(form.get("token") or "")
        try:
            if token.strip():
                session = await service.with_token(token, address=_address(request))
            else:
                password = str(form.get("password") or "")
                session = await service.with_password(name, password, address=_address(request))
        except SignInThrottled as exc:
            wait_s = max(1, int((exc.retry_at - datetime.now(UTC)).total_seconds()) + 1)
            minutes = max(1, -(-wait_s // 60))
            return _form(
                request,
                runtime,
                next_url=next_url,
                name=name,
                status_code=429,
                headers={"Retry-After": str(wait_s)},
                error=f"{str(exc).capitalize()}. Try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''} (at {exc.retry_at:%H:%M} UTC).",
            )
        except SignInRefused as exc:
            return _form(
                request,
                runtime,
                next_url=next_url,
                name=name,
                status_code=401,
                error=f"{str(exc).capitalize()}.",
            )
        secure = cookie_secure(request, runtime.settings.console_cookie_secure)
        max_age = int((session.expires_at - datetime.now(UTC)).total_seconds())
        return Redirect(
            next_url,
            status_code=303,
            cookies=[
                console_cookie(SESSION_COOKIE, session.session_id, secure=secure, max_age=max_age),
                expired_cookie(SIGN_IN_COOKIE, secure=secure),
            ],
        )

    @post("/sign-out", guards=[roles(*ANY_ROLE)], status_code=303)
    async def sign_out(
        self, request: Request[Any, Any, Any], runtime: Services, user: CurrentUser
    ) -> Redirect:
        session_id = console_session_id(request)
        if session_id:
            await SignIn(runtime.db.pool, runtime.settings).sign_out(session_id, user)
        secure = cookie_secure(request, runtime.settings.console_cookie_secure)
        response = redirect_with_flash(SIGN_IN, "You are signed out.")
        response.cookies.append(expired_cookie(SESSION_COOKIE, secure=secure))
        return response
