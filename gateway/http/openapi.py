"""The OpenAPI document tells the truth: every answer an operation can give is declared.

Litestar declares each handler's success answer (and 400 for validation). The gateway's
other answers come from a few places (the auth guard, body limits, the domain errors that
``problems.py`` maps) and apply across routes, so they are declared here, in one pass over
the built document, by the rules the code follows:

- every ``/v1`` operation: 400, 404, 409, 422 and 503 as ``application/problem+json``;
- every one that needs a token (all but ``opt=PUBLIC`` routes): 401 and 403, and the bearer
  security scheme; an inbound webhook: 401 (its signature);
- every one with a body: 413;
- answers that are not JSON name their media types (the PEM key, the export, the bundle);
- ``/health``: 503 with the same body as its 200.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.routes import HTTPRoute

from gateway.http.problems import _TITLES, PROBLEM

_WHEN = {
    400: "A parameter or field is malformed or out of range (`errors` names each one)",
    401: "No token, or one that is unknown or disabled (webhooks: not signed right)",
    403: "The caller's role may not do this",
    404: "No such resource",
    409: "The resource is not in a state that allows this",
    413: "The body is too large",
    422: "The request is well-formed but cannot be carried out (e.g. a policy does not compile)",
    503: "The database or the policy engine is unavailable",
}
_ALWAYS = (400, 404, 409, 422, 503)
_BODY_METHODS = ("post", "put", "patch")
# Answers that are not JSON: media types per (method, path).
_MEDIA = {
    ("get", "/v1/audit/key"): ("application/x-pem-file",),
    ("get", "/v1/audit/export"): ("application/x-ndjson", "text/csv"),
    ("get", "/v1/audit/bundle"): ("application/gzip",),
    ("get", "/v1/intent-flags/export"): ("application/x-ndjson",),
}

_PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.OBJECT), description="per field"
        ),
    },
    description="RFC 9457 problem details; some carry more members (e.g. file, line)",
)


def _problem(status: int) -> OpenAPIResponse:
    ref = Reference(ref="#/components/schemas/Problem")
    return OpenAPIResponse(
        description=f"{_TITLES.get(status, 'Error')}: {_WHEN[status]}",
        content={PROBLEM: OpenAPIMediaType(schema=ref)},
    )


def _public(route: HTTPRoute, method: str) -> bool:
    handler, _model = route.route_handler_map[method.upper()]  # type: ignore[index]  # an HTTP method
    return bool(handler.opt.get("public"))


def _document_operation(route: HTTPRoute, method: str, operation: Any) -> None:
    path = route.path_format
    codes = list(_ALWAYS)
    public = _public(route, method)
    if not public:
        codes += [401, 403]
        operation.security = [{"bearer": []}]
    elif path.startswith("/v1/webhooks/"):
        codes.append(401)
    if method in _BODY_METHODS:
        codes.append(413)
    responses = operation.responses or {}
    for status in sorted(codes):
        # Litestar's own 400 entry describes its default error body; ours is problem+json.
        if status == 400 or str(status) not in responses:
            responses[str(status)] = _problem(status)
    if media := _MEDIA.get((method, path)):
        ok = next(code for code in responses if code.startswith("2"))
        responses[ok] = OpenAPIResponse(
            description=responses[ok].description,
            content={m: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)) for m in media},
        )
    operation.responses = responses


def document_answers(app: Litestar) -> None:
    """Declare every answer of every operation in ``app``'s OpenAPI document (see above)."""
    openapi = app.openapi_schema
    components = openapi.components if openapi.components else Components()
    schemas = dict(components.schemas or {})
    schemas["Problem"] = _PROBLEM_SCHEMA
    components.schemas = schemas
    components.security_schemes = {
        **(components.security_schemes or {}),
        "bearer": SecurityScheme(
            type="http", scheme="bearer", description="an API token (gateway users add)"
        ),
    }
    openapi.components = components
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or openapi.paths is None:
            continue
        item = openapi.paths.get(route.path_format)
        if item is None:
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            if route.path_format.startswith("/v1/"):
                _document_operation(route, method, operation)
            elif route.path_format == "/health" and operation.responses:
                operation.responses.setdefault(
                    "503",
                    OpenAPIResponse(
                        description="Not ready: the database or the policy engine is not",
                        content=operation.responses["200"].content,
                    ),
                )
