"""The CLI: serve, worker, migrate, users, policy, sources, review, opt-outs, subjects, audit.

    python -m gateway serve [--host H] [--port P] [--workers N] [--no-worker]
    python -m gateway worker
    python -m gateway migrate
    python -m gateway users add NAME --role ROLE | demo | list | disable NAME | rotate NAME
    python -m gateway policy test [--dir DIR] | schema | list | draft ... | activate ... | ...
    python -m gateway sources add NAME --kind KIND ... | list | show | enable | disable | remove
    python -m gateway review approve|reject ID | opt-outs add|remove | subjects erase
    python -m gateway audit verify | export | checkpoint

Commands that act on behalf of a person (policy draft, activate, rollback, shadow,
confirm, withdraw; sources add, enable, disable, remove; review; opt-outs; subjects erase)
need that person's API token:
``--token TOKEN`` or ``GATEWAY_TOKEN``; the same role rules as the API apply. Operator
commands (serve, worker, migrate, users, policy test and schema, audit) need none.

``DATABASE_URL`` selects an external PostgreSQL; without it the embedded one in
``GATEWAY_DATA_DIR`` (default ``.data``) is used.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

import msgspec

from gateway.logging import configure_logging
from gateway.settings import Settings, SettingsError, cli_token, demo_enabled, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gateway",
        description=__doc__.split("\n")[0],
        epilog=_ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the API (and, unless --no-worker, the worker)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="API processes sharing the port (1); the release worker, source polling, "
        "retention and checkpoints still run once, in whichever process holds their lease",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not release replies, poll sources or sign checkpoints in this process "
        "(default: do; run `worker` elsewhere)",
    )
    sub.add_parser("worker", help="run the release worker, source polling and checkpoints only")
    sub.add_parser("migrate", help="apply pending schema migrations and exit")
    from gateway.cli_users import add_commands as add_user_commands

    add_user_commands(sub)
    policy = sub.add_parser(
        "policy", help="policy tools and the lifecycle (draft, activate, rollback, shadow)"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    ptest = policy.add_parser("test", help="run every test_ rule of a policy bundle folder")
    ptest.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="bundle folder (default: GATEWAY_POLICY_DIR, else policies/)",
    )
    schema = policy.add_parser("schema", help="write the JSON Schemas of the policy input and data")
    schema.add_argument(
        "--out",
        type=Path,
        default=None,
        help="file to write (default: input.schema.json in GATEWAY_POLICY_DIR, else policies/)",
    )
    from gateway.cli_policy import add_commands

    add_commands(policy)
    from gateway.cli_sources import add_commands as add_source_commands

    add_source_commands(sub)
    from gateway.cli_people import add_commands as add_people_commands

    add_people_commands(sub)
    from gateway.cli_audit import add_commands as add_audit_commands

    add_audit_commands(sub)
    return parser


_ENVIRONMENT = """\
environment:
  DATABASE_URL         PostgreSQL to use (default: an embedded one in GATEWAY_DATA_DIR)
  GATEWAY_DATA_DIR     data folder: embedded database, keys, checkpoints (default: .data)
  GATEWAY_POLICY_DIR   the policy bundle installed into a new database (default: policies)
  GATEWAY_TOKEN        your API token, for commands that act on behalf of a person
                       (same as --token; see each command's --help)
  (every other setting: the table in README.md)
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from gateway.cli_auth import TOKEN_DEST, acts_as_person

    if acts_as_person(args) and not getattr(args, TOKEN_DEST):
        setattr(args, TOKEN_DEST, cli_token(os.environ))
    configure_logging(json=settings.log_json, level=settings.log_level)
    from gateway.store.errors import StoreError

    try:
        if args.command == "serve":
            if args.workers > 1:
                return _serve_workers(
                    settings, args.host, args.port, args.workers, worker=not args.no_worker
                )
            return _serve(settings, args.host, args.port, worker=not args.no_worker)
        if args.command == "worker":
            return _run_fast(_worker(settings))
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "users":
            from gateway.cli_users import run as run_users

            return run_users(args, settings)
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
        if args.command in ("review", "opt-outs", "subjects"):
            from gateway.cli_people import run as run_people

            return run_people(args, settings)
        if args.command == "audit":
            from gateway.cli_audit import run as run_audit

            return run_audit(args, settings)
    except (StoreError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 2


def _serve(settings: Settings, host: str, port: int, *, worker: bool) -> int:
    import uvicorn

    from gateway.app import create_app

    _announce(settings, "serve")
    app = create_app(settings, worker=worker)
    # The modules and the app live as long as the process: moved out of the collector's
    # sight, they are not walked again by every full collection a large request triggers
    # (about 10 % of ingest's CPU, docs/performance.md).
    gc.collect()
    gc.freeze()
    print(f"Engagement Gateway on http://{host}:{port}  (API docs: /schema)", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    return 0


def _serve_workers(settings: Settings, host: str, port: int, workers: int, *, worker: bool) -> int:
    """N uvicorn worker processes on one port. This process prepares what they share once
    (the embedded database started and kept up, migrations, the first policy, keys), then
    hands them the database by environment: they read their settings from it."""
    import uvicorn

    from gateway.store.database import resolve_dsn

    _announce(settings, "serve")
    dsn, server = resolve_dsn(settings)
    try:
        prepared = msgspec.structs.replace(settings, database_url=dsn, demo=demo_enabled(settings))
        asyncio.run(_prepare_shared(prepared))
        os.environ["DATABASE_URL"] = dsn
        os.environ["GATEWAY_DEMO"] = "true" if prepared.demo else "false"
        factory = (
            "gateway.app:app_from_environment" if worker else "gateway.app:api_from_environment"
        )
        print(
            f"Engagement Gateway on http://{host}:{port}  ({workers} processes; API docs: /schema)",
            file=sys.stderr,
        )
        uvicorn.run(
            factory,
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
        )
    finally:
        if server is not None:
            server.cleanup()
    return 0


async def _prepare_shared(settings: Settings) -> None:
    from gateway.runtime import Runtime

    runtime = await Runtime.start(settings)
    await runtime.close()


def _run_fast(main: Coroutine[Any, Any, int]) -> int:
    """Run a long-lived process's main coroutine on uvloop (as uvicorn runs ``serve``):
    asyncpg's round trips and the publishers' HTTP cost less CPU there; asyncio's own
    loop where uvloop is not installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


async def _worker(settings: Settings) -> int:
    from gateway.runtime import Runtime

    _announce(settings, "worker")
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
    if demo_enabled(settings) and settings.demo_source:
        runtime.start_demo_source()
    await stop.wait()
    await runtime.close()
    return 0


def _announce(settings: Settings, command: str) -> None:
    """Say loudly which database and which mode this process runs in: a warning when the
    demo source and publisher are on, since they write fictional mentions to the audit log."""
    import structlog

    from gateway.settings import database_label

    log = structlog.get_logger("gateway")
    fields = {"command": command, "database": database_label(settings)}
    if demo_enabled(settings):
        log.warning(
            "demo_mode_started",
            mode="demo",
            demo_source=settings.demo_source,
            why="GATEWAY_DEMO=true" if settings.demo else "embedded database",
            consequence="fictional mentions on channel demo enter the permanent audit log",
            **fields,
        )
    else:
        log.info("production_mode_started", mode="production", **fields)


async def _migrate(settings: Settings) -> int:
    from gateway.store.database import migrate_dsn, resolve_dsn

    dsn, _server = resolve_dsn(settings)
    applied = await migrate_dsn(dsn)
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
    return 0


def _policy_schema(path: Path) -> int:
    from gateway.domain.policy_data import data_schema_json
    from gateway.domain.policy_input import input_schema_json

    path.write_bytes(input_schema_json())
    print(f"wrote {path}")
    data_path = path.parent / "data.schema.json"  # the tunables' schema, beside it
    data_path.write_bytes(data_schema_json())
    print(f"wrote {data_path}")
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
            where = f"{result.file}:{result.line}: " if result.file else ""
            line += f"  ({where}{result.error})"
        print(line)
        for output in result.output if not result.passed else []:
            print(f"    print: {output}")
    print(f"{report.passed} passed, {report.failed} failed  (revision {bundle.revision})")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
