"""Deterministic record keys, so that a retried publish cannot post twice.

atproto has no idempotency header, but ``createRecord`` takes the record key (``rkey``)
and a repository holds one record per key: a second create with the same key fails
instead of posting again. ``reply_rkey`` derives the key from the release's idempotency
key, so every attempt of one release uses the same one.

Post keys are TIDs in the lexicon (``"key": "tid"``) and some PDSes enforce it, so the key
is TID-shaped: 13 base32-sortable characters of a 64-bit value, 53 bits of microseconds
since the epoch and a 10-bit clock id. The timestamp is the answered post's (when its key
is a TID) plus up to about a second, so the key sorts just after the post it answers and
is never in the future; the offset and clock id come from a SHA-256 of the idempotency
key and the parent uri (30 bits: replies to one post do not collide in practice). When
the parent's key is not a TID, the timestamp is 2023-01-01 plus 40 bits of the hash.
"""

from __future__ import annotations

import hashlib
import re

_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_TIMESTAMP_BITS = 53
_CLOCK_BITS = 10
_FALLBACK_EPOCH_US = 1_672_531_200_000_000  # 2023-01-01T00:00:00Z
_DOMAIN = b"engagement-gateway/bluesky/rkey/v1\x00"


def is_tid(value: str) -> bool:
    return _TID.fullmatch(value) is not None


def tid_encode(timestamp_us: int, clock_id: int) -> str:
    """The TID for a timestamp (microseconds since the epoch) and clock id (0-1023)."""
    if not 0 <= timestamp_us < 1 << _TIMESTAMP_BITS or not 0 <= clock_id < 1 << _CLOCK_BITS:
        raise ValueError("TID timestamp or clock id out of range")
    value = timestamp_us << _CLOCK_BITS | clock_id
    chars = []
    for _ in range(13):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def tid_timestamp(tid: str) -> int | None:
    """The microseconds since the epoch in a TID, or None when ``tid`` is not one."""
    if not is_tid(tid):
        return None
    value = 0
    for char in tid:
        value = value << 5 | _ALPHABET.index(char)
    return value >> _CLOCK_BITS


def reply_rkey(idempotency_key: str, parent_uri: str) -> str:
    """The record key of the reply released under ``idempotency_key`` to ``parent_uri``."""
    digest = hashlib.sha256(
        _DOMAIN + idempotency_key.encode() + b"\x00" + parent_uri.encode()
    ).digest()
    bits = int.from_bytes(digest[:8], "big")
    clock_id = bits & ((1 << _CLOCK_BITS) - 1)
    hashed = bits >> _CLOCK_BITS
    parent_us = tid_timestamp(parent_uri.rsplit("/", 1)[-1])
    if parent_us is not None:
        timestamp = parent_us + 1 + hashed % (1 << 20)
    else:
        timestamp = _FALLBACK_EPOCH_US + hashed % (1 << 40)
    return tid_encode(timestamp % (1 << _TIMESTAMP_BITS), clock_id)
