"""``python -m gateway policy ...``: the lifecycle from a terminal, on the database.

Commands that change something act as the person whose API token they are given
(``--token TOKEN`` or ``GATEWAY_TOKEN``) and follow the same rules as the API: the role
must be compliance (or admin), the author of a draft cannot activate it, and a rollback or
a shadow is proposed by one officer and carried out when another confirms it. Reading
(list, show, diff, impact, requests) is an operator command and needs no token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import msgspec

from gateway.cli_auth import TOKEN_DEST, acting_user, add_token_option
from gateway.domain.access import AccessError
from gateway.domain.records import PolicyRequest, User
from gateway.pipeline.errors import CLI, PipelineError, with_hint
from gateway.pipeline.policies import PolicyService
from gateway.policy import PolicyError, load_bundle
from gateway.settings import Settings
from gateway.store.errors import StoreError

OFFICER = "compliance"


def add_commands(policy: Any) -> None:
    """Add the lifecycle subcommands to the ``policy`` subparsers."""
    policy.add_parser("list", help="policy versions and their state (no token needed)")
    show = policy.add_parser("show", help="one version's files, data and test results as JSON")
    show.add_argument("revision", help="the version's revision (sha256:...)")
    draft = policy.add_parser(
        "draft",
        help="store a bundle folder as a new draft and run its tests "
        "(exit 1 when a test fails; the draft is stored all the same)",
    )
    draft.add_argument(
        "--dir", type=Path, required=True, help="bundle folder, laid out like policies/ (required)"
    )
    draft.add_argument(
        "--description", default="", help="what the draft changes and why (default: empty)"
    )
    add_token_option(draft, roles=OFFICER)
    diff = policy.add_parser("diff", help="what changed between two revisions (unified diff)")
    diff.add_argument("old", help="the earlier revision")
    diff.add_argument("new", help="the later revision")
    impact = policy.add_parser(
        "impact", help="replay stored decisions through a draft and the active policy"
    )
    impact.add_argument("revision", help="the draft's revision")
    impact.add_argument(
        "--last", type=int, default=1000, help="how many recent proposals to replay (1000)"
    )
    activate = policy.add_parser(
        "activate", help="enforce a draft whose tests pass (not by its author: two-person rule)"
    )
    activate.add_argument("revision", help="the draft's revision")
    add_token_option(activate, roles=OFFICER)
    shadow = policy.add_parser(
        "shadow",
        help="propose evaluating a draft beside every live decision (never enforced); "
        "it starts when another officer confirms",
    )
    shadow.add_argument("revision", help="the draft's revision")
    add_token_option(shadow, roles=OFFICER)
    stop = policy.add_parser("stop-shadow", help="stop shadow evaluation (one person may)")
    add_token_option(stop, roles=OFFICER)
    rollback = policy.add_parser(
        "rollback",
        help="propose re-activating an earlier revision; it happens when another officer confirms",
    )
    rollback.add_argument(
        "--to",
        metavar="REVISION",
        default=None,
        help="a revision enforced before (default: the previous one)",
    )
    add_token_option(rollback, roles=OFFICER)
    reqs = policy.add_parser(
        "requests", help="rollbacks and shadows waiting for a second officer (no token needed)"
    )
    reqs.add_argument(
        "--all", action="store_true", help="also confirmed and withdrawn ones (default: pending)"
    )
    confirm = policy.add_parser(
        "confirm", help="carry out a request another officer proposed (two-person rule)"
    )
    confirm.add_argument("request", type=int, help="the request's number")
    add_token_option(confirm, roles=OFFICER)
    withdraw = policy.add_parser(
        "withdraw", help="withdraw a pending request (yours, or turn down someone else's)"
    )
    withdraw.add_argument("request", type=int, help="the request's number")
    add_token_option(withdraw, roles=OFFICER)


Handler = Callable[[argparse.Namespace, PolicyService, User | None], Coroutine[Any, Any, int]]


def run(args: argparse.Namespace, settings: Settings) -> int:
    handlers: dict[str, Handler] = {
        "list": _list,
        "show": _show,
        "draft": _draft,
        "diff": _diff,
        "impact": _impact,
        "activate": _activate,
        "shadow": _shadow,
        "stop-shadow": _stop_shadow,
        "rollback": _rollback,
        "requests": _requests,
        "confirm": _confirm,
        "withdraw": _withdraw,
    }
    try:
        return asyncio.run(_with_service(settings, args, handlers[args.action]))
    except AccessError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except (PipelineError, StoreError, PolicyError) as exc:
        print(f"error: {with_hint(exc, 'cli')}", file=sys.stderr)
        return 1


async def _with_service(settings: Settings, args: argparse.Namespace, handler: Handler) -> int:
    from gateway.runtime import policy_service
    from gateway.store.database import Database

    db = await Database.open(settings)
    service = policy_service(settings, db)
    try:
        user = None
        if TOKEN_DEST in vars(args):  # acts on behalf of a person: who, and may they?
            user = await acting_user(db.pool, getattr(args, TOKEN_DEST), OFFICER)
        await service.start(load_bundle(settings.policy_dir))
        return await handler(args, service, user)
    finally:
        if service.live is not None:
            await service.live.close()
        await service.close()
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
    for result in tests.get("results", []):
        if result.get("passed"):
            continue
        where = f" ({result['file']}:{result['line']})" if result.get("file") else ""
        print(f"FAIL {result['package']}.{result['name']}{where}: {result.get('error')}")
        for line in result.get("output") or []:
            print(f"    print: {line}")
    print(f"tests: {tests.get('passed', 0)} passed, {tests.get('failed', 0)} failed")
    if version.tests_passed:
        return 0
    print(
        f"the draft is stored as {version.revision}, but it cannot be activated until its "
        "tests pass: fix them and run policy draft again",
        file=sys.stderr,
    )
    return 1


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


def _proposed(request: PolicyRequest, what: str) -> None:
    print(f"proposed {what} as request {request.id}; nothing changes until another compliance")
    print("officer confirms it (two-person rule) with:")
    print(f"  {CLI} policy confirm {request.id} --token THEIR_TOKEN")


async def _shadow(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    assert user is not None
    request = await service.propose_shadow(args.revision, user=user)
    _proposed(request, f"running {request.revision} in shadow")
    return 0


async def _stop_shadow(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    assert user is not None
    state = await service.stop_shadow(user=user)
    print(f"shadow stopped (shadow: {state.shadow_revision})")
    return 0


async def _rollback(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    assert user is not None
    request = await service.rollback(user=user, to=args.to)
    _proposed(request, f"rolling back to {request.revision} (active: {request.base_revision})")
    return 0


async def _requests(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    found = await service.requests(pending_only=not args.all)
    for r in found:
        decided = f" by {r.decided_by}" if r.decided_by else ""
        print(
            f"{r.id:>5}  {r.status:9}{decided}  {r.action:8} {r.revision}  "
            f"proposed by {r.proposed_by} {r.proposed_at:%Y-%m-%d %H:%M}"
        )
    if not found:
        print("no pending requests" if not args.all else "no requests")
    return 0


async def _confirm(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    assert user is not None
    state = await service.confirm(args.request, user=user)
    print(
        f"confirmed request {args.request}: active {state.active_revision}, "
        f"shadow {state.shadow_revision}"
    )
    return 0


async def _withdraw(args: argparse.Namespace, service: PolicyService, user: User | None) -> int:
    assert user is not None
    request = await service.withdraw(args.request, user=user)
    print(f"withdrew request {request.id} ({request.action} {request.revision})")
    return 0
