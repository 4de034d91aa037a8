"""Signed checkpoints: an Ed25519 signature over the Merkle root of the first events.

A checkpoint covers the events with seq ``1..size``. Its signature is Ed25519 over exactly
these UTF-8 bytes (five lines, each ending in ``\\n``; hashes are lowercase hex)::

    engagement-gateway checkpoint v1
    {size}
    {root_hash}          RFC 6962 root of the event hashes 1..size (gateway.audit.merkle)
    {last_event_hash}    the chain hash of event ``size``: binds the tree to the chain
    {created_at}         RFC 3339, UTC, microseconds, 'Z' (gateway.domain.chain.format_time)

``last_seq`` (always ``size``) and ``key_id`` (the first 16 hex digits of SHA-256 of the
raw 32-byte public key) are unsigned conveniences; verification checks both. Checkpoints
are written outside the database as ``checkpoint-{size:012d}.json``, so that someone who
can rewrite the events table cannot rewrite them.

```
CheckpointError             root: a checkpoint or key file this module refuses to use
├── KeyFileError            a key file is missing, unreadable, malformed or too open
└── CheckpointFormatError   a checkpoint file is not a checkpoint
```
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import secrets
import stat
from datetime import datetime
from pathlib import Path

import msgspec
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from gateway.domain.chain import Checkpoint as Checkpoint
from gateway.domain.chain import format_time

MESSAGE_HEADER = "engagement-gateway checkpoint v1"
_HEX_DIGITS = frozenset("0123456789abcdef")


class CheckpointError(Exception):
    """Root of the errors of ``gateway.audit.checkpoints``."""


class KeyFileError(CheckpointError):
    """A signing or public key file cannot be used; the message says what to do."""


class CheckpointFormatError(CheckpointError):
    """A file that should hold a checkpoint does not (or would overwrite a different one)."""


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Checkpoint)


def _is_hash_hex(value: str) -> bool:
    return len(value) == 64 and set(value) <= _HEX_DIGITS


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 of the raw public key: names the key in checkpoints."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def checkpoint_message(
    *, size: int, root_hash: str, last_event_hash: str, created_at: str
) -> bytes:
    """The exact bytes a checkpoint's signature covers (see the module docstring)."""
    return f"{MESSAGE_HEADER}\n{size}\n{root_hash}\n{last_event_hash}\n{created_at}\n".encode()


def sign_checkpoint(
    private_key: Ed25519PrivateKey,
    *,
    size: int,
    root_hash: str,
    last_event_hash: str,
    created_at: datetime,
) -> Checkpoint:
    """Sign the root of events ``1..size`` whose last chain hash is ``last_event_hash``.

    Raises ValueError for a size below 1 or a hash that is not 64 lowercase hex digits.
    """
    if size < 1:
        raise ValueError(f"a checkpoint covers at least one event, not {size}")
    for name, value in (("root_hash", root_hash), ("last_event_hash", last_event_hash)):
        if not _is_hash_hex(value):
            raise ValueError(f"{name} must be 64 lowercase hex digits, got {value!r}")
    created = format_time(created_at)
    message = checkpoint_message(
        size=size, root_hash=root_hash, last_event_hash=last_event_hash, created_at=created
    )
    return Checkpoint(
        size=size,
        root_hash=root_hash,
        last_seq=size,
        last_event_hash=last_event_hash,
        created_at=created,
        key_id=key_id(private_key.public_key()),
        signature=base64.b64encode(private_key.sign(message)).decode("ascii"),
    )


def verify_checkpoint(public_key: Ed25519PublicKey, checkpoint: Checkpoint) -> bool:
    """True when ``public_key`` signed this checkpoint and its unsigned fields agree."""
    if (
        checkpoint.size < 1
        or checkpoint.last_seq != checkpoint.size
        or checkpoint.key_id != key_id(public_key)
        or not _is_hash_hex(checkpoint.root_hash)
        or not _is_hash_hex(checkpoint.last_event_hash)
    ):
        return False
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    message = checkpoint_message(
        size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        last_event_hash=checkpoint.last_event_hash,
        created_at=checkpoint.created_at,
    )
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def encode_checkpoint(checkpoint: Checkpoint) -> bytes:
    """The checkpoint as an indented JSON document ending in a newline."""
    return msgspec.json.format(_encoder.encode(checkpoint), indent=2) + b"\n"


