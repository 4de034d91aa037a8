"""The evidence bundle: one ``.tar.gz`` an auditor verifies offline with nothing else.

Layout (every name under one folder, so extracting it makes no mess)::

    audit-evidence/README.txt        what this is and the command that verifies it
    audit-evidence/audit.jsonl       events 1..N of the audit log, as stored (hashed form)
    audit-evidence/audit-key.pem     the Ed25519 public key that signs checkpoints
    audit-evidence/checkpoints/checkpoint-{size:012d}.json
                                     every signed checkpoint up to N; the last covers N
    audit-evidence/selection.json    only in a bundle made for a filter: the filter and
                                     the seq and hash of every event 1..N it matches

A bundle for a filter holds the whole chain 1..N all the same: the chain and the
checkpoints can only be verified whole. ``selection.json`` says which of those events the
filter picked; the verifier checks each of them is in the verified chain with that hash.

Building one signs a checkpoint of the chain as it is now and exports exactly the events
that checkpoint covers, so every event in the bundle is anchored. ``open_evidence`` reads
a bundle (the archive, or the folder it extracts to) without extracting it to disk.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import asyncpg
import msgspec

from gateway.audit.chain import format_time
from gateway.audit.checkpointer import Checkpointer
from gateway.audit.checkpoints import (
    Checkpoint,
    checkpoint_filename,
    decode_checkpoint,
    encode_checkpoint,
    key_id,
    public_key_from_pem,
    read_checkpoints,
)
from gateway.audit.export import export_stream
from gateway.audit.offline import ExportedEvent, read_export_lines
from gateway.store import checkpoints as checkpoint_store
from gateway.store.audit import ExportFilter
from gateway.store.audit_search import AuditQuery, matching_seqs

BUNDLE_DIR = "audit-evidence"
EXPORT_NAME = "audit.jsonl"
KEY_NAME = "audit-key.pem"
CHECKPOINT_DIR = "checkpoints"
README_NAME = "README.txt"
SELECTION_NAME = "selection.json"


class EvidenceError(Exception):
    """A bundle cannot be built or read; the message says why."""


class Selection(msgspec.Struct, frozen=True, kw_only=True):
    """The events of a bundle a filter picked: ``filter`` as the auditor set it (a customer
    as their pseudonymous subject ids, never the handle), ``events`` as [seq, hash]."""

    filter: dict[str, str | list[str]]
    events: list[tuple[int, str]]


class BundleInfo(msgspec.Struct, frozen=True, kw_only=True):
    events: int  # the bundle holds events 1..events
    checkpoints: int
    key_id: str
    made_at: str
    selected: int | None = None  # events the filter picked (a bundle for a filter)

    @property
    def filename(self) -> str:
        return f"audit-evidence-{self.events}.tar.gz"


class Evidence(msgspec.Struct, kw_only=True):
    """An opened bundle: iterate ``events`` before the ``open_evidence`` block ends."""

    events: Iterator[ExportedEvent]
    checkpoints: list[Checkpoint]
    public_pem: bytes
    selection: Selection | None = None


async def build_evidence(
    pool: asyncpg.Pool,
    checkpointer: Checkpointer,
    public_pem: bytes,
    dest: Path,
    *,
    selection: tuple[AuditQuery, dict[str, str | list[str]]] | None = None,
) -> BundleInfo:
    """Sign a checkpoint of the chain now, then write the bundle of events 1..its size.

    ``selection`` (a query and how to describe it) adds ``selection.json``: the events of
    the bundle that match it.
    """
    async with pool.acquire() as conn:
        await checkpointer.checkpoint(conn)
    with tempfile.TemporaryDirectory(prefix="audit-evidence-") as scratch:
        export = Path(scratch) / EXPORT_NAME
        async with (
            pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            latest = await checkpoint_store.latest_checkpoint(conn)
            if latest is None:
                raise EvidenceError("the audit log has no events yet: there is nothing to bundle")
            checkpoints = await checkpoint_store.list_checkpoints(conn, after=0, limit=latest.size)
            with export.open("wb") as out:
                async for chunk in export_stream(
                    conn, ExportFilter(), fmt="jsonl", through_seq=latest.size
                ):
                    out.write(chunk)
            picked = (
                Selection(
                    filter=selection[1],
                    events=[
                        item
                        async for batch in matching_seqs(
                            conn, selection[0], through_seq=latest.size
                        )
                        for item in batch
                    ],
                )
                if selection is not None
                else None
            )
        info = BundleInfo(
            events=latest.size,
            checkpoints=len(checkpoints),
            key_id=key_id(public_key_from_pem(public_pem, source="the gateway's public key")),
            made_at=format_time(datetime.now(UTC)),
            selected=len(picked.events) if picked is not None else None,
        )
        await asyncio.to_thread(_write_archive, dest, export, checkpoints, public_pem, info, picked)
    return info


def readme(info: BundleInfo) -> str:
    selected = (
        ""
        if info.selected is None
        else f"""
  selection.json   the filter this bundle was made for, and the {info.selected} event(s)
                   of 1..{info.events} it matches (seq and hash); the verifier checks
                   each is in the verified chain
