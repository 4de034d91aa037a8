"""The second person of a two-person action must be someone the first could not be.

A name is not enough: whoever issued a user's current token (an admin creating or rotating
it) could have kept a copy and act under that name. So the second person (who activates a
draft, confirms a rollback or a shadow, approves a held reply) may neither be the first
person nor hold a token the first person issued.
"""

from __future__ import annotations

from gateway.domain.records import User
from gateway.pipeline.errors import CLI, Forbidden


def ensure_second_person(user: User, first: str, *, did: str) -> None:
    """Forbidden when ``user``'s current token was issued by ``first`` (who ``did`` the
    first half); the caller has already refused ``user.name == first``."""
    if user.token_issued_by is not None and user.token_issued_by == first:
        raise Forbidden(
            f"your current API token was issued by {first}, who {did}; whoever issued a "
            "token may hold a copy of it, so it cannot act as the second person here "
            "(two-person rule)",
            api_hint=f"have another admin replace your token (POST /v1/users/{user.name}/rotate)",
            cli_hint=f"have the operator replace your token (`{CLI} users rotate {user.name}`)",
        )
