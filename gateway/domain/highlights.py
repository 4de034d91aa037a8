"""Which words of a text made the policy give a reason: spans to highlight.

The default policy names the words it found in its messages, in double quotes
(``The reply contains blocked wording ("idiot", "shut up"); rephrase it.``), as configured
(``"cease and desist"``) or as found (``"20% off"``, a link). Those quoted terms are
looked up in the text the way policies/engagement/text.rego matches term lists: whole
words, any case, a space in a term standing for any run of characters other than letters
and digits. A reason that names no words (an opt-out, a cap) has no spans. Pure: no I/O.
"""

from __future__ import annotations

import itertools
import re

import msgspec

from gateway.domain.decisions import Reason

_QUOTED = re.compile(r'"([^"\n]{1,200})"')
_GAP = r"[^0-9a-z]+"  # text.rego: a space in a term matches any run of non-alphanumerics
MAX_TERMS = 50  # per reason: a policy message is not a place for more
MAX_SPANS = 200  # per text


class Span(msgspec.Struct, frozen=True, kw_only=True):
    start: int  # code point offsets into the text, end exclusive
    end: int
    text: str


class Segment(msgspec.Struct, frozen=True, kw_only=True):
    """A run of the text and the codes of the reasons whose words it is (none: plain)."""

    text: str
    codes: tuple[str, ...] = ()


def quoted_terms(message: str) -> list[str]:
    """The terms a reason's message quotes, in order, each once."""
    seen: dict[str, None] = {}
    for match in _QUOTED.finditer(message):
        term = match.group(1).strip()
        if term:
            seen.setdefault(term, None)
    return list(seen)[:MAX_TERMS]


def _term_regex(term: str) -> re.Pattern[str]:
    words = term.split()
    body = _GAP.join(re.escape(w) for w in words)
    start = r"(?<![0-9a-z])" if re.match(r"[0-9a-z]", words[0], re.IGNORECASE) else ""
    end = r"(?![0-9a-z])" if re.search(r"[0-9a-z]$", words[-1], re.IGNORECASE) else ""
    return re.compile(start + body + end, re.IGNORECASE)


def term_spans(text: str, terms: list[str]) -> list[Span]:
    """Where ``terms`` occur in ``text`` as whole words, sorted, overlaps merged."""
    found: list[tuple[int, int]] = []
    for term in terms:
        if not term.split():
            continue
        for match in _term_regex(term).finditer(text):
            if match.end() > match.start():
                found.append((match.start(), match.end()))
            if len(found) >= MAX_SPANS:
                break
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return [Span(start=s, end=e, text=text[s:e]) for s, e in merged]


def reason_spans(reason: Reason, text: str) -> list[Span]:
    """The words of ``text`` that ``reason`` names."""
    return term_spans(text, quoted_terms(reason.message))


def segments(text: str, spans_by_code: dict[str, list[Span]]) -> list[Segment]:
    """``text`` cut at every span boundary, each piece with the codes covering it, so a
    page can mark the words without parsing anything (and escape every piece)."""
    cuts = {0, len(text)}
    for spans in spans_by_code.values():
        for span in spans:
            cuts.update((span.start, span.end))
    bounds = sorted(c for c in cuts if 0 <= c <= len(text))
    pieces: list[Segment] = []
    for start, end in itertools.pairwise(bounds):
        codes = tuple(
            code
            for code, spans in spans_by_code.items()
            if any(s.start <= start and end <= s.end for s in spans)
        )
        pieces.append(Segment(text=text[start:end], codes=codes))
    return pieces