"""
    )
    return f"""\
Audit evidence from the Engagement Gateway, made {info.made_at}

  audit.jsonl      events 1..{info.events} of the audit log, in the form the hashes cover
  checkpoints/     {info.checkpoints} signed checkpoint(s), the last covering all {info.events}
  audit-key.pem    the Ed25519 public key that signed them (key id {info.key_id})
{selected}
Verify it offline, from a checkout of the gateway (no database, no server needed):

  ./dev verify {info.filename}

or with the gateway's Python:

  python -m gateway audit verify --bundle {info.filename}

The verifier recomputes the hash chain and each checkpoint's Merkle root from the
events, checks every signature and that each checkpoint extends the one before, and
prints which checkpoint anchors which events. It exits 0 only when all of it holds.

The key in this bundle proves only that the bundle agrees with itself. Compare the key id
the verifier prints with the key your organisation keeps (GET /v1/audit/key), or verify
with your own copy: add --key YOUR-COPY.pem.
"""


def _write_archive(
    dest: Path,
    export: Path,
    checkpoints: list[Checkpoint],
    public_pem: bytes,
    info: BundleInfo,
    selection: Selection | None,
) -> None:
    mtime = datetime.now(UTC).timestamp()

    def member(name: str, size: int) -> tarfile.TarInfo:
        entry = tarfile.TarInfo(f"{BUNDLE_DIR}/{name}")
        entry.size, entry.mtime, entry.mode = size, mtime, 0o644
        return entry

    def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        tar.addfile(member(name, len(data)), io.BytesIO(data))

    with tarfile.open(dest, "w:gz") as tar:
        add_bytes(tar, README_NAME, readme(info).encode("utf-8"))
        add_bytes(tar, KEY_NAME, public_pem)
        for checkpoint in checkpoints:
            name = f"{CHECKPOINT_DIR}/{checkpoint_filename(checkpoint.size)}"
            add_bytes(tar, name, encode_checkpoint(checkpoint))
        if selection is not None:
            add_bytes(tar, SELECTION_NAME, msgspec.json.format(msgspec.json.encode(selection)))
        with export.open("rb") as handle:
            tar.addfile(member(EXPORT_NAME, export.stat().st_size), handle)


@contextmanager
def open_evidence(path: Path) -> Iterator[Evidence]:
    """The export, checkpoints and key of a bundle: a ``.tar.gz`` or its extracted folder.

    Raises EvidenceError for a path that is neither, or a bundle missing its export or key.
    """
    if path.is_dir():
        root = path / BUNDLE_DIR if (path / BUNDLE_DIR).is_dir() else path
        export, key = root / EXPORT_NAME, root / KEY_NAME
        if not export.is_file() or not key.is_file():
            raise EvidenceError(
                f"{path} is not an evidence bundle: it needs {EXPORT_NAME} and {KEY_NAME}"
            )
        folder = root / CHECKPOINT_DIR
        selection = root / SELECTION_NAME
        with export.open("rb") as handle:
            yield Evidence(
                events=read_export_lines(handle),
                checkpoints=read_checkpoints(folder) if folder.is_dir() else [],
                public_pem=key.read_bytes(),
                selection=_selection(selection.read_bytes()) if selection.is_file() else None,
            )
        return
    if not path.is_file() or not tarfile.is_tarfile(path):
        raise EvidenceError(f"{path} is not an evidence bundle (a .tar.gz or its folder)")
    with tarfile.open(path, "r:*") as tar:
        yield _from_archive(path, tar)


def _from_archive(path: Path, tar: tarfile.TarFile) -> Evidence:
    files: dict[str, tarfile.TarInfo] = {}
    for entry in tar.getmembers():
        if not entry.isfile():
            continue
        parts = PurePosixPath(entry.name).parts
        inner = (
            PurePosixPath(*parts[1:])
            if parts and parts[0] == BUNDLE_DIR
            else PurePosixPath(entry.name)
        )
        files[str(inner)] = entry

    def read(name: str) -> bytes:
        handle = tar.extractfile(files[name])
        assert handle is not None
        return handle.read()

    if EXPORT_NAME not in files or KEY_NAME not in files:
        raise EvidenceError(
            f"{path} is not an evidence bundle: it needs {EXPORT_NAME} and {KEY_NAME}"
        )
    checkpoints = sorted(
        (
            decode_checkpoint(read(name))
            for name in files
            if PurePosixPath(name).parent == PurePosixPath(CHECKPOINT_DIR)
            and PurePosixPath(name).name.startswith("checkpoint-")
        ),
        key=lambda checkpoint: checkpoint.size,
    )
    handle = tar.extractfile(files[EXPORT_NAME])
    assert handle is not None
    return Evidence(
        events=read_export_lines(handle),
        checkpoints=checkpoints,
        public_pem=read(KEY_NAME),
        selection=_selection(read(SELECTION_NAME)) if SELECTION_NAME in files else None,
    )


def _selection(data: bytes) -> Selection:
    try:
        return msgspec.json.decode(data, type=Selection)
    except msgspec.DecodeError as error:
        raise EvidenceError(f"{SELECTION_NAME} is not a selection of events: {error}") from error
