"""One way in: no handler authenticates by hand or looks the runtime up on ``app.state``.

Handlers get ``user: CurrentUser``, ``runtime: Services``, ``sources: Sources`` (and
``/health`` ``runtime_if_started``) by injection; only ``gateway/http/auth.py`` (the guard
and the providers) reads ``app.state`` or checks a token or session. This walks the source
of every module that holds route handlers (beside the route walk in test_route_guards.py).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from litestar.routes import HTTPRoute

import gateway
from gateway.app import create_app
from gateway.settings import Settings

ROOT = Path(gateway.__file__).parent
PROVIDERS = ROOT / "http" / "auth.py"  # the one place: the guard and the dependencies
APP = ROOT / "app.py"  # its lifespan fills app.state; only its handlers are walked
# Functions that check a token or session themselves (the guard's job).
BY_HAND = {"authenticate", "authenticated", "_bearer_user", "_console_user", "user_by_token"}
ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "head", "route"}
INJECTED = {"user", "runtime", "runtime_if_started", "sources"}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_app(node: ast.expr) -> bool:
    return _name(node) == "app"


def findings(tree: ast.AST) -> list[str]:
    """``line: what`` for every ``app.state`` read and hand-made authentication in ``tree``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "state" and _is_app(node.value):
            found.append(f"{node.lineno}: reads app.state")
        if isinstance(node, ast.Call):
            called = _name(node.func)
            if called in BY_HAND:
                found.append(f"{node.lineno}: calls {called}() by hand")
            if (
                called == "getattr"
                and len(node.args) >= 2
                and _is_app(node.args[0])
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value == "state"
            ):
                found.append(f"{node.lineno}: reads app.state")
    return found


def _route_handlers(tree: ast.Module) -> list[ast.AST]:
    def is_route(decorator: ast.expr) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        return _name(target) in ROUTE_DECORATORS

    return [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(is_route(d) for d in node.decorator_list)
    ]


def _handler_modules() -> list[Path]:
    modules = [*(ROOT / "http").glob("*.py"), *(ROOT / "web").rglob("*.py")]
    return sorted(p for p in modules if p != PROVIDERS)


def test_no_handler_reads_app_state_or_authenticates_by_hand() -> None:
    problems = []
    for path in _handler_modules():
        for finding in findings(ast.parse(path.read_text(), str(path))):
            problems.append(f"{path.relative_to(ROOT.parent)}:{finding}")
    for handler in _route_handlers(ast.parse(APP.read_text(), str(APP))):
        for finding in findings(handler):
            problems.append(f"gateway/app.py:{finding}")
    assert problems == [], "use CurrentUser / Services / Sources (gateway/http/auth.py)"


def test_the_walk_covers_every_module_that_holds_a_handler() -> None:
    walked = {*_handler_modules(), APP}
    outside = set()
    for route in create_app(Settings()).routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            module = inspect.getmodule(handler.fn)
            name = module.__name__ if module else "?"
            if name.startswith("litestar."):
                continue  # the OpenAPI documents and the static files router
            if module is None or Path(inspect.getfile(module)) not in walked:
                outside.add(f"{handler.handler_name} in {name}")
    assert outside == set()


def test_the_walk_finds_a_handler_that_reads_app_state_or_checks_a_token_itself() -> None:
    source = """
async def handler(request):
    runtime = request.app.state.runtime
    sources = getattr(request.app.state, "sources", None)
    user = await authenticate(request, runtime.db.pool)
    found = await users.user_by_token(conn, token)
"""
    assert findings(ast.parse(source)) == [
        "3: reads app.state",
        "4: reads app.state",
        "5: calls authenticate() by hand",
        "6: calls user_by_token() by hand",
    ]


def test_injected_parameters_are_not_in_the_api_document() -> None:
    schema = create_app(Settings()).openapi_schema.to_schema()
    leaked = {
        (method.upper(), path, parameter["name"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["name"] in INJECTED
    }
    assert leaked == set()
