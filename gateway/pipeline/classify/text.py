"""Text preparation shared by every classifier rule.

Typographic apostrophes become ``'``, URLs are removed (a ``?`` in a query string is not a
question, a word in a path is not a sentiment), whitespace runs collapse to one space (a
newline stays a sentence break). All rules run on that text, lower-cased by ``lower``.
"""

from __future__ import annotations

import re

_APOSTROPHES = ("\u2019", "\u2018", "\u02bc", "\uff07")
_ASCII_LOWER = str.maketrans({chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)})
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
WORD = re.compile(r"[\w']+")
# Prepared text has single spaces; the lookbehind follows the space so "re" can skip
# ahead to spaces and newlines instead of testing it at every position.
SENTENCE_BREAK = re.compile(r" (?<=[.!?] )|\n")


def prepare(text: str) -> str:
    """The text the rules read: apostrophes unified, URLs removed, whitespace collapsed."""
    for typographic in _APOSTROPHES:
        if typographic in text:
            text = text.replace(typographic, "'")
    if "://" in text or "www." in text or "WWW." in text:
        text = _URL.sub(" ", text)
    if "\n" not in text:
        return " ".join(text.split())
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def lower(text: str) -> str:
    """Lower case with the same length, so a span found here slices the original text."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)
