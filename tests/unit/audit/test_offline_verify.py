"""Verifying an exported chain offline: every way to tamper with it is found and named."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gateway.audit.chain import GENESIS_HASH, event_hash, format_time
from gateway.audit.checkpoints import Checkpoint, key_id, sign_checkpoint, write_checkpoint
from gateway.audit.merkle import consistency_proof, root, verify_consistency
from gateway.audit.offline import (
    Anchor,
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
    *,
    allow_unanchored: bool = True,
) -> OfflineReport:
    """Most tests are about tampering, so they accept the unanchored tail explicitly."""
    export = write_export(tmp_path / "audit.jsonl", events)
    return verify_export(
        read_export_jsonl(export),
        checkpoints,
        key.public_key(),
        allow_unanchored=allow_unanchored,
    )


@pytest.fixture(scope="module")
def original() -> list[ExportedEvent]:
    return chain(25)


@pytest.fixture(scope="module")
def signed(original: list[ExportedEvent], key: Ed25519PrivateKey) -> list[Checkpoint]:
    return [checkpoint_at(original, size, key) for size in (10, 20)]


def test_an_intact_export_verifies(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    report = verify(tmp_path, original[:20], signed, key, allow_unanchored=False)
    assert report == OfflineReport(
        ok=True,
        events=20,
        checkpoints_verified=2,
        first_bad_seq=None,
        problems=[],
        unanchored=0,
        anchors=[Anchor(checkpoint=10, first_seq=1), Anchor(checkpoint=20, first_seq=11)],
    )
    assert report.summary() == [
        "ok: 20 events; 20 anchored by 2 signed checkpoint(s), 0 unanchored",
        "  events 1..10: checkpoint 10",
        "  events 11..20: checkpoint 20",
    ]


def test_events_after_the_last_checkpoint_fail_unless_allowed(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    refused = verify(tmp_path, original, signed, key, allow_unanchored=False)
    assert not refused.ok and refused.unanchored == 5 and refused.first_bad_seq is None
    assert refused.problems == [
        "5 events (seq 21..25) are not covered by any signed checkpoint: they are not "
        "verified evidence (whoever controls the database could have rewritten them). "
        "Verify with checkpoints that cover them (a newer evidence bundle), or pass "
        "--allow-unanchored to accept them unverified"
    ]
    allowed = verify(tmp_path, original, signed, key, allow_unanchored=True)
    assert allowed.ok and allowed.unanchored == 5 and allowed.checkpoints_verified == 2
    assert (
        allowed.summary()[0] == "ok: 25 events; 20 anchored by 2 signed checkpoint(s), 5 unanchored"
    )
    assert allowed.summary()[-1] == (
        "  events 21..25: unanchored (5 events no signed checkpoint covers)"
    )


def test_a_chain_rewritten_end_to_end_without_checkpoints_is_not_ok(
    tmp_path: Path, original: list[ExportedEvent], key: Ed25519PrivateKey
) -> None:
    """The hash chain alone proves nothing: a rewritten, re-hashed log links up perfectly."""
    forged = rewrite(original, 1, payload={"outcome": "deny", "n": 1})
    report = verify(tmp_path, forged, [], key, allow_unanchored=False)
    assert not report.ok and report.unanchored == 25 and report.checkpoints_verified == 0
    assert report.problems[0].startswith("25 events (seq 1..25) are not covered")


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
    assert report.ok and report.unanchored == 25 and report.checkpoints_verified == 0


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
    assert report.checkpoints_verified == 1 and report.unanchored == 0


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
    assert report.ok and report.unanchored == 2


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
    assert report.checkpoints_verified == 1 and report.unanchored == 15


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


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "gateway", "audit", "verify", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_cli_never_says_ok_without_checkpoints(
    tmp_path: Path, original: list[ExportedEvent], key: Ed25519PrivateKey
) -> None:
    """A missing or empty checkpoint folder used to print ``ok`` and exit 0."""
    forged = rewrite(original, 3, actor="mallory")
    export = write_export(tmp_path / "audit.jsonl", forged)
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    common = ["--export", str(export), "--key", str(pem)]

    missing = _cli(*common, "--checkpoints", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert f"checkpoint folder {tmp_path / 'nowhere'} does not exist" in missing.stderr
    assert "ok" not in missing.stdout

    empty = tmp_path / "checkpoints"
    empty.mkdir()
    refused = _cli(*common, "--checkpoints", str(empty))
    assert refused.returncode == 1
    assert refused.stdout.startswith("BROKEN: 25 events; 0 anchored by 0 signed checkpoint(s)")
    assert "25 events (seq 1..25) are not covered by any signed checkpoint" in refused.stderr

    allowed = _cli(*common, "--checkpoints", str(empty), "--allow-unanchored")
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.splitlines()[:2] == [
        "ok: 25 events; 0 anchored by 0 signed checkpoint(s), 25 unanchored",
        "  events 1..25: unanchored (25 events no signed checkpoint covers)",
    ]


def test_the_cli_summary_names_the_checkpoints(
    tmp_path: Path, original: list[ExportedEvent], signed: list[Checkpoint], key: Ed25519PrivateKey
) -> None:
    export = write_export(tmp_path / "audit.jsonl", original[:20])
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for checkpoint in signed:
        write_checkpoint(folder, checkpoint)
    done = _cli("--export", str(export), "--key", str(pem), "--checkpoints", str(folder))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "ok: 20 events; 20 anchored by 2 signed checkpoint(s), 0 unanchored",
        "  events 1..10: checkpoint 10",
        "  events 11..20: checkpoint 20",
        "  2 of 2 checkpoint files verified",
    ]
