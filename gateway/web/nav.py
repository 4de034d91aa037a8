"""The console's navigation: one entry per area, shown to the roles that may use it.

An entry appears only once a route with its ``href`` is registered (in ``WEB_ROUTES``), so
an area that has not landed yet shows no dead link. Admins see every entry (as the API's
role rule: admins may do everything). Page modules own their routes; this list owns the
labels and the order. Keep ``roles`` equal to the role guard on the page.
"""

from __future__ import annotations

from functools import cache

import msgspec
from litestar import Litestar

from gateway.domain.records import ROLES, User


class NavItem(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    href: str
    roles: tuple[str, ...]
    badge: str | None = None  # a fragment counting what waits there (loaded, then polled)
    script: str | None = None  # keeps the badge live (loaded on every page showing the entry)


NAV: tuple[NavItem, ...] = (
    NavItem(label="Dashboard", href="/ui/dashboard", roles=ROLES),
    NavItem(label="Inbox", href="/ui/agent/inbox", roles=("agent",)),
    NavItem(label="My proposals", href="/ui/agent/proposals", roles=("agent",)),
    NavItem(
        label="Review queue",
        href="/ui/review",
        roles=("compliance",),
        badge="/ui/review/badge",
        script="/static/review-live.js",  # one event stream per page: badge and queue
    ),
    NavItem(label="Opt-outs", href="/ui/opt-outs", roles=("compliance",)),
    NavItem(label="Policies", href="/ui/policies", roles=("compliance", "auditor")),
    NavItem(label="Audit log", href="/ui/audit", roles=("auditor", "compliance")),
    NavItem(label="Reports", href="/ui/audit/reports", roles=("auditor", "compliance")),
    NavItem(label="Sources", href="/ui/sources", roles=("admin",)),
)

# Where /ui/ sends each role first (the first of these that exists), then the dashboard,
# then the plain home page with links.
LANDING: dict[str, tuple[str, ...]] = {
    "agent": ("/ui/agent/inbox",),
    "compliance": ("/ui/review",),
    "auditor": ("/ui/audit",),
    "admin": (),
}
HOME = "/ui/home"


def _may(user: User, item: NavItem) -> bool:
    return user.role == "admin" or user.role in item.roles


@cache
def _paths(app: Litestar) -> frozenset[str]:
    return frozenset(route.path for route in app.routes)


def nav_for(app: Litestar, user: User | None) -> list[NavItem]:
    if user is None:
        return []
    paths = _paths(app)
    return [item for item in NAV if item.href in paths and _may(user, item)]


def landing_for(app: Litestar, user: User) -> str:
    paths = _paths(app)
    for href in (*LANDING.get(user.role, ()), "/ui/dashboard"):
        if href in paths:
            return href
    return HOME
