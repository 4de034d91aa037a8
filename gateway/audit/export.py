"""Exporting the audit log as JSONL or CSV, streamed in constant memory.

Personal fields are exported as stored (sealed with the customer's key: the form the
hashes cover, which the offline verifier needs), or with ``decrypt`` opened where the key
still exists (``[erased]`` otherwise) for reading.

A JSONL export of the whole log (no filter) is what ``python -m gateway audit verify
--export`` checks offline; a filtered export is for reading, its chain has gaps.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import msgspec

from gateway.audit.subjects import opened
from gateway.domain.records import AuditEvent
from gateway.store import audit as store
from gateway.store.connection import Conn

CSV_COLUMNS = [
    "seq",
    "occurred_at",
    "kind",
    "actor",
    "subject",
    "policy_revision",
    "outcome",
    "reasons",
    "prev_hash",
    "hash",
    "payload",
]

_encoder = msgspec.json.Encoder()


def jsonl_line(event: AuditEvent) -> bytes:
    return _encoder.encode(event) + b"\n"


def csv_row(event: AuditEvent) -> list[str]:
    decision = event.payload.get("decision") if isinstance(event.payload, dict) else None
    outcome = decision.get("outcome", "") if isinstance(decision, dict) else ""
    reasons = (
        " ".join(str(r.get("code", "")) for r in decision.get("reasons", []))
        if isinstance(decision, dict)
        else ""
    )
    return [
        str(event.seq),
        event.occurred_at.isoformat(),
        event.kind,
        event.actor,
        event.subject,
        event.policy_revision or "",
        outcome,
        reasons,
        event.prev_hash,
        event.hash,
        _encoder.encode(event.payload).decode("utf-8"),
    ]


async def export_stream(
    conn: Conn,
    where: store.ExportFilter,
    *,
    fmt: str,
    decrypt: bool = False,
    through_seq: int | None = None,
) -> AsyncIterator[bytes]:
    """Chunks of the export; the caller holds ``conn`` (in one snapshot) until it ends.

    ``through_seq`` stops after that event (an evidence bundle ends at its checkpoint).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if fmt == "csv":
        writer.writerow(CSV_COLUMNS)
    chunk: list[bytes] = []
    size = 0
    pending: list[AuditEvent] = []

    async def lines(events: list[AuditEvent]) -> list[bytes]:
        out: list[bytes] = []
        for event in await opened(conn, events) if decrypt else events:
            if fmt == "csv":
                writer.writerow(csv_row(event))
                out.append(buffer.getvalue().encode("utf-8"))
                buffer.seek(0)
                buffer.truncate()
            else:
                out.append(jsonl_line(event))
        return out

    async for event in store.iterate_filtered(conn, where):
        if through_seq is not None and event.seq > through_seq:
            break
        pending.append(event)
        if len(pending) < 500:
            continue
        for line in await lines(pending):
            chunk.append(line)
            size += len(line)
        pending = []
        if size >= 64 * 1024:
            yield b"".join(chunk)
            chunk, size = [], 0
    chunk.extend(await lines(pending))
    if fmt == "csv" and not chunk and buffer.getvalue():
        chunk.append(buffer.getvalue().encode("utf-8"))
    if chunk:
        yield b"".join(chunk)
