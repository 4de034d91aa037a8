"""Grapheme counting as Bluesky counts its 300-grapheme limit."""

from __future__ import annotations

import pytest

from connectors.bluesky import check_text, grapheme_count
from connectors.contract import PermanentError


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 0),
        ("hello", 5),
        ("\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", 1),  # family (ZWJ)
        ("\U0001f3f3\ufe0f\u200d\U0001f308", 1),  # rainbow flag: variation selector + ZWJ
        ("\U0001f44d\U0001f3fd", 1),  # thumbs up, skin tone
        ("\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea", 2),  # two flags
        ("\U0001f1eb\U0001f1f7\U0001f1e9", 2),  # a flag and a lone regional indicator
        ("1\ufe0f\u20e3", 1),  # keycap
        ("\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 1),  # Scotland
        ("e\u0301", 1),  # combining accent
        ("\u1100\u1161\u11a8", 1),  # Hangul jamo L V T
        ("\ud55c\uad6d\uc5b4", 3),  # precomposed Hangul
        ("\r\n", 1),
        ("\n\n", 2),
        ("\u0915\u094d\u0937", 1),  # Devanagari conjunct KSSA
        ("\u0928\u092e\u0938\u094d\u0924\u0947", 3),  # "namaste"
        ("\u0e01\u0e33", 1),  # Thai SARA AM joins
        ("\U0001f600\u200d", 1),  # a trailing ZWJ joins the emoji
        ("a\u200db", 2),  # ZWJ between letters does not join them
    ],
)
def test_counts_extended_grapheme_clusters(text: str, count: int) -> None:
    assert grapheme_count(text) == count


def test_the_limit_is_300_graphemes_not_300_code_points() -> None:
    emoji = "\U0001f44d\U0001f3fd"
    check_text(emoji * 100 + "a" * 200)  # 400 code points, 300 graphemes
    with pytest.raises(PermanentError, match="301 graphemes"):
        check_text(emoji * 101 + "a" * 200)
