"""The hash chain: canonical JSON of an event, its hash, and verification.

``hash = sha256(prev_hash || canonical_json(event))`` where ``event`` is the object
``{seq, occurred_at, kind, actor, subject, payload, policy_revision}`` and canonical JSON
is RFC 8785 style: keys sorted, no whitespace, UTF-8. The first event's ``prev_hash`` is
64 zeros. Changing, removing or reordering any event changes every hash after it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec

GENESIS_HASH = "0" * 64

_encoder = msgspec.json.Encoder(order="sorted")


def canonical_json(value: Any) -> bytes:
    return _encoder.encode(value)


def format_time(moment: datetime) -> str:
    """The one textual form of an event time that goes into its hash (UTC, microseconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *,
    prev_hash: str,
    seq: int,
    occurred_at: datetime,
    kind: str,
    actor: str,
    subject: str,
    payload: Any,
    policy_revision: str | None,
) -> str:
    document = {
        "seq": seq,
        "occurred_at": format_time(occurred_at),
        "kind": kind,
        "actor": actor,
        "subject": subject,
        "payload": payload,
        "policy_revision": policy_revision,
    }
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(document)).hexdigest()


class VerifyResult(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    events: int
    first_bad_seq: int | None = None
    detail: str | None = None
    head_hash: str | None = None


class ChainEvent(Protocol):
    """What verification reads from each event (AuditEvent and exported rows have it)."""

    @property
    def seq(self) -> int: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def payload(self) -> Any: ...
    @property
    def policy_revision(self) -> str | None: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


def verify_events(
    events: Iterable[ChainEvent], *, expected_head: tuple[int, str] | None = None
) -> VerifyResult:
    """Recompute the chain over events in seq order; report the first event that is wrong.

    ``expected_head`` (seq, hash) is the chain head the database recorded: a missing tail
    (events removed after the last one seen) is reported against it.
    """
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    for event in events:
        count += 1
        if event.seq != expected_seq:
            return VerifyResult(
                ok=False,
                events=count,
                first_bad_seq=expected_seq,
                detail=f"event {expected_seq} is missing (found {event.seq} next)",
            )
        if event.prev_hash != prev_hash:
            return VerifyResult(
                ok=False,
                events=count,
                first_bad_seq=event.seq,
                detail=f"event {event.seq} does not link to the hash of event {event.seq - 1}",
            )
        recomputed = event_hash(
            prev_hash=prev_hash,
            seq=event.seq,
            occurred_at=event.occurred_at,
            kind=event.kind,
            actor=event.actor,
            subject=event.subject,
            payload=event.payload,
            policy_revision=event.policy_revision,
        )
        if recomputed != event.hash:
            return VerifyResult(
                ok=False,
                events=count,
                first_bad_seq=event.seq,
                detail=f"event {event.seq} was changed after it was written (hash mismatch)",
            )
        prev_hash = event.hash
        expected_seq += 1
    if expected_head is not None:
        head_seq, head_hash = expected_head
        if head_seq != count or (count and head_hash != prev_hash):
            return VerifyResult(
                ok=False,
                events=count,
                first_bad_seq=count + 1 if head_seq > count else head_seq,
                detail=f"the chain head records {head_seq} events but {count} were found",
            )
    return VerifyResult(ok=True, events=count, head_hash=prev_hash if count else None)
