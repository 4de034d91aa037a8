"""Signed checkpoints and the key files they are signed with."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.checkpoints import (
    Checkpoint,
    CheckpointFormatError,
    KeyFileError,
    checkpoint_filename,
    checkpoint_message,
    decode_checkpoint,
    encode_checkpoint,
    key_id,
    load_or_create_signing_key,
    load_public_key,
    public_key_pem,
    read_checkpoint,
    read_checkpoints,
    sign_checkpoint,
    verify_checkpoint,
    write_checkpoint,
)

ROOT = hashlib.sha256(b"root").hexdigest()
LAST = hashlib.sha256(b"last").hexdigest()
WHEN = datetime(2026, 11, 22, 10, 30, 5, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def checkpoint(key: Ed25519PrivateKey) -> Checkpoint:
    return sign_checkpoint(key, size=1000, root_hash=ROOT, last_event_hash=LAST, created_at=WHEN)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A permissive umask, so that only the code can be what keeps a key file private."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_signed_checkpoint_verifies_with_its_key(
    key: Ed25519PrivateKey, checkpoint: Checkpoint
) -> None:
    assert verify_checkpoint(key.public_key(), checkpoint)
    assert checkpoint.size == checkpoint.last_seq == 1000
    assert checkpoint.created_at == "2026-11-22T10:30:05.123456Z"
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert checkpoint.key_id == hashlib.sha256(raw).hexdigest()[:16] == key_id(key.public_key())


def test_created_at_is_signed_in_utc_whatever_the_zone_given(key: Ed25519PrivateKey) -> None:
    paris = WHEN.astimezone(timezone(timedelta(hours=1)))
    signed = sign_checkpoint(key, size=1, root_hash=ROOT, last_event_hash=LAST, created_at=paris)
    assert signed.created_at == "2026-11-22T10:30:05.123456Z"


def test_the_signed_message_is_the_documented_text(
    key: Ed25519PrivateKey, checkpoint: Checkpoint
) -> None:
    documented = (
        f"engagement-gateway checkpoint v1\n1000\n{ROOT}\n{LAST}\n2026-11-22T10:30:05.123456Z\n"
    ).encode()
    assert (
        checkpoint_message(
            size=1000, root_hash=ROOT, last_event_hash=LAST, created_at=checkpoint.created_at
        )
        == documented
    )
    # An auditor with only the documented format and a stock Ed25519 library can check it.
    key.public_key().verify(base64.b64decode(checkpoint.signature), documented)


@pytest.mark.parametrize(
    "change",
    [
        {"size": 1001},
        {"root_hash": hashlib.sha256(b"other root").hexdigest()},
        {"last_event_hash": hashlib.sha256(b"other last").hexdigest()},
        {"created_at": "2026-11-22T10:30:05.123457Z"},
        {"last_seq": 999},
        {"key_id": "0" * 16},
        {"signature": "not base64!"},
        {"signature": base64.b64encode(b"\0" * 64).decode()},
        {"signature": ""},
        {"root_hash": ROOT.upper()},
    ],
    ids=lambda change: next(iter(change)),
)
def test_any_altered_field_fails_verification(
    key: Ed25519PrivateKey, checkpoint: Checkpoint, change: dict[str, object]
) -> None:
    altered = msgspec.structs.replace(checkpoint, **change)
    assert not verify_checkpoint(key.public_key(), altered)


def test_a_checkpoint_signed_by_another_key_fails(checkpoint: Checkpoint) -> None:
    other = Ed25519PrivateKey.generate()
    assert not verify_checkpoint(other.public_key(), checkpoint)
    forged = sign_checkpoint(
        other, size=1000, root_hash=ROOT, last_event_hash=LAST, created_at=WHEN
    )
    claiming_ours = msgspec.structs.replace(forged, key_id=checkpoint.key_id)
    assert not verify_checkpoint(Ed25519PrivateKey.generate().public_key(), forged)
    assert not verify_checkpoint(other.public_key(), claiming_ours)


@pytest.mark.parametrize(
    ("size", "root_hash", "last_event_hash"),
    [(0, ROOT, LAST), (1, ROOT.upper(), LAST), (1, ROOT, LAST[:-1]), (1, ROOT, "g" * 64)],
)
def test_signing_refuses_malformed_input(
    key: Ed25519PrivateKey, size: int, root_hash: str, last_event_hash: str
) -> None:
    with pytest.raises(ValueError):
        sign_checkpoint(
            key, size=size, root_hash=root_hash, last_event_hash=last_event_hash, created_at=WHEN
        )


def test_json_round_trip(checkpoint: Checkpoint) -> None:
    data = encode_checkpoint(checkpoint)
    assert data.endswith(b"}\n")
    assert decode_checkpoint(data) == checkpoint


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b'{"size": 1}',
        b"[]",
    ],
)
def test_decoding_something_else_is_a_format_error(data: bytes) -> None:
    with pytest.raises(CheckpointFormatError, match="not a checkpoint"):
        decode_checkpoint(data)


def test_unknown_fields_are_refused(checkpoint: Checkpoint) -> None:
    document = msgspec.json.decode(encode_checkpoint(checkpoint))
    document["comment"] = "trust me"
    with pytest.raises(CheckpointFormatError, match="comment"):
        decode_checkpoint(msgspec.json.encode(document))


def test_files_are_named_by_zero_padded_size(key: Ed25519PrivateKey, tmp_path: Path) -> None:
    assert checkpoint_filename(1000) == "checkpoint-000000001000.json"
    for size in (20, 3, 100):
        signed = sign_checkpoint(
            key, size=size, root_hash=ROOT, last_event_hash=LAST, created_at=WHEN
        )
        path = write_checkpoint(tmp_path, signed)
        assert path.name == checkpoint_filename(size)
        assert read_checkpoint(path) == signed
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    assert [c.size for c in read_checkpoints(tmp_path)] == [3, 20, 100]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint-000000000003.json",
        "checkpoint-000000000020.json",
        "checkpoint-000000000100.json",
        "notes.txt",
    ]


def test_a_checkpoint_file_is_never_replaced_by_a_different_one(
    key: Ed25519PrivateKey, checkpoint: Checkpoint, tmp_path: Path
) -> None:
    path = write_checkpoint(tmp_path, checkpoint)
    assert write_checkpoint(tmp_path, checkpoint) == path  # the same one again is fine
    rival = sign_checkpoint(key, size=1000, root_hash=LAST, last_event_hash=ROOT, created_at=WHEN)
    with pytest.raises(CheckpointFormatError, match="already holds a different checkpoint"):
        write_checkpoint(tmp_path, rival)
    assert read_checkpoint(path) == checkpoint
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_reading_a_damaged_checkpoint_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / checkpoint_filename(5)
    path.write_text('{"size": 5')
    with pytest.raises(CheckpointFormatError, match=str(path)):
        read_checkpoint(path)


def test_signing_key_is_created_private_once_and_reused(
    tmp_path: Path, permissive_umask: None
) -> None:
    path = tmp_path / "keys" / "checkpoint.pem"
    created = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")  # PKCS8
    again = load_or_create_signing_key(path)
    assert public_key_pem(again) == public_key_pem(created)
    assert [p.name for p in path.parent.iterdir()] == ["checkpoint.pem"]


def test_signing_key_is_never_visible_to_others_while_it_is_written(
    tmp_path: Path, permissive_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key only appears under its name by a link from a file already 0600 and whole."""
    seen: list[tuple[int, bytes]] = []
    real_link = os.link

    def watching_link(source: os.PathLike[str], target: os.PathLike[str]) -> None:
        seen.append((stat.S_IMODE(os.stat(source).st_mode), Path(source).read_bytes()))
        real_link(source, target)

    monkeypatch.setattr(os, "link", watching_link)
    path = tmp_path / "checkpoint.pem"
    load_or_create_signing_key(path)
    assert seen == [(0o600, path.read_bytes())]


