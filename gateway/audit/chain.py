"""The hash chain: canonical JSON of an event, its hash, and verification.

The hash is defined in ``gateway.domain.chain`` (pure, below the store); this module
verifies chains of events against it.

``hash = sha256(prev_hash || canonical_json(event))`` where ``event`` is the object
``{seq, occurred_at, kind, actor, subject, payload, policy_revision}`` and canonical JSON
is RFC 8785 style: keys sorted, no whitespace, UTF-8. The first event's ``prev_hash`` is
64 zeros. Changing, removing or reordering any event changes every hash after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

import msgspec

# The hash itself is pure and lives below the store, which computes it as it appends;
# these names stay importable from here, where verification uses them.
from gateway.domain.chain import GENESIS_HASH as GENESIS_HASH
from gateway.domain.chain import canonical_json as canonical_json
from gateway.domain.chain import event_hash as event_hash
from gateway.domain.chain import format_time as format_time


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


class ChainVerifier:
    """Checks events one at a time, in seq order, in constant memory."""

    def __init__(self) -> None:
        self.prev_hash = GENESIS_HASH
        self.count = 0
        self.failure: VerifyResult | None = None

    def feed(self, event: ChainEvent) -> bool:
        """Check the next event; False once the chain is found broken (stop feeding)."""
        if self.failure is not None:
            return False
        self.count += 1
        expected_seq = self.count
        problem: tuple[int, str] | None = None
        if event.seq != expected_seq:
            problem = (expected_seq, f"event {expected_seq} is missing (found {event.seq} next)")
        elif event.prev_hash != self.prev_hash:
            problem = (
                event.seq,
                f"event {event.seq} does not link to the hash of event {event.seq - 1}",
            )
        elif (
            event_hash(
                prev_hash=self.prev_hash,
                seq=event.seq,
                occurred_at=event.occurred_at,
                kind=event.kind,
                actor=event.actor,
                subject=event.subject,
                payload=event.payload,
                policy_revision=event.policy_revision,
            )
            != event.hash
        ):
            problem = (
                event.seq,
                f"event {event.seq} was changed after it was written (hash mismatch)",
            )
        if problem is not None:
            self.failure = VerifyResult(
                ok=False, events=self.count, first_bad_seq=problem[0], detail=problem[1]
            )
            return False
        self.prev_hash = event.hash
        return True

    def result(self, *, expected_head: tuple[int, str] | None = None) -> VerifyResult:
        """The verdict; ``expected_head`` (seq, hash) is the head the database recorded."""
        if self.failure is not None:
            return self.failure
        if expected_head is not None:
            head_seq, head_hash = expected_head
            if head_seq != self.count or (self.count and head_hash != self.prev_hash):
                return VerifyResult(
                    ok=False,
                    events=self.count,
                    first_bad_seq=self.count + 1 if head_seq > self.count else head_seq,
                    detail=f"the chain head records {head_seq} events but {self.count} were found",
                )
        return VerifyResult(
            ok=True, events=self.count, head_hash=self.prev_hash if self.count else None
        )


def verify_events(
    events: Iterable[ChainEvent], *, expected_head: tuple[int, str] | None = None
) -> VerifyResult:
    """Recompute the chain over events in seq order; report the first event that is wrong.

    ``expected_head`` (seq, hash) is the chain head the database recorded: a missing tail
    (events removed after the last one seen) is reported against it.
    """
    verifier = ChainVerifier()
    for event in events:
        if not verifier.feed(event):
            break
    return verifier.result(expected_head=expected_head)
