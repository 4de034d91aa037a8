"""``python -m gateway review|opt-outs|subjects ...``: compliance work from a terminal.

    review approve ID [--note TEXT]     approve a reply the policy held for review
    review reject ID [--note TEXT]      reject it
    opt-outs add --channel C --handle H [--reason TEXT]
    opt-outs remove ID
    subjects erase --channel C --handle H

Each acts as the compliance officer whose API token it gets (``--token TOKEN`` or
``GATEWAY_TOKEN``) and is refused without one, exactly as the matching API route would
refuse it (role compliance; nobody approves a reply they proposed). The same services as
the API do the work, so the audit events are the same, under that officer's name.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import msgspec

from gateway.cli_auth import TOKEN_DEST, acting_user, add_token_option
from gateway.domain.access import AccessError
from gateway.domain.identity import InvalidIdentity
from gateway.pipeline.errors import InvalidInput, PipelineError, with_hint
from gateway.settings import Settings
from gateway.store.errors import StoreError

OFFICER = "compliance"
GROUPS = ("review", "opt-outs", "subjects")


def add_commands(subparsers: Any) -> None:
    """Add ``review``, ``opt-outs`` and ``subjects`` to the CLI's top-level subparsers."""
    review = subparsers.add_parser(
        "review", help="approve or reject replies held for review (compliance token)"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("approve", "approve a pending_review reply and queue its release (not your own)"),
        ("reject", "reject a pending_review reply"),
    ):
        cmd = review.add_parser(action, help=text)
        cmd.add_argument("proposal", type=int, help="the proposal's id")
        cmd.add_argument("--note", default="", help="why, for the audit log (default: empty)")
        add_token_option(cmd, roles=OFFICER)
    opt_outs = subparsers.add_parser(
        "opt-outs", help="register or lift opt-outs (compliance token)"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    add = opt_outs.add_parser("add", help="register an opt-out: no reply reaches this customer")
    add.add_argument("--channel", required=True, help="the customer's channel, e.g. mastodon")
    add.add_argument("--handle", required=True, help="the customer's handle on that channel")
    add.add_argument("--reason", default="", help="why, for the audit log (default: empty)")
    add_token_option(add, roles=OFFICER)
    remove = opt_outs.add_parser("remove", help="lift an opt-out (kept in history, audited)")
    remove.add_argument("opt_out", type=int, help="the opt-out's id")
    remove.add_argument("--reason", default="", help="why it is lifted, kept in its history")
    add_token_option(remove, roles=OFFICER)
    subjects = subparsers.add_parser(
        "subjects", help="erase a customer's personal data (compliance token)"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    erase = subjects.add_parser(
        "erase", help="destroy a customer's key and content; the audit chain stays verifiable"
    )
    erase.add_argument("--channel", required=True, help="the customer's channel")
    erase.add_argument("--handle", required=True, help="the customer's handle on that channel")
    add_token_option(erase, roles=OFFICER)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the action in ``args``; the exit status."""
    try:
        return asyncio.run(_run(args, settings))
    except AccessError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except (PipelineError, StoreError, InvalidIdentity) as exc:
        print(f"error: {with_hint(exc, 'cli')}", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "review":
        return await _review(args, settings)
    from gateway.store.database import Database

    db = await Database.open(settings)
    try:
        user = await acting_user(db.pool, getattr(args, TOKEN_DEST), OFFICER)
        result: Any
        if args.command == "opt-outs" and args.action == "add":
            from gateway.pipeline.consent import Consent

            result, _created = await Consent(db.pool).add(
                channel=args.channel, handle=args.handle, reason=args.reason, user=user
            )
        elif args.command == "opt-outs":
            from gateway.pipeline.consent import Consent

            result = await Consent(db.pool).remove(args.opt_out, user=user, reason=args.reason)
        else:
            from gateway.audit.subjects import erase_subject
            from gateway.audit.suppression import SuppressionKeys
            from gateway.secrets import Secrets

            if not args.channel.strip() or not args.handle.strip():
                raise InvalidInput("--channel and --handle must not be empty")
            async with db.pool.acquire() as conn:
                result = await erase_subject(
                    conn,
                    channel=args.channel.strip(),
                    handle=args.handle,
                    by=user.name,
                    keys=SuppressionKeys(Secrets(settings)),
                )
    finally:
        await db.close()
    _print(result)
    return 0


async def _review(args: argparse.Namespace, settings: Settings) -> int:
    """Approval re-checks the reply against the active policy, so it needs the runtime."""
    from gateway.runtime import Runtime

    runtime = await Runtime.start(settings)
    try:
        user = await acting_user(runtime.db.pool, getattr(args, TOKEN_DEST), OFFICER)
        review = runtime.reviewer
        act = review.approve if args.action == "approve" else review.reject
        result = await act(args.proposal, user=user, note=args.note)
    finally:
        await runtime.close()
    _print(result)
    return 0


def _print(result: Any) -> None:
    print(json.dumps(msgspec.to_builtins(result), indent=2, ensure_ascii=False, default=str))
