"""Webhook signatures: what a receiver accepts and what it refuses."""

from __future__ import annotations

import hashlib
import hmac

from connectors.webhook import sign, verify_signature

SECRET = b"shared"
BODY = b'{"text":"hello"}'
TS = 1_741_944_600


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET, b"1741944600." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, TS, BODY) == f"sha256={expected}"
    assert sign(SECRET, str(TS), BODY) == sign(SECRET, TS, BODY)


def test_fresh_signature_verifies() -> None:
    header = sign(SECRET, TS, BODY)
    assert verify_signature(SECRET, str(TS), BODY, header, now=TS + 299)
    assert verify_signature(SECRET, TS, BODY, header, now=TS - 299)


def test_stale_or_future_timestamp_fails() -> None:
    header = sign(SECRET, TS, BODY)
    assert not verify_signature(SECRET, TS, BODY, header, now=TS + 301)
    assert not verify_signature(SECRET, TS, BODY, header, now=TS - 301)
    assert verify_signature(SECRET, TS, BODY, header, now=TS + 1000, tolerance_s=1000)


def test_tampered_body_wrong_secret_or_moved_timestamp_fails() -> None:
    header = sign(SECRET, TS, BODY)
    assert not verify_signature(SECRET, TS, BODY + b" ", header, now=TS)
    assert not verify_signature(b"other", TS, BODY, header, now=TS)
    assert not verify_signature(SECRET, TS + 1, BODY, header, now=TS)


def test_malformed_inputs_fail_without_raising() -> None:
    header = sign(SECRET, TS, BODY)
    assert not verify_signature(SECRET, TS, BODY, None, now=TS)
    assert not verify_signature(SECRET, TS, BODY, header.removeprefix("sha256="), now=TS)
    assert not verify_signature(SECRET, TS, BODY, "sha256=é", now=TS)
    assert not verify_signature(SECRET, "17e8", BODY, header, now=TS)
    assert not verify_signature(SECRET, "", BODY, header, now=TS)
