"""The reply length the policy sees is counted in the channel's own unit."""

from __future__ import annotations

from connectors.contract import ChannelLimits
from gateway.pipeline.policy_input import extract_links, reply_length

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one grapheme, five code points


def test_bluesky_counts_graphemes() -> None:
    limits = ChannelLimits(max_length=300, length_unit="graphemes")
    assert reply_length(f"Thanks {FAMILY}", limits) == 8
    assert reply_length("e\u0301", limits) == 1  # e + combining acute


def test_other_channels_count_characters() -> None:
    assert reply_length(f"Thanks {FAMILY}", None) == 12
    assert reply_length("abc", ChannelLimits(max_length=500)) == 3


def test_links_are_extracted_without_trailing_punctuation() -> None:
    text = "See https://acme.example/help/reset. Or www.acme.example/faq)"
    assert extract_links(text) == ["https://acme.example/help/reset", "www.acme.example/faq"]
