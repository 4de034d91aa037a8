"""The audit chain's pure parts: what an event's hash is, and the record of a checkpoint.

``hash = sha256(prev_hash || canonical_json(event))`` where ``event`` is the object
``{seq, occurred_at, kind, actor, subject, payload, policy_revision}`` and canonical JSON
is RFC 8785 style: keys sorted, no whitespace, UTF-8. The first event's ``prev_hash`` is
64 zeros. Changing, removing or reordering any event changes every hash after it.

No I/O here: the store computes hashes as it appends (``gateway.store.audit``), the
audit package verifies them (``gateway.audit.chain``) and signs checkpoints
(``gateway.audit.checkpoints``), and both stand above this module.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

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


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A signed checkpoint over events ``1..size`` (format: ``gateway.audit.checkpoints``)."""

    size: int
    root_hash: str
    last_seq: int
    last_event_hash: str
    created_at: str
    key_id: str
    signature: str
