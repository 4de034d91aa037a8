"""Sealing payloads for a customer before they are appended, opening them for readers,
and erasing a customer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from gateway.audit.personal import open_payload, seal
from gateway.domain.records import AuditEvent
from gateway.store import audit
from gateway.store import subjects as store
from gateway.store.connection import Conn


async def sealed_for(
    conn: Conn, payload: dict[str, Any], *, channel: str, handle: str
) -> dict[str, Any]:
    subject_id, key = await store.subject_key(conn, channel=channel, handle=handle)
    return seal(payload, subject_id=subject_id, key=key)


async def customer_subject_id(conn: Conn, *, channel: str, handle: str) -> str:
    """The customer's pseudonymous subject id, for an event about them that holds no
    personal field (a review, a delivery); for an erased customer's pseudonym
    (``erased:<subject id>``) that id, without making a new subject."""
    if handle.startswith("erased:"):
        return handle.removeprefix("erased:")
    subject_id, _key = await store.subject_key(conn, channel=channel, handle=handle)
    return subject_id


async def opened(conn: Conn, events: list[AuditEvent]) -> list[AuditEvent]:
    """Events with personal fields decrypted where the customer's key still exists."""
    ids = sorted(
        {e.payload["subject_id"] for e in events if isinstance(e.payload.get("subject_id"), str)}
    )
    if not ids:
        return events
    keys = await store.keys_for(conn, ids)
    return [
        msgspec.structs.replace(e, payload=open_payload(e.payload, keys))
        if "subject_id" in e.payload
        else e
        for e in events
    ]


class Erasure(msgspec.Struct, frozen=True, kw_only=True):
    subject_id: str
    channel: str
    mentions_scrubbed: int
    proposals_scrubbed: int
    audit_seq: int


async def erase_subject(conn: Conn, *, channel: str, handle: str, by: str) -> Erasure:
    """Destroy the customer's key and content; the erasure is itself an event."""
    now = datetime.now(UTC)
    async with conn.transaction():
        subject_id, counts = await store.erase(conn, channel=channel, handle=handle, by=by, now=now)
        event = await audit.append(
            conn,
            kind="subject_erased",
            actor=by,
            subject=f"subject:{subject_id}",
            payload={"subject_id": subject_id, "channel": channel, **counts},
        )
    return Erasure(
        subject_id=subject_id,
        channel=channel,
        mentions_scrubbed=counts["mentions"],
        proposals_scrubbed=counts["proposals"],
        audit_seq=event.seq,
    )
