"""Sealing payloads for a customer before they are appended, opening them for readers,
and erasing a customer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from gateway.audit.personal import open_payload, seal
from gateway.audit.suppression import SuppressionKeys
from gateway.domain.records import AuditEvent, Proposal
from gateway.store import audit, identities, suppressions
from gateway.store import subjects as store
from gateway.store.connection import Conn
from gateway.store.retry import retrying


async def sealed_for(
    conn: Conn, payload: dict[str, Any], *, channel: str, customer: str
) -> dict[str, Any]:
    """``payload`` sealed under the key of ``customer`` (a canonical identity)."""
    subject_id, key = await store.subject_key(conn, channel=channel, customer=customer)
    return seal(payload, subject_id=subject_id, key=key)


async def sealed_for_each(
    conn: Conn, payloads: list[tuple[dict[str, Any], str, str]]
) -> list[dict[str, Any]]:
    """Each ``(payload, channel, customer)`` sealed under its customer's key; the keys of
    all of them are read (or created) in one statement."""
    keys = await store.subject_keys(
        conn, [(channel, customer) for _, channel, customer in payloads]
    )
    sealed: list[dict[str, Any]] = []
    for payload, channel, customer in payloads:
        subject_id, key = keys[(channel, customer)]
        sealed.append(seal(payload, subject_id=subject_id, key=key))
    return sealed


async def decision_subject_id(conn: Conn, proposal: Proposal) -> str | None:
    """The customer's subject id as the proposal's decision event recorded it.

    Later events about the proposal (a review, a delivery) carry the same id. It is read
    from the immutable decision event, so it takes no lock: these events are appended in
    transactions that hold the proposal's row lock, and an erasure holds the subject's.
    None only for a decision recorded without one.
    """
    return await audit.payload_field(conn, proposal.audit_seq, "subject_id")


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
    suppression: str  # the suppression record's reason category: opt_out or erasure


async def erase_subject(
    conn: Conn, *, channel: str, handle: str, by: str, keys: SuppressionKeys
) -> Erasure:
    """Destroy the customer's key and content, and record a suppression (the HMAC of their
    identity) so that erasure never re-opens contact; the erasure is itself an event.

    ``handle`` is any spelling of the customer's identity; ``InvalidIdentity`` when it
    cannot be one. A customer the channel has never seen is erased all the same (nothing to
    scrub): the suppression record then refuses their first mention too.
    """
    now = datetime.now(UTC)
    customer = await identities.resolve(conn, channel=channel, value=handle)
    customer_key = keys.of(channel=channel, customer_id=customer)

    async def once() -> tuple[str, dict[str, int], str, AuditEvent]:
        async with conn.transaction():
            subject_id, counts, opted_out_at = await store.erase(
                conn, channel=channel, customer=customer, customer_key=customer_key, by=by, now=now
            )
            reason = "opt_out" if opted_out_at is not None else "erasure"
            await suppressions.add_suppression(
                conn,
                channel=channel,
                customer_key=customer_key,
                key_id=keys.key_id,
                reason=reason,
                opted_out_at=opted_out_at,
                now=now,
            )
            event = await audit.append(
                conn,
                kind="subject_erased",
                actor=by,
                subject=f"subject:{subject_id}",
                payload={
                    "subject_id": subject_id,
                    "channel": channel,
                    **counts,
                    "suppression": reason,
                },
            )
        return subject_id, counts, reason, event

    # Erasure touches all of a customer's rows, which the release worker and the
    # group-commit writer lock in other orders; a deadlock victim is simply run again.
    subject_id, counts, reason, event = await retrying(once, what="erasure")
    return Erasure(
        subject_id=subject_id,
        channel=channel,
        mentions_scrubbed=counts["mentions"],
        proposals_scrubbed=counts["proposals"],
        audit_seq=event.seq,
        suppression=reason,
    )
