"""A channel's contract says how it counts a reply's length, and counts it."""

from __future__ import annotations

import msgspec
import pytest

from connectors.contract import ChannelLimits

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one grapheme, five code points


def test_a_graphemes_channel_counts_what_a_reader_sees() -> None:
    limits = ChannelLimits(max_length=300, length_unit="graphemes")
    assert limits.length(f"Hi {FAMILY}") == 4
    assert limits.length("e\u0301\U0001f1eb\U0001f1f7") == 2  # accented e, a flag


def test_a_characters_channel_counts_code_points() -> None:
    assert ChannelLimits(max_length=500).length(f"Hi {FAMILY}") == 8


def test_an_unknown_unit_is_refused_where_limits_are_decoded() -> None:
    with pytest.raises(msgspec.ValidationError, match="length_unit"):
        msgspec.convert({"length_unit": "words"}, ChannelLimits)
