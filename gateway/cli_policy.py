"""``python -m gateway policy ...``: the lifecycle from a terminal, on the database.

Commands that change something act as an existing compliance officer named with
``--as NAME``: the same rules as the API apply (the author cannot activate).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec

from gateway.domain.records import User
from gateway.pipeline.errors import PipelineError
from gateway.pipeline.policies import PolicyService
from gateway.policy import PolicyError, load_bundle
from gateway.settings import Settings
from gateway.store.errors import StoreError


def add_commands(policy: Any) -> None:
    """Add the lifecycle subcommands to the ``policy`` subparsers."""
    policy.add_parser("list", help="policy versions and their state")
    show = policy.add_parser("show", help="one version's files, data and tests")
    show.add_argument("revision")
    draft = policy.add_parser("draft", help="store a folder as a new draft (runs its tests)")
    draft.add_argument("--dir", type=Path, required=True)
    draft.add_argument("--as", dest="actor", required=True, help="compliance officer's name")
    draft.add_argument("--description", default="")
    diff = policy.add_parser("diff", help="what changed between two revisions")
    diff.add_argument("old")
    diff.add_argument("new")
    impact = policy.add_parser("impact", help="replay stored decisions through a draft")
    impact.add_argument("revision")
    impact.add_argument("--last", type=int, default=1000)
    for name, text in (
        ("activate", "enforce a revision (not by its author)"),
        ("shadow", "evaluate a draft beside live decisions"),
    ):
        cmd = policy.add_parser(name, help=text)
        cmd.add_argument("revision")
        cmd.add_argument("--as", dest="actor", required=True)
    rollback = policy.add_parser("rollback", help="re-activate the previous revision")
    rollback.add_argument("--as", dest="actor", required=True)


def run(args: argparse.Namespace, settings: Settings) -> int:
    handlers: dict[
        str, Callable[[argparse.Namespace, PolicyService, User | None], Coroutine[Any, Any, int]]
    ] = {
        "list": _list,
        "show": _show,
        "draft": _draft,
        "diff": _diff,
        "impact": _impact,
        "activate": _activate,
        "shadow": _shadow,
        "rollback": _rollback,
    }
    try:
        return asyncio.run(_with_service(settings, args, handlers[args.action]))
    except (PipelineError, StoreError, PolicyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


async def _with_service(settings: Settings, args: argparse.Namespace, handler: Any) -> int:
    async with _service(settings) as (service, db_pool):
        actor = getattr(args, "actor", None)
        user = None
        if actor is not None:
            from gateway.store.users import user_by_name

            async with db_pool.acquire() as conn:
                user = await user_by_name(conn, actor)
            if user is None or user.role not in ("compliance", "admin"):
                print(f"error: no compliance officer named {actor!r}", file=sys.stderr)
                return 1
        result: int = await handler(args, service, user)
        return result


@asynccontextmanager
async def _service(settings: Settings) -> AsyncIterator[tuple[PolicyService, Any]]:
    from gateway.runtime import engine_factory
    from gateway.store.database import Database

    db = await Database.open(settings)
    service = PolicyService(db.pool, engine_factory(settings))
    try:
        await service.start(load_bundle(settings.policy_dir))
        yield service, db.pool
    finally:
        if service.live is not None:
            await service.live.close()
        await db.close()


def _print(value: Any) -> None:
    print(json.dumps(msgspec.to_builtins(value), indent=2, ensure_ascii=False))


async def _list(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    from gateway.http.policy_views import state_of

    state = await service.state()
    for v in await service.versions():
        tests = {True: "tests pass", False: "TESTS FAIL", None: "not tested"}[v.tests_passed]
        print(
            f"{v.revision}  {state_of(v, state):8} {v.author:12} {tests:11} "
            f"{v.created_at:%Y-%m-%d %H:%M}  {v.description}"
        )
    return 0


async def _show(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    _print(await service.version(args.revision))
    return 0


async def _draft(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    assert user is not None
    bundle = load_bundle(args.dir)
    version, created = await service.draft(
        files=dict(bundle.files),
        data=dict(bundle.data),
        description=args.description,
        user=user,
    )
    tests = version.tests or {}
    print(f"{'created' if created else 'already stored'}: {version.revision}")
    print(f"tests: {tests.get('passed', 0)} passed, {tests.get('failed', 0)} failed")
    return 0 if version.tests_passed else 1


async def _diff(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    for change in await service.diff(args.old, args.new):
        print(change.diff, end="")
    return 0


async def _impact(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    _print(await service.impact(args.revision, limit=args.last))
    return 0


async def _activate(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    assert user is not None
    state = await service.activate(args.revision, user=user)
    print(f"active: {state.active_revision} (previous {state.previous_revision})")
    return 0


async def _shadow(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    assert user is not None
    state = await service.set_shadow(args.revision, user=user)
    print(f"shadow: {state.shadow_revision}")
    return 0


async def _rollback(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    assert user is not None
    state = await service.rollback(user=user)
    print(f"active: {state.active_revision} (rolled back from {state.previous_revision})")
    return 0