def test_a_key_created_concurrently_by_another_process_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "checkpoint.pem"
    theirs = Ed25519PrivateKey.generate()
    real_link = os.link

    def racing_link(source: os.PathLike[str], target: os.PathLike[str]) -> None:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(
            fd,
            theirs.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        os.close(fd)
        real_link(source, target)

    monkeypatch.setattr(os, "link", racing_link)
    assert public_key_pem(load_or_create_signing_key(path)) == public_key_pem(theirs)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pem"]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602])
def test_a_signing_key_others_can_reach_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "checkpoint.pem"
    load_or_create_signing_key(path)
    path.chmod(mode)
    with pytest.raises(KeyFileError, match=f"mode {mode:04o}.*chmod 600"):
        load_or_create_signing_key(path)


def test_a_signing_key_file_holding_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pem"
    path.write_bytes(b"hello")
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="not an unencrypted PEM"):
        load_or_create_signing_key(path)
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(KeyFileError, match="not an Ed25519 key"):
        load_or_create_signing_key(path)


def test_public_key_file_round_trip(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = tmp_path / "checkpoint.pub"
    path.write_bytes(public_key_pem(key))
    assert path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----\n")
    loaded = load_public_key(path)
    assert key_id(loaded) == key_id(key.public_key())
    signed = sign_checkpoint(key, size=7, root_hash=ROOT, last_event_hash=LAST, created_at=WHEN)
    assert verify_checkpoint(loaded, signed)


def test_a_public_key_file_that_is_not_one_is_refused(
    tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    with pytest.raises(KeyFileError, match="cannot read public key"):
        load_public_key(tmp_path / "missing.pub")
    private = tmp_path / "private.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(KeyFileError, match="not a PEM public key"):
        load_public_key(private)
    other = tmp_path / "ec.pub"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(KeyFileError, match="not an Ed25519 key"):
        load_public_key(other)
