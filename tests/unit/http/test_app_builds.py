"""The app builds with every route's parameters declared explicitly (warnings are errors
here, and Litestar warns about inferred parameter sources that its next major drops)."""

from __future__ import annotations

from gateway.app import create_app
from gateway.settings import Settings


def test_app_builds_without_deprecated_parameter_styles() -> None:
    app = create_app(Settings())
    paths = {route.path for route in app.routes}
    assert {
        "/v1/proposals",
        "/v1/policies/{revision:str}/activate",
        "/v1/audit/export",
        "/v1/webhooks/{source:str}",
    } <= paths
