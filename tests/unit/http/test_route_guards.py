"""One way in: every route of the app (API and console) has a role guard, or is on a
short explicit public list. A new route without ``guards=[roles(...)]`` fails here."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.routes import HTTPRoute

from gateway.app import create_app
from gateway.http.auth import authenticated
from gateway.settings import Settings

# (method, path) of every route that needs no role: each is either marked opt=PUBLIC (and
# then authenticated some other way, or meant for anyone) or is the OpenAPI documents.
PUBLIC_ROUTES = {
    ("GET", "/health"),  # load balancers
    ("GET", "/ui/sign-in"),  # the sign-in page
    ("POST", "/ui/sign-in"),  # checks its own double-submit CSRF cookie
    ("GET", "/static/{file_path:path}"),  # CSS, JS, fonts; no data
    ("HEAD", "/static/{file_path:path}"),
    ("GET", "/v1/audit/key"),  # the checkpoint public key, for offline verification
    ("POST", "/v1/webhooks/{source:str}"),  # authenticated by the delivery's signature
}
OPENAPI_PREFIX = "/schema"


def _unguarded(app: Any) -> tuple[set[tuple[str, str]], set[tuple[str, str]], list[str]]:
    """(public routes, routes with neither a role guard nor public, app-guard problems)."""
    public: set[tuple[str, str]] = set()
    missing: set[tuple[str, str]] = set()
    problems: list[str] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            guards = handler.resolve_guards()
            for method in handler.http_methods:
                key = (method, route.path)
                if method == "OPTIONS":
                    continue  # Litestar's automatic OPTIONS answers only the Allow header
                if not guards or guards[0] is not authenticated:
                    problems.append(f"{method} {route.path}: the app-wide guard is not first")
                if route.path == OPENAPI_PREFIX or route.path.startswith(OPENAPI_PREFIX + "/"):
                    continue
                if handler.opt.get("public"):
                    public.add(key)
                elif not any(getattr(g, "roles", None) for g in guards):
                    missing.add(key)
    return public, missing, problems


def test_every_route_has_a_role_guard_or_is_on_the_public_list() -> None:
    app = create_app(Settings())
    public, missing, problems = _unguarded(app)
    assert problems == []
    assert missing == set(), "routes without guards=[roles(...)]"
    assert public == PUBLIC_ROUTES


def test_the_walk_finds_a_route_that_forgot_its_role_guard() -> None:
    @get("/v1/forgotten", sync_to_thread=False)
    def forgotten() -> str:
        return "oops"

    app = create_app(Settings())
    app.register(forgotten)
    _public, missing, _problems = _unguarded(app)
    assert missing == {("GET", "/v1/forgotten")}


def test_the_walk_reaches_the_api_and_the_console() -> None:
    paths = {route.path for route in create_app(Settings()).routes}
    assert {"/v1/proposals", "/v1/users", "/ui", "/ui/sign-out", "/ui/home"} <= paths
