"""``python -m gateway audit ...``: verify, export and checkpoint the audit log.

audit verify                                  recompute the stored hash chain
audit verify --bundle B [--key K]             verify an evidence bundle offline
audit verify --export F --checkpoints D --key K   verify an export offline
audit export --out F [--format jsonl|csv|bundle]  write the whole audit log, or a bundle
audit checkpoint                              sign a checkpoint of the chain now

Offline verification exits 0 only when every event is anchored by a signed checkpoint
(or --allow-unanchored accepts the rest), 1 when a problem is found, 2 when the inputs
cannot be read.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from gateway.settings import Settings


def add_commands(subparsers: Any) -> None:
    """Add ``audit`` and its actions to the CLI's top-level subparsers."""
    audit = subparsers.add_parser("audit", help="audit tools").add_subparsers(
        dest="action", required=True
    )
    verify = audit.add_parser(
        "verify",
        help="recompute the hash chain (exit 1 if broken); with --bundle or --export, verify "
        "offline against signed checkpoints, no database needed (exit 1 on a problem or an "
        "unanchored event, 2 on unreadable input)",
    )
    verify.add_argument(
        "--export",
        type=Path,
        help="a JSONL export of the whole log, or a bundle (default: none, verify the database)",
    )
    verify.add_argument(
        "--checkpoints",
        type=Path,
        help="folder of checkpoint-*.json files (required with --export)",
    )
    verify.add_argument(
        "--key",
        type=Path,
        help="the public key (PEM) from /v1/audit/key (required with --export; with "
        "--bundle, default: the bundle's own key)",
    )
    verify.add_argument(
        "--bundle",
        type=Path,
        help="an evidence bundle (.tar.gz from `audit export --format bundle` or "
        "GET /v1/audit/bundle, or the folder it extracts to); uses its export, checkpoints "
        "and key (default: none)",
    )
    verify.add_argument(
        "--allow-unanchored",
        action="store_true",
        help="accept events no signed checkpoint covers, reporting how many (default: off, "
        "they fail the verification)",
    )
    export = audit.add_parser(
        "export",
        help="write the whole audit log as JSONL or CSV, or an evidence bundle (.tar.gz: "
        "the export, its checkpoints, the public key and a README)",
    )
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    export.add_argument(
        "--format",
        choices=("jsonl", "csv", "bundle"),
        default="jsonl",
        help="default: jsonl; bundle signs a checkpoint now and bundles events up to it",
    )
    audit.add_parser("checkpoint", help="sign a checkpoint of the chain now")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one ``audit`` action; the exit code."""
    if args.action == "verify" and (args.bundle or (args.export and _is_bundle(args.export))):
        return _verify_bundle(
            args.bundle or args.export, args.key, allow_unanchored=args.allow_unanchored
        )
    if args.action == "verify" and args.export:
        return _verify_offline(
            args.export, args.checkpoints, args.key, allow_unanchored=args.allow_unanchored
        )
    if args.action == "export" and args.format == "bundle":
        return asyncio.run(_export_bundle(settings, args.out))
    if args.action == "export":
        return asyncio.run(_export(settings, args.out, args.format))
    if args.action == "checkpoint":
        return asyncio.run(_checkpoint(settings))
    return asyncio.run(_verify(settings))


async def _verify(settings: Settings) -> int:
    from gateway.audit.verify import verify_stored_chain
    from gateway.store.database import Database

    db = await Database.open(settings)
    try:
        async with db.pool.acquire() as conn:
            result = await verify_stored_chain(conn)
    finally:
        await db.close()
    if result.ok:
        print(f"ok: {result.events} events, chain intact (head {result.head_hash})")
        return 0
    print(f"BROKEN at event {result.first_bad_seq}: {result.detail}", file=sys.stderr)
    return 1


def _verify_offline(
    export: Path, checkpoints: Path | None, key: Path | None, *, allow_unanchored: bool
) -> int:
    from gateway.audit.checkpoints import CheckpointError, load_public_key, read_checkpoints
    from gateway.audit.offline import read_export_jsonl, verify_export

    if checkpoints is None or key is None:
        print("error: --export needs --checkpoints DIR and --key PUBKEY", file=sys.stderr)
        return 2
    if not checkpoints.is_dir():
        print(f"error: checkpoint folder {checkpoints} does not exist", file=sys.stderr)
        return 2
    try:
        public_key = load_public_key(key)
        signed = read_checkpoints(checkpoints)
        report = verify_export(
            read_export_jsonl(export), signed, public_key, allow_unanchored=allow_unanchored
        )
    except (CheckpointError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in report.problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print("\n".join(report.summary()))
    print(f"  {report.checkpoints_verified} of {len(signed)} checkpoint files verified")
    return 0 if report.ok else 1


def _is_bundle(path: Path) -> bool:
    import tarfile

    return path.is_dir() or (path.is_file() and tarfile.is_tarfile(path))


def _verify_bundle(bundle: Path, key: Path | None, *, allow_unanchored: bool) -> int:
    import tarfile

    from gateway.audit.bundle import EvidenceError, open_evidence
    from gateway.audit.checkpoints import (
        CheckpointError,
        key_id,
        load_public_key,
        public_key_from_pem,
    )
    from gateway.audit.offline import verify_export

    try:
        with open_evidence(bundle) as evidence:
            if key is not None:
                public_key = load_public_key(key)
                source = f"from {key}"
            else:
                public_key = public_key_from_pem(evidence.public_pem, source=f"{bundle}'s key")
                source = "from the bundle: compare it with the key your organisation keeps"
            report = verify_export(
                evidence.events,
                evidence.checkpoints,
                public_key,
                allow_unanchored=allow_unanchored,
                selection=evidence.selection.events if evidence.selection else None,
            )
            signed = len(evidence.checkpoints)
    except (EvidenceError, CheckpointError, OSError, tarfile.TarError, EOFError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in report.problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print("\n".join(report.summary()))
    print(f"  {report.checkpoints_verified} of {signed} checkpoint files verified")
    print(f"  key {key_id(public_key)} ({source})")
    return 0 if report.ok else 1


async def _export_bundle(settings: Settings, out: Path) -> int:
    from gateway.audit.bundle import EvidenceError, build_evidence
    from gateway.runtime import Runtime

    runtime = await Runtime.start(settings)
    try:
        if runtime.checkpointer is None or runtime.audit_public_pem is None:
            print("error: checkpoint signing is not configured", file=sys.stderr)
            return 1
        info = await build_evidence(
            runtime.db.pool, runtime.checkpointer, runtime.audit_public_pem, out
        )
    except EvidenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        await runtime.close()
    print(
        f"wrote {out}: events 1..{info.events}, {info.checkpoints} checkpoint(s), "
        f"key {info.key_id}; verify with: ./dev verify {out}"
    )
    return 0


async def _export(settings: Settings, out: Path, fmt: str) -> int:
    from gateway.audit.export import export_stream
    from gateway.store.audit import ExportFilter
    from gateway.store.database import Database

    db = await Database.open(settings)
    size = 0
    try:
        async with (
            db.pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            with out.open("wb") as handle:
                async for chunk in export_stream(conn, ExportFilter(), fmt=fmt):
                    handle.write(chunk)
                    size += len(chunk)
    finally:
        await db.close()
    print(f"wrote {out} ({size} bytes)")
    return 0


async def _checkpoint(settings: Settings) -> int:
    from gateway.runtime import Runtime

    runtime = await Runtime.start(settings)
    try:
        assert runtime.checkpointer is not None
        async with runtime.db.pool.acquire() as conn:
            checkpoint = await runtime.checkpointer.checkpoint(conn)
    finally:
        await runtime.close()
    if checkpoint is None:
        print("nothing new to checkpoint")
    else:
        print(f"checkpoint {checkpoint.size}: root {checkpoint.root_hash}")
    return 0
