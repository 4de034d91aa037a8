"""Errors on console pages: the same mapping as the API (``http/problems.py``), shown as
a person can act on them.

- not signed in (401): a full page is redirected to the sign-in page (coming back after);
  an htmx request gets ``HX-Redirect`` to it; an event stream (``Accept:
  text/event-stream``) gets a plain 401, as EventSource cannot follow a sign-in page;
- any other error: the page ``error.html`` with the problem's status and message; for an
  htmx request, only the message, swapped into the page's flash area (``#flash``).

API routes are untouched: they keep their problem+json answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.response import Redirect, Template

from gateway.http.auth import is_console
from gateway.web.pages import is_htmx, page

Handler = Callable[[Request[Any, Any, Any], Any], Response[Any]]


def _detail(response: Response[Any]) -> str:
    content = response.content
    detail = content.get("detail") if isinstance(content, dict) else None
    return detail if isinstance(detail, str) else "something went wrong"


def _console_error(request: Request[Any, Any, Any], problem: Response[Any]) -> Response[Any]:
    status = problem.status_code or 500
    if status == 401:
        target = "/ui/sign-in?next=" + quote(request.url.path, safe="/")
        if is_htmx(request):
            return Response(b"", status_code=401, headers={"HX-Redirect": target})
        if "text/event-stream" in request.headers.get("accept", ""):
            return Response(b"", status_code=401)
        return Redirect(target, status_code=303)
    detail = _detail(problem)
    template = "_error.html" if is_htmx(request) else "error.html"
    response: Template = page(request, template, status_code=status, status=status, detail=detail)
    if is_htmx(request):
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
    for key in ("Retry-After",):
        if key in problem.headers:
            response.headers[key] = problem.headers[key]
    return response


def _console_aware(handler: Handler) -> Handler:
    def handle(request: Request[Any, Any, Any], exc: Any) -> Response[Any]:
        problem = handler(request, exc)
        if not is_console(request.url.path):
            return problem
        return _console_error(request, problem)

    return handle


def console_aware(handlers: dict[type[Exception] | int, Any]) -> dict[type[Exception] | int, Any]:
    """``handlers`` with console pages answered as pages (see the module doc)."""
    return {key: _console_aware(handler) for key, handler in handlers.items()}
