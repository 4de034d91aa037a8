"""Every error the API answers, as problem+json (RFC 9457): status codes live only here."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from gateway.audit.bundle import EvidenceError
from gateway.domain.identity import InvalidIdentity
from gateway.domain.source_errors import (
    InvalidSource,
    ReplayedDelivery,
    SecretUnavailable,
    SignatureRefused,
)
from gateway.http.auth import CsrfRefused, RoleRefused, Unauthenticated
from gateway.pipeline.errors import Forbidden, InvalidInput, StateConflict, with_hint
from gateway.policy.errors import BundleError, PolicyLoadError, PolicyRunError, SandboxBusy
from gateway.store.errors import DATABASE_DOWN, Conflict, NotFound, Unavailable

log = structlog.get_logger(__name__)

PROBLEM = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    422: "Unprocessable request",
    500: "Internal server error",
    503: "Service unavailable",
}


_CONTROL_PATTERN = re.compile(r"matching regex '[^']*x00[^']*'")


def _readable(detail: str) -> str:
    """msgspec names a pattern by its regex; say what the NUL/control-character rule means."""
    return _CONTROL_PATTERN.sub("without NUL or control characters", detail)


def problem(status: int, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": _readable(detail),
    }
    body.update(extra)
    headers = {"WWW-Authenticate": 'Bearer realm="gateway"'} if status == 401 else None
    return Response(body, status_code=status, media_type=PROBLEM, headers=headers)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = exc.extra if isinstance(exc.extra, list) else None
    if errors:
        errors = [
            {**e, "message": _readable(str(e["message"]))}
            if isinstance(e, dict) and "message" in e
            else e
            for e in errors
        ]
    detail = exc.detail or "the request is not valid"
    if errors:
        first = errors[0]
        if isinstance(first, dict) and first.get("message"):
            detail = f"{first['message']}" + (f" ({first['key']})" if first.get("key") else "")
    return problem(400, detail, errors=errors or [])


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return problem(exc.status_code, exc.detail or _TITLES.get(exc.status_code, "Error"))


def _mapped(status: int) -> Any:
    def handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        return problem(status, with_hint(exc, "api"))

    return handler


def _unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """503 with Retry-After: the database or a worker is away for now; the request may retry."""
    response = problem(503, with_hint(exc, "api"))
    response.headers["Retry-After"] = "5"
    return response


def _database_down(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """PostgreSQL went away mid-request (a restart, a failover): 503, never 500."""
    if isinstance(exc, asyncpg.InterfaceError | asyncpg.InternalClientError):
        log.error("database_unavailable", path=request.url.path, exc_info=exc)
    else:
        log.warning("database_unavailable", path=request.url.path, error=str(exc))
    response = problem(503, "the database is unavailable right now; try again in a moment")
    response.headers["Retry-After"] = "5"
    return response


def _policy_load(request: Request[Any, Any, Any], exc: PolicyLoadError) -> Response[Any]:
    """A draft the engine refused: its message, file and line, so it can be fixed."""
    return problem(422, str(exc), file=exc.file, line=exc.line, column=exc.column)


def _policy_run(request: Request[Any, Any, Any], exc: PolicyRunError) -> Response[Any]:
    """A sandboxed policy run that did not finish: 422 when the policy is at fault
    (``policy_timeout``, ``policy_memory``, ``policy_crashed``), 503 when no worker was
    free (``policy_sandbox_busy``). ``code`` is the machine-readable reason."""
    status = 503 if isinstance(exc, SandboxBusy) else 422
    response = problem(status, str(exc), code=exc.code)
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def _signature(request: Request[Any, Any, Any], exc: SignatureRefused) -> Response[Any]:
    """A webhook delivery not signed right: 401, naming the signature scheme (no bearer)."""
    response = problem(401, str(exc))
    response.headers["WWW-Authenticate"] = 'X-Gateway-Signature realm="webhooks"'
    return response


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("request_failed", path=request.url.path, error_type=type(exc).__name__)
    return problem(500, "the gateway hit an unexpected error; it has been logged")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ValidationException: _validation,
    HTTPException: _http,
    Unauthenticated: _mapped(401),
    RoleRefused: _mapped(403),
    CsrfRefused: _mapped(403),
    Forbidden: _mapped(403),
    NotFound: _mapped(404),
    Conflict: _mapped(409),
    StateConflict: _mapped(409),
    EvidenceError: _mapped(409),
    InvalidInput: _mapped(400),
    InvalidIdentity: _mapped(400),
    InvalidSource: _mapped(400),
    SignatureRefused: _signature,
    ReplayedDelivery: _mapped(409),
    SecretUnavailable: _mapped(503),
    Unavailable: _unavailable,
    **{error: _database_down for error in DATABASE_DOWN},
    PolicyLoadError: _policy_load,
    PolicyRunError: _policy_run,
    BundleError: _mapped(422),
    Exception: _unexpected,
}
