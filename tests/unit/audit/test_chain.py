"""The hash chain, verified without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from gateway.audit.chain import GENESIS_HASH, canonical_json, event_hash, verify_events
from gateway.domain.records import AuditEvent

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def chain(n: int) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        fields: dict[str, Any] = {
            "seq": seq,
            "occurred_at": T0 + timedelta(seconds=seq),
            "kind": "proposal_decided",
            "actor": "alice",
            "subject": f"proposal:{seq}",
            "payload": {"outcome": "allow", "n": seq, "text": "héllo"},
            "policy_revision": "r1",
        }
        digest = event_hash(prev_hash=prev, **fields)
        events.append(AuditEvent(prev_hash=prev, hash=digest, **fields))
        prev = digest
    return events


def test_canonical_json_sorts_keys_without_whitespace() -> None:
    assert canonical_json({"b": 1, "a": {"d": [1, 2], "c": "é"}}) == (
        '{"a":{"c":"é","d":[1,2]},"b":1}'.encode()
    )


def test_intact_chain_verifies() -> None:
    events = chain(5)
    result = verify_events(events, expected_head=(5, events[-1].hash))
    assert result.ok and result.events == 5 and result.head_hash == events[-1].hash


def test_edited_payload_is_found() -> None:
    events = chain(5)
    events[2] = msgspec.structs.replace(events[2], payload={"outcome": "deny", "n": 3})
    result = verify_events(events)
    assert not result.ok and result.first_bad_seq == 3 and "changed" in (result.detail or "")


def test_reordered_pair_is_found() -> None:
    events = chain(5)
    events[1], events[2] = events[2], events[1]
    result = verify_events(events)
    assert not result.ok and result.first_bad_seq == 2


def test_removed_event_is_found() -> None:
    events = chain(5)
    del events[3]
    result = verify_events(events)
    assert not result.ok and result.first_bad_seq == 4 and "missing" in (result.detail or "")


def test_rehashed_forgery_breaks_the_next_link() -> None:
    events = chain(4)
    forged = msgspec.structs.replace(events[1], actor="mallory")
    forged = msgspec.structs.replace(
        forged,
        hash=event_hash(
            prev_hash=forged.prev_hash,
            seq=2,
            occurred_at=forged.occurred_at,
            kind=forged.kind,
            actor="mallory",
            subject=forged.subject,
            payload=forged.payload,
            policy_revision=forged.policy_revision,
        ),
    )
    events[1] = forged
    result = verify_events(events)
    assert not result.ok and result.first_bad_seq == 3


def test_truncated_tail_is_found_against_the_head() -> None:
    events = chain(5)
    result = verify_events(events[:3], expected_head=(5, events[-1].hash))
    assert not result.ok and result.first_bad_seq == 4


def test_empty_chain_is_ok() -> None:
    assert verify_events([], expected_head=(0, GENESIS_HASH)).ok
