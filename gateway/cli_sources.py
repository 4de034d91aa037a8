"""``python -m gateway sources ...``: configure sources from a terminal, on the database.

    sources add NAME --kind rss --url URL [--interval 300] [--channel rss]
    sources add NAME --kind mastodon --base-url URL --access-token SECRET
                     [--brand-account-id ID] [--hashtag TAG] [--query Q] [--no-publish]
    sources add NAME --kind bluesky [--service URL] --identifier HANDLE --app-password SECRET
                     [--query Q] [--no-publish]
    sources add NAME --kind webhook --secret SECRET [--reply-url URL]
    sources list | show NAME | enable NAME | disable NAME | remove NAME

A SECRET is ``env:VARIABLE`` (only the reference is stored; the gateway reads the variable
when it uses the secret), ``-`` (read one line from standard input), or the value itself
(stored encrypted; it is then visible in the shell history and process list).

Changes (add, enable, disable, remove) act as the admin whose API token is given with
``--token TOKEN`` or ``GATEWAY_TOKEN``, exactly as ``/v1/sources`` would (role admin), and
are audited under that admin's name. ``list`` and ``show`` are operator commands.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from gateway.cli_auth import TOKEN_DEST, acting_user, add_token_option
from gateway.domain.access import AccessError
from gateway.domain.source_errors import SourceError
from gateway.domain.sources import SOURCE_KINDS, SourceRecord
from gateway.pipeline.errors import PipelineError
from gateway.secrets import Secrets
from gateway.settings import Settings
from gateway.sources.service import SourcePatch, SourceService, SourceSpec
from gateway.store.errors import StoreError

ADMIN = "admin"
SECRET = "SECRET: env:VARIABLE, - (one line from stdin) or the value"


def add_commands(subparsers: Any) -> None:
    """Add ``sources`` and its actions to the CLI's top-level subparsers."""
    sources = subparsers.add_parser(
        "sources", help="configure sources (feeds, accounts, webhooks); changes need an admin token"
    )
    actions = sources.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="configure a source (admin)")
    add.add_argument("name", help="the source's unique name")
    add.add_argument("--kind", required=True, choices=SOURCE_KINDS, help="what it reads")
    add.add_argument("--channel", help="channel of its mentions (default: the kind)")
    add.add_argument(
        "--interval",
        type=float,
        help="seconds between polls (default: the kind's, at least GATEWAY_SOURCE_MIN_INTERVAL_S)",
    )
    add.add_argument("--disabled", action="store_true", help="add it without polling it yet")
    add.add_argument(
        "--allow-private",
        action="store_true",
        help="let it reach private, loopback and link-local addresses (default: refused)",
    )
    add.add_argument("--url", help="rss: the feed's URL")
    add.add_argument("--base-url", help="mastodon: the instance, e.g. https://mastodon.social")
    add.add_argument("--access-token", help=f"mastodon: the account's access token ({SECRET})")
    add.add_argument("--brand-account-id", help="mastodon: the brand account's id")
    add.add_argument("--hashtag", help="mastodon: also read this hashtag (default: none)")
    add.add_argument("--query", help="mastodon, bluesky: also read this search (default: none)")
    add.add_argument(
        "--max-visibility", help="mastodon: widest reply visibility (default: unlisted)"
    )
    add.add_argument("--service", help="bluesky: the PDS (default: https://bsky.social)")
    add.add_argument("--identifier", help="bluesky: the account's handle")
    add.add_argument("--app-password", help=f"bluesky: an app password ({SECRET})")
    add.add_argument("--secret", help=f"webhook: the HMAC secret senders sign with ({SECRET})")
    add.add_argument(
        "--reply-url", help="webhook: deliver this channel's replies here (default: none)"
    )
    add.add_argument(
        "--no-publish", action="store_true", help="mastodon, bluesky: read only, do not reply"
    )
    add_token_option(add, roles=ADMIN)
    lst = actions.add_parser("list", help="configured sources and their health (no token)")
    lst.add_argument("--json", action="store_true", help="one JSON document (default: a table)")
    show = actions.add_parser("show", help="one source as JSON (no token)")
    show.add_argument("name", help="the source's name")
    for action, text in (
        ("enable", "poll it again (admin)"),
        ("disable", "stop polling it (admin)"),
        ("remove", "remove it and its cursor (admin)"),
    ):
        cmd = actions.add_parser(action, help=text)
        cmd.add_argument("name", help="the source's name")
        add_token_option(cmd, roles=ADMIN)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the ``sources`` action in ``args``; the exit status."""
    try:
        spec = _spec(args) if args.action == "add" else None
        return asyncio.run(_run(args, settings, spec))
    except AccessError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except (SourceError, StoreError, PipelineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _secret(value: str | None) -> str | None:
    if value == "-":
        line = sys.stdin.readline().rstrip("\r\n")
        return line or None
    if value is not None and not value.startswith("env:"):
        print(
            "note: the secret is stored encrypted; env:VARIABLE keeps it out of the shell "
            "history and the database",
            file=sys.stderr,
        )
    return value


def _spec(args: argparse.Namespace) -> SourceSpec:
    options = {
        "url": args.url,
        "base_url": args.base_url,
        "brand_account_id": args.brand_account_id,
        "hashtag": args.hashtag,
        "query": args.query,
        "max_visibility": args.max_visibility,
        "service": args.service,
        "identifier": args.identifier,
        "reply_url": args.reply_url,
    }
    config: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
    if args.no_publish:
        config["publish"] = False
    secrets = [v for v in (args.access_token, args.app_password, args.secret) if v is not None]
    if len(secrets) > 1:
        raise SourceError("give one secret: --access-token, --app-password or --secret")
    return SourceSpec(
        name=args.name,
        kind=args.kind,
        config=config,
        channel=args.channel,
        secret=_secret(secrets[0]) if secrets else None,
        interval_s=args.interval,
        enabled=not args.disabled,
        allow_private=args.allow_private,
    )


@asynccontextmanager
async def _service(settings: Settings, args: argparse.Namespace) -> AsyncIterator[SourceService]:
    from gateway.store.database import Database

    db = await Database.open(settings)
    try:
        if TOKEN_DEST in vars(args):  # a change: made by whom, and may they?
            admin = await acting_user(db.pool, getattr(args, TOKEN_DEST), ADMIN)
            args.actor = admin.name
        yield SourceService(db.pool, Secrets(settings), settings)
    finally:
        await db.close()


async def _run(args: argparse.Namespace, settings: Settings, spec: SourceSpec | None) -> int:
    async with _service(settings, args) as service:
        if spec is not None:
            record = await service.add(spec, actor=args.actor)
            print(f"added {_line(record)}")
            if record.kind == "webhook":
                print(f"deliveries go to POST /v1/webhooks/{record.name}")
        elif args.action == "list":
            _list(await service.list(), as_json=args.json)
        elif args.action == "show":
            _print(await service.get(args.name))
        elif args.action in ("enable", "disable"):
            patch = SourcePatch(enabled=args.action == "enable")
            print(
                f"{args.action}d {_line(await service.update(args.name, patch, actor=args.actor))}"
            )
        elif args.action == "remove":
            print(f"removed {_line(await service.remove(args.name, actor=args.actor))}")
    return 0


def _line(record: SourceRecord) -> str:
    state = "enabled" if record.enabled else "disabled"
    secret = f", secret {record.secret}" if record.secret else ""
    return (
        f"{record.name} ({record.kind} on channel {record.channel}, every "
        f"{record.interval_s:g} s, {state}{secret})"
    )


def _list(records: list[SourceRecord], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(msgspec.to_builtins(records), indent=2, ensure_ascii=False))
        return
    for r in records:
        h = r.health
        last = f"ok {h.last_success_at:%Y-%m-%d %H:%M:%S}" if h.last_success_at else "never ok"
        failing = (
            f", {h.consecutive_failures} failing: {h.last_error}" if h.consecutive_failures else ""
        )
        print(
            f"{r.name:20} {r.kind:8} {r.channel:12} {'on ' if r.enabled else 'off'} "
            f"{r.interval_s:>6g}s  {last}, {h.items_total} items{failing}"
        )
    if not records:
        print("no sources configured; add one with: python -m gateway sources add NAME --kind ...")


def _print(record: SourceRecord) -> None:
    print(json.dumps(msgspec.to_builtins(record), indent=2, ensure_ascii=False))
