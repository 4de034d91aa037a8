"""Auditors only read: the audit and dashboard pages change nothing. The one POST is
"Verify now", which records that a verification ran (and changes nothing audited)."""

from __future__ import annotations

from litestar import Litestar

from gateway.http.auth import DEPENDENCIES
from gateway.web.audit import AuditController
from gateway.web.dashboard import DashboardController

ALLOWED_WRITES = {("/ui/audit/verify", "POST")}


def test_every_audit_and_dashboard_page_is_a_read() -> None:
    app = Litestar(route_handlers=[AuditController, DashboardController], dependencies=DEPENDENCIES)
    methods = {
        (route.path, method)
        for route in app.routes
        for method in getattr(route, "methods", set())
        if method not in ("GET", "HEAD", "OPTIONS")
    }
    assert methods == ALLOWED_WRITES
