"""Record keys derived from the idempotency key: TID-shaped, stable, just after the parent."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from connectors.bluesky.rkey import reply_rkey, tid_encode, tid_timestamp

TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
PARENT = "at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3kaheyt6vpc22"


def test_a_real_post_key_decodes_to_its_creation_time() -> None:
    micros = tid_timestamp("3kaheyt6vpc22")
    assert micros is not None
    created = datetime(2023, 9, 28, 12, 49, 36, 735000, tzinfo=UTC).timestamp() * 1_000_000
    assert abs(micros - created) < 1_000_000


def test_encode_and_decode_round_trip() -> None:
    for micros, clock in ((0, 0), (1_741_944_600_123_456, 1023), ((1 << 53) - 1, 7)):
        tid = tid_encode(micros, clock)
        assert TID.fullmatch(tid)
        assert tid_timestamp(tid) == micros
    with pytest.raises(ValueError):
        tid_encode(1 << 53, 0)
    assert tid_timestamp("self") is None


def test_the_same_release_always_gets_the_same_key() -> None:
    assert reply_rkey("release-42", PARENT) == reply_rkey("release-42", PARENT)
    keys = {reply_rkey(f"release-{n}", PARENT) for n in range(1000)}
    assert len(keys) == 1000


def test_the_key_sorts_just_after_the_post_it_answers() -> None:
    parent_us = tid_timestamp("3kaheyt6vpc22")
    assert parent_us is not None
    for n in range(50):
        key = reply_rkey(f"release-{n}", PARENT)
        assert TID.fullmatch(key)
        micros = tid_timestamp(key)
        assert micros is not None
        assert parent_us < micros <= parent_us + (1 << 20) + 1


def test_a_parent_without_a_tid_key_still_gets_a_tid() -> None:
    key = reply_rkey("release-42", "at://did:plc:x/app.bsky.feed.post/not-a-tid")
    micros = tid_timestamp(key)
    assert micros is not None
    assert datetime(2023, 1, 1, tzinfo=UTC) <= datetime.fromtimestamp(micros / 1e6, UTC)
    assert datetime.fromtimestamp(micros / 1e6, UTC) < datetime(2023, 1, 15, tzinfo=UTC)
