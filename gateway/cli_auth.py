"""Who is acting, for CLI commands taken on behalf of a person.

A name is not an identity: such commands authenticate with the person's API token
(``--token TOKEN`` or ``GATEWAY_TOKEN``), looked up exactly as the API looks it up
(``gateway.store.users.user_by_token``), and the same role rule applies
(``gateway.domain.access.require``). Without a valid token the command is refused.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import asyncpg

from gateway.domain.access import Unauthenticated, require
from gateway.domain.records import User
from gateway.settings import TOKEN_VARIABLE
from gateway.store import users

TOKEN_DEST = "person_token"


class _AsRemoved(argparse.Action):
    """``--as NAME`` used to name the acting person without proving it; now an error."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            "--as NAME is gone: a name is not an identity. Pass your own API token with "
            f"--token TOKEN (or set {TOKEN_VARIABLE}); the command acts as its user"
        )


def add_token_option(parser: argparse.ArgumentParser, *, roles: str) -> None:
    """``--token`` (and the removed ``--as``) on a command that acts as a person."""
    parser.add_argument(
        "--token",
        dest=TOKEN_DEST,
        metavar="TOKEN",
        default=None,
        help=f"your API token; the command acts as its user and needs role {roles} "
        f"(default: the {TOKEN_VARIABLE} environment variable, which keeps the token out "
        "of the shell history and process list; required: no token, no action)",
    )
    parser.add_argument(
        "--as",
        dest="removed_as",
        metavar="NAME",
        action=_AsRemoved,
        help="removed (a name is not an identity): use --token or " + TOKEN_VARIABLE,
    )


def acts_as_person(args: argparse.Namespace) -> bool:
    return TOKEN_DEST in vars(args)


async def acting_user(pool: asyncpg.Pool, token: str | None, *roles: str) -> User:
    """The user whose token this is, if their role may do this; else the API's refusal."""
    if not token:
        raise Unauthenticated(
            "this command acts on behalf of a person: pass your API token with "
            f"--token TOKEN or set {TOKEN_VARIABLE}"
        )
    async with pool.acquire() as conn:
        user = await users.user_by_token(conn, token)
    if user is None:
        raise Unauthenticated("this API token is not valid (unknown, disabled or replaced)")
    require(user, *roles)
    return user
