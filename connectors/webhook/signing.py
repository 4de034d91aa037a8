"""Signatures on webhook deliveries, shared by the publisher and by whoever receives them.

A delivery carries two headers::

    X-Gateway-Timestamp: <unix seconds>
    X-Gateway-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.".encode() + body)>

The timestamp is inside the MAC, so a receiver that checks it against its own clock also
rejects old deliveries replayed by someone who captured them.
"""

from __future__ import annotations

import hashlib
import hmac
import re

TIMESTAMP_HEADER = "X-Gateway-Timestamp"
SIGNATURE_HEADER = "X-Gateway-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"

_SCHEME = "sha256="
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


def sign(secret: bytes, timestamp: int | str, body: bytes) -> str:
    """The ``X-Gateway-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds).

    Pass the timestamp exactly as it appears in the header.
    """
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256)
    return _SCHEME + mac.hexdigest()


def verify_signature(
    secret: bytes,
    timestamp: int | str,
    body: bytes,
    header: str | None,
    *,
    now: float,
    tolerance_s: float = 300.0,
) -> bool:
    """Whether ``header`` is the signature of ``body`` at ``timestamp`` and is fresh.

    ``timestamp`` is the ``X-Gateway-Timestamp`` header as received (or its integer value),
    ``body`` the raw request body, ``now`` the receiver's clock in unix seconds. False when
    the timestamp is malformed or more than ``tolerance_s`` away from ``now`` (either way),
    when the header is missing or malformed, or when the MAC does not match. The comparison
    takes the same time wherever the first differing character is.
    """
    if isinstance(timestamp, str):
        if not _TIMESTAMP.fullmatch(timestamp):
            return False
        seconds = int(timestamp)
    else:
        seconds = timestamp
    if abs(now - seconds) > tolerance_s:
        return False
    if header is None:
        return False
    expected = sign(secret, timestamp, body).encode("ascii")
    try:
        received = header.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, received)
