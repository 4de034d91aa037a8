"""The CLI: serve, worker, migrate, users, policy, audit.

    python -m gateway serve [--host H] [--port P] [--no-worker]
    python -m gateway worker
    python -m gateway migrate
    python -m gateway users add NAME --role ROLE       (the token is the last line printed)
    python -m gateway policy test [--dir DIR]
    python -m gateway audit verify

``DATABASE_URL`` selects an external PostgreSQL; without it the embedded one in
``GATEWAY_DATA_DIR`` (default ``.data``) is used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from gateway.domain.records import ROLES
from gateway.logging import configure_logging
from gateway.settings import Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API (and, unless --no-worker, the worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="do not release replies here")
    sub.add_parser("worker", help="run the release worker only")
    sub.add_parser("migrate", help="apply pending schema migrations and exit")
    users = sub.add_parser("users", help="manage users").add_subparsers(
        dest="action", required=True
    )
    add = users.add_parser("add", help="add a user and print their API token")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    users.add_parser(
        "demo",
        help="create demo-agent, demo-compliance, demo-reviewer, demo-auditor and "
        "demo-admin once; their tokens go to DATA_DIR/demo-tokens.txt",
    )
    policy = sub.add_parser("policy", help="policy tools").add_subparsers(
        dest="action", required=True
    )
    ptest = policy.add_parser("test", help="run every test_ rule of the policy bundle")
    ptest.add_argument("--dir", type=Path, default=None, help="bundle folder (default policies/)")
    schema = policy.add_parser("schema", help="write the policy input's JSON Schema")
    schema.add_argument(
        "--out", type=Path, default=None, help="default: POLICY_DIR/input.schema.json"
    )
    from gateway.cli_policy import add_commands

    add_commands(policy)
    from gateway.cli_sources import add_commands as add_source_commands

    add_source_commands(sub)
    from gateway.cli_audit import add_commands as add_audit_commands

    add_audit_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(json=settings.log_json, level=settings.log_level)
    from gateway.store.errors import StoreError

    try:
        if args.command == "serve":
            return _serve(settings, args.host, args.port, worker=not args.no_worker)
        if args.command == "worker":
            return asyncio.run(_worker(settings))
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "users" and args.action == "demo":
            return asyncio.run(_users_demo(settings))
        if args.command == "users":
            return asyncio.run(_users_add(settings, args.name, args.role))
        if args.command == "policy" and args.action == "schema":
            return _policy_schema(args.out or settings.policy_dir / "input.schema.json")
        if args.command == "policy" and args.action == "test":
            return _policy_test(args.dir or settings.policy_dir)
        if args.command == "policy":
            from gateway.cli_policy import run

            return run(args, settings)
        if args.command == "sources":
            from gateway.cli_sources import run as run_sources

            return run_sources(args, settings)
        if args.command == "audit":
            from gateway.cli_audit import run as run_audit

            return run_audit(args, settings)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 2


def _serve(settings: Settings, host: str, port: int, *, worker: bool) -> int:
    import uvicorn

    from gateway.app import create_app

    app = create_app(settings, worker=worker)
    print(f"Engagement Gateway on http://{host}:{port}  (API docs: /schema)", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    return 0


async def _worker(settings: Settings) -> int:
    from gateway.runtime import Runtime

    runtime = await Runtime.start(settings)
    runtime.start_policy_follower()
    runtime.start_checkpointer()
    runtime.start_retention()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runtime.start_worker()
    runtime.start_sources()
    if settings.demo and settings.demo_source:
        runtime.start_demo_source()
    await stop.wait()
    await runtime.close()
    return 0


async def _migrate(settings: Settings) -> int:
    from gateway.store.database import migrate_dsn, resolve_dsn

    dsn, _server = resolve_dsn(settings)
    applied = await migrate_dsn(dsn)
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
    return 0


async def _users_add(settings: Settings, name: str, role: str) -> int:
    from gateway.store import audit, users
    from gateway.store.database import Database

    if not name.strip() or len(name) > 100:
        print("error: NAME must be 1 to 100 characters", file=sys.stderr)
        return 2
    db = await Database.open(settings)
    token = secrets.token_urlsafe(32)
    try:
        async with db.pool.acquire() as conn, conn.transaction():
            user = await users.add_user(conn, name=name.strip(), role=role, token=token)
            await audit.append(
                conn,
                kind="user_added",
                actor="cli",
                subject=f"user:{user.name}",
                payload={"user_id": user.id, "name": user.name, "role": role},
            )
    finally:
        await db.close()
    print(f"added user {user.name} with role {role}; their API token (shown once):")
    print(token)
    return 0


DEMO_USERS = (
    ("demo-agent", "agent"),
    ("demo-compliance", "compliance"),
    ("demo-reviewer", "compliance"),
    ("demo-auditor", "auditor"),
    ("demo-admin", "admin"),
)


async def _users_demo(settings: Settings) -> int:
    """Create the demo users once and keep their tokens in a private file for the demo."""
    from gateway.store import audit, users
    from gateway.store.database import Database
    from gateway.store.errors import Conflict

    path = settings.data_dir / "demo-tokens.txt"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = await Database.open(settings)
    lines: list[str] = []
    try:
        for name, role in DEMO_USERS:
            token = secrets.token_urlsafe(32)
            try:
                async with db.pool.acquire() as conn, conn.transaction():
                    user = await users.add_user(conn, name=name, role=role, token=token)
                    await audit.append(
                        conn,
                        kind="user_added",
                        actor="cli",
                        subject=f"user:{name}",
                        payload={"user_id": user.id, "name": name, "role": role},
                    )
            except Conflict:
                continue
            lines.append(f"{name.upper().replace('-', '_')}_TOKEN={token}  # role {role}\n")
    finally:
        await db.close()
    if lines:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.writelines(lines)
    print(f"demo users' API tokens: {path}", file=sys.stderr)
    return 0


def _policy_schema(path: Path) -> int:
    from gateway.domain.policy_input import input_schema_json

    path.write_bytes(input_schema_json())
    print(f"wrote {path}")
    return 0


def _policy_test(directory: Path) -> int:
    from gateway.policy import PolicyError, load_bundle, run_policy_tests

    try:
        bundle = load_bundle(directory)
        report = run_policy_tests(bundle)
    except PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for result in report.results:
        mark = "PASS" if result.passed else "FAIL"
        line = f"{mark} {result.package}.{result.name}"
        if result.error:
            line += f"  ({result.error})"
        print(line)
    print(f"{report.passed} passed, {report.failed} failed  (revision {bundle.revision})")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