def decode_checkpoint(data: bytes) -> Checkpoint:
    try:
        return _decoder.decode(data)
    except msgspec.DecodeError as error:  # ValidationError is a DecodeError
        raise CheckpointFormatError(f"not a checkpoint: {error}") from error


def checkpoint_filename(size: int) -> str:
    return f"checkpoint-{size:012d}.json"


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(directory: Path, name: str, content: bytes, mode: int) -> Path:
    """Write ``content`` to ``directory/name`` atomically, never replacing an existing file.

    The file is written under a temporary name created with O_EXCL and ``mode``, then
    hard-linked into place: readers see either nothing or the whole file. Raises
    FileExistsError when ``name`` already exists.
    """
    target = directory / name
    temporary = directory / f".{name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(fd, mode)  # exactly ``mode``, whatever the umask took away
            handle.write(content)
            handle.flush()
            os.fsync(fd)
        os.link(temporary, target)
    finally:
        temporary.unlink()
    _fsync_directory(directory)
    return target


def write_checkpoint(directory: Path, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint-{size:012d}.json`` into ``directory``; returns its path.

    An existing file for the same size is left alone if it holds the same checkpoint;
    a different one raises CheckpointFormatError (checkpoints are evidence: never replaced).
    """
    content = encode_checkpoint(checkpoint)
    name = checkpoint_filename(checkpoint.size)
    try:
        return _publish(directory, name, content, 0o644)
    except FileExistsError:
        existing = read_checkpoint(directory / name)
        if existing != checkpoint:
            raise CheckpointFormatError(
                f"{directory / name} already holds a different checkpoint for "
                f"{checkpoint.size} events; it was not replaced"
            ) from None
        return directory / name


def read_checkpoint(path: Path) -> Checkpoint:
    try:
        return decode_checkpoint(path.read_bytes())
    except CheckpointFormatError as error:
        raise CheckpointFormatError(f"{path}: {error}") from error


def read_checkpoints(directory: Path) -> list[Checkpoint]:
    """Every ``checkpoint-*.json`` in ``directory``, in size order (not verified)."""
    return sorted(
        (read_checkpoint(path) for path in directory.glob("checkpoint-*.json")),
        key=lambda checkpoint: checkpoint.size,
    )


def _read_private_key(path: Path) -> Ed25519PrivateKey:
    """The key at ``path``; FileNotFoundError passes through, other problems are KeyFileError."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise KeyFileError(f"cannot read signing key {path}: {error.strerror}") from error
    with os.fdopen(fd, "rb") as handle:
        # Checked on the open file, not the name, so a swapped file cannot slip through.
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & 0o077:
            raise KeyFileError(
                f"signing key {path} has mode {mode:04o}: group or others may read or "
                f"change it. Run `chmod 600 {path}`, and replace the key if anyone else "
                "could have copied it."
            )
        data = handle.read()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise KeyFileError(
            f"signing key {path} is not an unencrypted PEM (PKCS8) private key: {error}"
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"signing key {path} is a {type(key).__name__}, not an Ed25519 key")
    return key


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 signing key at ``path``; created there (PEM, PKCS8, mode 0600) if absent.

    The file is created under a temporary O_EXCL name with mode 0600 and linked into
    place, so it is never readable by others and never seen half-written; a concurrent
    creator's key wins and is loaded. Raises KeyFileError for a key file that group or
    others can read or write, or that holds something other than an Ed25519 key.
    """
    try:
        return _read_private_key(path)
    except FileNotFoundError:
        pass
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        _publish(path.parent, path.name, pem, 0o600)
    return _read_private_key(path)


def public_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    """The public half as a PEM SubjectPublicKeyInfo, the file auditors verify with."""
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM file at ``path``; KeyFileError if it is not one."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise KeyFileError(f"cannot read public key {path}: {error.strerror}") from error
    return public_key_from_pem(data, source=str(path))


def public_key_from_pem(data: bytes, *, source: str) -> Ed25519PublicKey:
    """The Ed25519 public key in PEM ``data`` read from ``source`` (named in errors)."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as error:
        raise KeyFileError(f"{source} is not a PEM public key: {error}") from error
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"public key {source} is a {type(key).__name__}, not an Ed25519 key")
    return key
