"""``python -m gateway users ...``: users and their API tokens, for the operator.

    users add NAME --role ROLE     a new user; their token is the last line printed
          [--password | --password-stdin]   also a console password (asked twice, or one
                                   line read from standard input, for scripts)
    users passwd NAME [--password-stdin]    set or replace a console password; the user's
                                   console sessions end
    users demo                     the demo users, tokens in DATA_DIR/demo-tokens.txt (only
                                   when the demo is on: embedded database or GATEWAY_DEMO=true)
    users list                     every user, role, state; never a token
    users disable NAME             their token is refused from the next request on
    users rotate NAME              a new token (last line printed); the old one is dead

These are operator commands (whoever runs them can reach the database anyway): they act
as ``cli`` in the audit log (``user_added``, ``user_disabled``, ``user_token_rotated``,
``user_password_set``; never the password).
Admins do the same through ``/v1/users``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gateway.domain.records import ROLES
from gateway.pipeline.accounts import Accounts
from gateway.pipeline.errors import InvalidInput, PipelineError
from gateway.pipeline.passwords import check_strength
from gateway.settings import Settings, demo_enabled
from gateway.store.errors import Conflict, StoreError

ACTOR = "cli"

DEMO_USERS = (
    ("demo-agent", "agent"),
    ("demo-compliance", "compliance"),
    ("demo-reviewer", "compliance"),
    ("demo-auditor", "auditor"),
    ("demo-admin", "admin"),
)


def add_commands(subparsers: Any) -> None:
    """Add ``users`` and its actions to the CLI's top-level subparsers."""
    users = subparsers.add_parser(
        "users", help="manage users and their API tokens (operator; audited as 'cli')"
    )
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a user and print their API token (last line)")
    add.add_argument("name", help="the user's unique name (1 to 100 characters)")
    add.add_argument("--role", required=True, choices=ROLES, help="what the user may do")
    _password_options(add, optional=True)
    passwd = actions.add_parser(
        "passwd", help="set or replace a user's console password (their sessions end)"
    )
    passwd.add_argument("name", help="the user's name")
    _password_options(passwd, optional=False)
    actions.add_parser(
        "demo",
        help="create demo-agent, demo-compliance, demo-reviewer, demo-auditor and "
        "demo-admin once; their tokens go to DATA_DIR/demo-tokens.txt; only when the demo is "
        "on (the embedded database, or GATEWAY_DEMO=true): otherwise it creates no one",
    )
    actions.add_parser("list", help="every user: name, role, created, disabled, token replaced")
    disable = actions.add_parser(
        "disable", help="disable a user: their token is refused from the next request on"
    )
    disable.add_argument("name", help="the user's name")
    rotate = actions.add_parser(
        "rotate", help="give a user a new API token (last line printed); the old one is refused"
    )
    rotate.add_argument("name", help="the user's name")


def _password_options(parser: Any, *, optional: bool) -> None:
    group = parser.add_mutually_exclusive_group()
    if optional:
        group.add_argument(
            "--password",
            action="store_true",
            help="also set a console password (asked for twice on the terminal)",
        )
    group.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the console password from the first line of standard input (scripts)",
    )


def _read_password(args: argparse.Namespace) -> str | None:
    """The password the options ask for (None: none asked for); never echoed or logged."""
    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if getattr(args, "password", False) or args.action == "passwd":
        first = getpass.getpass("console password: ")
        if getpass.getpass("again: ") != first:
            raise InvalidInput("the two passwords differ; nothing was changed")
        return first
    return None


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the ``users`` action in ``args``; the exit status."""
    try:
        if args.action == "demo":
            return asyncio.run(_demo(settings))
        return asyncio.run(_run(args, settings))
    except (PipelineError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


@asynccontextmanager
async def _accounts(settings: Settings) -> AsyncIterator[Accounts]:
    from gateway.store.database import Database

    db = await Database.open(settings)
    try:
        yield Accounts(db.pool)
    finally:
        await db.close()


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    async with _accounts(settings) as accounts:
        if args.action == "add":
            password = _read_password(args)
            if password is not None:
                check_strength(password)  # before the user exists: all or nothing
            user, token = await accounts.add(name=args.name, role=args.role, actor=ACTOR)
            if password is not None:
                await accounts.set_password(user.name, password, actor=ACTOR)
                print(f"console password set for {user.name}")
            print(f"added user {user.name} with role {user.role}; their API token (shown once):")
            print(token)
        elif args.action == "passwd":
            password = _read_password(args)
            assert password is not None
            user = await accounts.set_password(args.name, password, actor=ACTOR)
            print(f"console password set for {user.name}; their console sessions ended")
        elif args.action == "list":
            for a in await accounts.list():
                state = f"disabled {a.disabled_at:%Y-%m-%d %H:%M}" if a.disabled_at else "active"
                rotated = (
                    f"  token replaced {a.token_rotated_at:%Y-%m-%d %H:%M}"
                    if a.token_rotated_at
                    else ""
                )
                print(
                    f"{a.name:24} {a.role:10} {state:22} "
                    f"created {a.created_at:%Y-%m-%d %H:%M}{rotated}"
                )
        elif args.action == "disable":
            account = await accounts.disable(args.name, actor=ACTOR)
            print(f"disabled user {account.name}: their token is refused from now on")
        elif args.action == "rotate":
            account, token = await accounts.rotate(args.name, actor=ACTOR)
            print(f"new API token for {account.name} (shown once; the old one is refused now):")
            print(token)
    return 0


async def _demo(settings: Settings) -> int:
    """Create the demo users once and keep their tokens in a private file for the demo."""
    if not demo_enabled(settings):
        # Demo users are demo data: two compliance officers whose tokens share one file are
        # one person passing the two-person rule. ./dev serve goes on without them.
        print(
            "demo users not created: the demo runs only with the embedded database or an "
            "explicit GATEWAY_DEMO=true (create real users with `users add NAME --role ROLE`)",
            file=sys.stderr,
        )
        return 0
    path = settings.data_dir / "demo-tokens.txt"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    async with _accounts(settings) as accounts:
        for name, role in DEMO_USERS:
            try:
                _user, token = await accounts.add(name=name, role=role, actor=ACTOR)
            except Conflict:
                continue
            lines.append(f"{name.upper().replace('-', '_')}_TOKEN={token}  # role {role}\n")
    if lines:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.writelines(lines)
    print(f"demo users' API tokens: {path}", file=sys.stderr)
    return 0
