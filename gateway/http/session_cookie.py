"""The console's session cookie and CSRF token (one way in: used by ``auth.authenticated``).

- ``egw_session``: the session id (HttpOnly, SameSite=Lax, path ``/ui``, Secure over TLS or
  when ``console_cookie_secure`` says so). The server keeps only its hash.
- CSRF: every state-changing console request (POST, PUT, PATCH, DELETE) must carry this
  session's CSRF token, as the form field ``_csrf`` or the header ``X-CSRF-Token`` (htmx
  sends the header: ``base.html`` sets ``hx-headers:inherited`` on ``<body>``). The token is
  an HMAC of the session id, so it needs no storage and dies with the session; a page on
  another site cannot read it (the cookie is HttpOnly and the token is only in our pages).
- The sign-in form has no session yet: it is protected by a double-submit cookie
  (``egw_signin``, random, compared with the form's ``_csrf``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType

from gateway.domain.access import CsrfRefused

SESSION_COOKIE = "egw_session"
SIGN_IN_COOKIE = "egw_signin"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"
CONSOLE_PATH = "/ui"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_for_session(session_id: str) -> str:
    return hmac.new(b"egw-console-csrf", session_id.encode("utf-8"), hashlib.sha256).hexdigest()


def new_sign_in_nonce() -> str:
    return secrets.token_urlsafe(24)


def cookie_secure(connection: ASGIConnection[Any, Any, Any, Any], setting: bool | None) -> bool:
    return setting if setting is not None else connection.url.scheme == "https"


def console_cookie(key: str, value: str, *, secure: bool, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path=CONSOLE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=max_age,
    )


def expired_cookie(key: str, *, secure: bool) -> Cookie:
    return console_cookie(key, "", secure=secure, max_age=0)


async def sent_csrf(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The CSRF token the request carries: the header, else the form field ``_csrf``.

    Reading the form here caches the body on the connection, so the handler reads it again
    without touching the network."""
    header = connection.headers.get(CSRF_HEADER)
    if header:
        return header
    request = connection.app.request_class(connection.scope, connection.receive)
    content_type, _ = request.content_type
    if content_type in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def check_csrf(connection: ASGIConnection[Any, Any, Any, Any], expected: str) -> None:
    sent = await sent_csrf(connection)
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused(
            "this form has expired or did not come from the console; reload the page and try again"
        )
