"""Who may do what: the role rule shared by the API and the CLI.

    AccessError
    ├── Unauthenticated   no token, or a token that is unknown, disabled or rotated
    │   └── SignInRequired    a console page without a live session (sign in again)
    ├── RoleRefused       the user's role may not do this
    └── CsrfRefused       a console form or htmx request without this session's CSRF token

Admins may do everything; everyone else needs one of the roles an action names. The
token → user lookup is ``gateway.store.users.user_by_token`` (no cache: a disabled or
rotated token is refused on the next request).
"""

from __future__ import annotations

from gateway.domain.records import User


class AccessError(Exception):
    pass


class Unauthenticated(AccessError):
    pass


class SignInRequired(Unauthenticated):
    pass


class RoleRefused(AccessError):
    pass


class CsrfRefused(AccessError):
    pass


def require(user: User, *roles: str) -> None:
    """Admins may do everything; everyone else needs one of ``roles``."""
    if user.role == "admin" or user.role in roles:
        return
    raise RoleRefused(f"your role is {user.role}; this needs {' or '.join(roles)}")
