"""Verifying an exported chain offline: every way to tamper with it is found and named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.chain import GENESIS_HASH, event_hash, format_time
from gateway.audit.checkpoints import Checkpoint, key_id, sign_checkpoint
from gateway.audit.merkle import consistency_proof, root, verify_consistency
from gateway.audit.offline import (
    ExportedEvent,
    ExportFormatError,
    OfflineReport,
    read_export_jsonl,
    verify_export,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SIGNED_AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def make_event(seq: int, prev: str, **change: Any) -> ExportedEvent:
    fields: dict[str, Any] = {
        "seq": seq,
        "occurred_at": T0 + timedelta(seconds=seq, microseconds=7 * seq),
        "kind": "proposal_decided",
        "actor": "alice",
        "subject": f"proposal:{seq}",
        "payload": {"outcome": "allow", "n": seq, "text": "héllo"},
        "policy_revision": "r1",
    }
    fields.update(change)
    return ExportedEvent(prev_hash=prev, hash=event_hash(prev_hash=prev, **fields), **fields)


def chain(n: int) -> list[ExportedEvent]:
    events: list[ExportedEvent] = []
    for seq in range(1, n + 1):
        events.append(make_event(seq, events[-1].hash if events else GENESIS_HASH))
    return events


def rewrite(events: list[ExportedEvent], seq: int, **change: Any) -> list[ExportedEvent]:
    """What someone with full database access does: change event ``seq`` and rehash after it."""
    result = events[: seq - 1]
    for event in events[seq - 1 :]:
        prev = result[-1].hash if result else GENESIS_HASH
        fields = {"actor": event.actor, "payload": event.payload}
        if event.seq == seq:
            fields |= change
        result.append(make_event(event.seq, prev, **fields))
    return result


def checkpoint_at(events: list[ExportedEvent], size: int, key: Ed25519PrivateKey) -> Checkpoint:
    leaves = [bytes.fromhex(event.hash) for event in events[:size]]
    return sign_checkpoint(
        key,
        size=size,
        root_hash=root(leaves).hex(),
        last_event_hash=events[size - 1].hash,
        created_at=SIGNED_AT + timedelta(minutes=size),
    )


def write_export(path: Path, events: list[ExportedEvent]) -> Path:
    with path.open("wb") as handle:
        for event in events:
            line = msgspec.structs.asdict(event) | {"occurred_at": format_time(event.occurred_at)}
            handle.write(msgspec.json.encode(line) + b"\n")
    return path


def verify(
    tmp_path: Path,
    events: list[ExportedEvent],
    checkpoints: list[Checkpoint],
    key: Ed25519PrivateKey,
) -> OfflineReport:
    export = write_export(tmp_path / "audit.jsonl", events)
    return verify_export(read_export_jsonl(export), checkpoints, key.public_key())


@pytest.fixture(scope="module")
def original() -> list[ExportedEvent]:
    return chain(25)


@pytest.fixture(scope="module")
def signed(original: list[ExportedEvent], key: Ed25519PrivateKey) -> list[Checkpoint]:
    return [checkpoint_at(original, size, key) for size in (10, 20)]


def test_an_intact_export_verifies(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    report = verify(tmp_path, original, signed, key)
    assert report == OfflineReport(
        ok=True,
        events=25,
        checkpoints_verified=2,
        first_bad_seq=None,
        problems=[],
        not_yet_covered=5,
    )


def test_the_export_line_format_round_trips(tmp_path: Path, original: list[ExportedEvent]) -> None:
    export = write_export(tmp_path / "audit.jsonl", original[:2])
    first = msgspec.json.decode(export.read_bytes().splitlines()[0])
    assert first["occurred_at"] == "2026-11-22T09:00:01.000007Z"
    assert set(first) == {
        "seq", "occurred_at", "kind", "actor", "subject", "payload", "policy_revision",
        "prev_hash", "hash",
    }  # fmt: skip
    assert list(read_export_jsonl(export)) == original[:2]


def test_without_checkpoints_only_the_chain_is_checked_and_nothing_is_covered(
    tmp_path: Path, original: list[ExportedEvent], key: Ed25519PrivateKey
) -> None:
    report = verify(tmp_path, original, [], key)
    assert report.ok and report.not_yet_covered == 25 and report.checkpoints_verified == 0


def test_an_edited_payload_is_named(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    events = list(original)
    events[16] = msgspec.structs.replace(events[16], payload={"outcome": "deny", "n": 17})
    report = verify(tmp_path, events, signed, key)
    assert not report.ok and report.first_bad_seq == 17
    assert report.problems == ["event 17 was changed after it was written (hash mismatch)"]
    # The stored hashes, which the checkpoints sign, were left alone.
    assert report.checkpoints_verified == 2


def test_an_event_deleted_in_the_middle_is_named(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    events = original[:7] + original[8:]
    report = verify(tmp_path, events, signed, key)
    assert not report.ok and report.first_bad_seq == 8
    assert report.problems[0] == "event 8 is missing (found 9 next)"
    assert any(p.startswith("checkpoint 10 does not match the export") for p in report.problems)
    assert report.checkpoints_verified == 0


def test_a_truncated_tail_covered_by_a_checkpoint_is_found(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    report = verify(tmp_path, original[:15], signed, key)
    assert not report.ok and report.first_bad_seq == 16
    assert report.problems == [
        "export ends at event 15 but checkpoint 20 covers 20 events: events were removed"
    ]
    assert report.checkpoints_verified == 1 and report.not_yet_covered == 0


def test_an_empty_export_against_checkpoints_is_found(
    tmp_path: Path, signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    report = verify(tmp_path, [], signed, key)
    assert report.first_bad_seq == 1
    assert report.problems == [
        "export ends at event 0 but checkpoint 20 covers 20 events: events were removed"
    ]


def test_a_truncated_tail_after_the_last_checkpoint_cannot_be_seen(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    """The limit of the evidence: what no checkpoint covers yet is only counted."""
    report = verify(tmp_path, original[:22], signed, key)
    assert report.ok and report.not_yet_covered == 2


def test_a_reordered_pair_is_named(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    events = list(original)
    events[4], events[5] = events[5], events[4]
    report = verify(tmp_path, events, signed, key)
    assert not report.ok and report.first_bad_seq == 5
    assert report.problems[0] == "event 5 is missing (found 6 next)"


def test_a_checkpoint_signed_by_another_key_is_refused(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    mallory = Ed25519PrivateKey.generate()
    forged = checkpoint_at(original, 20, mallory)
    report = verify(tmp_path, original, [signed[0], forged], key)
    assert not report.ok and report.first_bad_seq is None
    assert report.problems == [
        f"checkpoint 20 names key {key_id(mallory.public_key())}, not the given key "
        f"{key_id(key.public_key())}: its signature does not verify with the given key"
    ]
    assert report.checkpoints_verified == 1 and report.not_yet_covered == 15


def test_a_checkpoint_forged_under_our_key_id_is_refused(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    forged = msgspec.structs.replace(
        checkpoint_at(original, 20, Ed25519PrivateKey.generate()), key_id=signed[1].key_id
    )
    report = verify(tmp_path, original, [signed[0], forged], key)
    assert report.problems == [
        f"checkpoint 20 signature does not verify with the given key "
        f"{key_id(key.public_key())}: the checkpoint was altered or forged"
    ]


def test_a_checkpoint_with_an_altered_root_is_refused(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    events = rewrite(original, 14, actor="mallory")
    leaves = [bytes.fromhex(event.hash) for event in events[:20]]
    altered = msgspec.structs.replace(
        signed[1], root_hash=root(leaves).hex(), last_event_hash=events[19].hash
    )
    report = verify(tmp_path, events, [signed[0], altered], key)
    assert not report.ok
    assert report.problems[0].startswith("checkpoint 20 signature does not verify")
    assert report.checkpoints_verified == 1


def test_a_consistently_rewritten_tail_is_found_by_the_checkpoint(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    """Event 14 changed and every hash after it recomputed: the chain alone looks fine."""
    events = rewrite(original, 14, actor="mallory")
    report = verify(tmp_path, events, signed, key)
    assert not report.ok and report.first_bad_seq == 11
    assert len(report.problems) == 1
    assert report.problems[0].startswith(
        "checkpoint 20 does not match the export: events 11..20 were changed, removed, "
        "inserted or reordered after it was signed (Merkle root of events 1..20 is "
    )
    assert (
        f"event 20 has hash {events[19].hash[:16]}…, signed {original[19].hash[:16]}…"
        in (report.problems[0])
    )
    assert report.checkpoints_verified == 1


def test_a_rewound_and_regrown_chain_is_found(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    """The head rewound to 15 and ten other events appended, all consistently hashed."""
    events = original[:15]
    for seq in range(16, 26):
        events.append(make_event(seq, events[-1].hash, actor="mallory"))
    report = verify(tmp_path, events, signed, key)
    assert report.first_bad_seq == 11
    assert report.problems[0].startswith("checkpoint 20 does not match the export: events 11..20")


def test_a_deleted_event_with_the_rest_renumbered_is_found(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    events: list[ExportedEvent] = []
    for event in original[:4] + original[5:]:
        prev = events[-1].hash if events else GENESIS_HASH
        events.append(make_event(len(events) + 1, prev, subject=event.subject))
    report = verify(tmp_path, events, signed, key)
    assert report.first_bad_seq == 1
    assert report.problems[0].startswith("checkpoint 10 does not match the export: events 1..10")
    assert "1 later checkpoints do not match the export either" in report.problems


def test_history_rewritten_and_then_signed_again_is_found(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    """Whoever rewrote event 5 let the gateway sign its next checkpoint over the new history."""
    events = rewrite(original, 5, payload={"outcome": "deny", "n": 5})
    resigned = checkpoint_at(events, 20, key)
    report = verify(tmp_path, events, [signed[0], resigned], key)
    assert not report.ok and report.first_bad_seq == 1
    assert report.problems[0].startswith("checkpoint 10 does not match the export: events 1..10")
    assert report.problems[1] == (
        "checkpoint 20 does not extend checkpoint 10: events 1..10 were rewritten and "
        "checkpoint 20 was signed over the rewritten history"
    )
    assert report.checkpoints_verified == 1


def test_successive_checkpoints_are_checked_with_a_consistency_proof(
    tmp_path: Path,
    original: list[ExportedEvent],
    key: Ed25519PrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[int, int, list[bytes]]] = []

    def spy(old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
        verdict = verify_consistency(old, new, old_root, new_root, proof)
        calls.append((old, new, list(proof)))
        assert verdict
        return verdict

    monkeypatch.setattr("gateway.audit.offline.verify_consistency", spy)
    checkpoints = [checkpoint_at(original, size, key) for size in (3, 8, 8, 21)]
    report = verify(tmp_path, original, checkpoints, key)
    assert report.ok and report.checkpoints_verified == 4
    leaves = [bytes.fromhex(event.hash) for event in original]
    assert calls == [
        (3, 8, consistency_proof(leaves[:8], 3)),
        (8, 8, []),
        (8, 21, consistency_proof(leaves[:21], 8)),
    ]


def test_an_unreadable_line_stops_verification_and_says_where(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    export = write_export(tmp_path / "audit.jsonl", original)
    lines = export.read_bytes().splitlines(keepends=True)
    lines[6] = b'{"seq": 7, "not": "an event"}\n'
    export.write_bytes(b"".join(lines))
    report = verify_export(read_export_jsonl(export), signed, key.public_key())
    assert not report.ok and report.first_bad_seq == 7 and report.events == 6
    assert len(report.problems) == 1
    assert report.problems[0].startswith("line 7 of the export is not an event: ")
    assert report.problems[0].endswith("verification stopped there, after 6 events")


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"occurred_at": "2026-11-22T09:00:01.000007"}, "timezone"),
        ({"comment": "hi"}, "comment"),
        ({"seq": "1"}, "seq"),
    ],
)
def test_export_lines_are_read_strictly(
    tmp_path: Path, original: list[ExportedEvent], change: dict[str, Any], complaint: str
) -> None:
    export = write_export(tmp_path / "audit.jsonl", original[:1])
    line = msgspec.json.decode(export.read_bytes()) | change
    export.write_bytes(b"\n" + msgspec.json.encode(line) + b"\n")
    with pytest.raises(ExportFormatError, match=complaint) as raised:
        list(read_export_jsonl(export))
    assert raised.value.line == 2


def test_the_export_is_read_one_line_at_a_time(
    tmp_path: Path, original: list[ExportedEvent]
) -> None:
    export = write_export(tmp_path / "audit.jsonl", original[:3])
    with export.open("ab") as handle:
        handle.write(b"garbage\n")
    events = read_export_jsonl(export)
    assert [next(events).seq for _ in range(3)] == [1, 2, 3]
    with pytest.raises(ExportFormatError):
        next(events)
