"""Term lexicons and the fast search that finds their terms in a text.

A lexicon maps a label to a regex body (lower case, matched against lower-cased prepared
text; a literal space means one whitespace character). Every match must start a word and
end one. A term is ignored when a negator of the language occurs in the three words before
it ("not disappointed", "no complaints", "couldn't help me"), except right after a "stop"
word ("won't stop crashing").

Python's ``re`` tries every branch of an alternation at every position, so one regex
holding a whole lexicon cost more than VADER itself. Instead each top-level alternative of
a term is compiled on its own, with an "anchor": a literal that every match of it contains.
One scan for all anchors of a ``LexiconSet`` (a trie-shaped regex) tells which few
alternatives can match at all and where their search needs to start.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from gateway.pipeline.classify.text import WORD

_KEYS = itertools.count()
_REACH = 80
_CLAUSE_MARK = re.compile(r"[,.;!?\n]")
"""How far before its anchor a match may start (longer than any prefix in our patterns)."""


class Alternative(msgspec.Struct, frozen=True, kw_only=True):
    key: int  # unique across lexicons
    anchor: str
    pattern: re.Pattern[str]


class Term(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    alternatives: tuple[Alternative, ...]


def _top_level(body: str) -> list[str]:
    """``body`` split at its top-level ``|``."""
    parts, depth, begin, i = [], 0, 0, 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            i += 1
        elif ch == "[":
            i = body.index("]", i + 1)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(body[begin:i])
            begin = i + 1
        i += 1
    parts.append(body[begin:])
    return parts


def _expand(alternative: str) -> list[str]:
    """An alternative that starts with a group, as one alternative per branch of that
    group: ``(?:a|b) c`` is ``a c`` and ``b c``, so each has a literal to anchor on."""
    if not alternative.startswith("(?:"):
        return [alternative]
    depth, i = 0, 0
    while i < len(alternative):
        ch = alternative[i]
        if ch == "\\":
            i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                break
        i += 1
    rest = alternative[i + 1 :]
    if rest[:1] in ("?", "*", "{", "+"):
        return [alternative]
    return [branch + rest for branch in _top_level(alternative[3:i])]


def _split(body: str) -> list[tuple[str, str]]:
    """``_anchored`` for each top-level alternative, leading groups expanded as needed."""
    found: list[tuple[str, str]] = []
    for alternative in _top_level(body):
        try:
            found += _anchored(alternative)
        except ValueError:
            expanded = _expand(alternative)
            if expanded == [alternative]:
                raise
            for branch in expanded:
                found += _split(branch)
    return found


def _anchored(body: str) -> list[tuple[str, str]]:
    """The top-level alternatives of ``body``, each with a literal every match contains.

    The literal is the longest run of characters outside groups, classes and escapes and
    not made optional by ``?``, ``*`` or ``{``; a space stays (prepared text has single
    spaces once line breaks are flattened). Raises ``ValueError`` for an alternative
    without one: spell such a term out per alternative.
    """
    found: list[tuple[str, str]] = []
    skeleton, begin, depth, i = "", 0, 0, 0
    while i <= len(body):
        ch = body[i] if i < len(body) else "|"
        if depth == 0 and ch == "|":
            anchor = max(skeleton.split("\0"), key=len)
            if not anchor.strip():
                raise ValueError(f"alternative needs a required literal: {body[begin:i]!r}")
            found.append((body[begin:i], anchor))
            skeleton, begin = "", i + 1
        elif ch == "\\":
            i += 1
            skeleton += "\0"
        elif ch == "[":
            i = body.index("]", i + 1)
            skeleton += "\0"
        elif ch in "()":
            depth += 1 if ch == "(" else -1
            skeleton += "\0"
        elif depth == 0 and ch in "?*{":
            skeleton = skeleton[:-1] + "\0"
            i = body.index("}", i) if ch == "{" else i
        else:
            literal = depth == 0 and (ch.isalnum() or ch in " '#@-_")
            skeleton += ch if literal else "\0"
        i += 1
    return found


def _trie(words: Iterable[str]) -> str:
    """A regex matching the longest of ``words`` that starts at a position, shaped as a
    trie so ``re`` tries one branch per possible next character, not one per word."""
    root: dict[str, dict[str, Any]] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + render(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return render(root)


def compile_terms(terms: Mapping[str, str]) -> tuple[Term, ...]:
    """Each label's body split into anchored alternatives, compiled."""
    return tuple(
        Term(
            label=label,
            alternatives=tuple(
                Alternative(
                    key=next(_KEYS),
                    anchor=anchor,
                    pattern=re.compile(rf"(?:{source})\b".replace(" ", r"\s")),
                )
                for source, anchor in _split(body)
            ),
        )
        for label, body in terms.items()
    )


class LexiconSet:
    """Named lexicons of one language, searched together by one anchor scan.

    ``negators``: words that cancel a term among the three words before it (a word ending
    in ``n't`` always does); ``stop_words``: words right before a term that keep it
    ("won't stop crashing" asserts the crashing).
    """

    def __init__(
        self,
        lexicons: Mapping[str, Mapping[str, str]],
        *,
        negators: Iterable[str],
        stop_words: Iterable[str] = (),
        intensifiers: str = "",
    ) -> None:
        self.lexicons = {name: compile_terms(terms) for name, terms in lexicons.items()}
        self._negators = frozenset(negators)
        self._stop_words = frozenset(stop_words)
        # "couldn't be more disappointed" intensifies, it does not negate
        self._intensifier = re.compile(rf"(?:{intensifiers})\s\S*$") if intensifiers else None
        anchor_keys: dict[str, list[int]] = {}
        self.by_key: dict[int, tuple[str, int, Term, re.Pattern[str]]] = {}
        for name, lexicon in self.lexicons.items():
            for order, term in enumerate(lexicon):
                for alternative in term.alternatives:
                    anchor_keys.setdefault(alternative.anchor, []).append(alternative.key)
                    self.by_key[alternative.key] = (name, order, term, alternative.pattern)
        # Every anchor that occurs where a longer one does is a prefix of it.
        self._occurring = {
            anchor: tuple(
                k for other, keys in anchor_keys.items() if anchor.startswith(other) for k in keys
            )
            for anchor in anchor_keys
        }
        self._scan = re.compile(f"(?=({_trie(anchor_keys)}))")

    def starts(self, lowered: str) -> dict[int, int]:
        """Where each alternative that can match ``lowered`` should start looking, by key."""
        starts: dict[int, int] = {}
        for match in self._scan.finditer(lowered.replace("\n", " ")):
            pos = max(0, match.start() - _REACH)
            for key in self._occurring[match.group(1)]:
                starts.setdefault(key, pos)  # the scan runs left to right: first is earliest
        return starts

    def find(
        self, name: str, lowered: str, starts: dict[int, int]
    ) -> list[tuple[str, re.Match[str]]]:
        """Each term's label and first match, in order of appearance (ties: lexicon order).

        ``starts`` comes from ``starts(lowered)``; an alternative missing there cannot
        match."""
        return self.find_all(lowered, starts).get(name, [])

    def find_all(
        self, lowered: str, starts: dict[int, int]
    ) -> dict[str, list[tuple[str, re.Match[str]]]]:
        """``find`` for every lexicon at once (one pass over ``starts``); a lexicon with no
        match is absent."""
        first: dict[str, dict[int, tuple[Term, re.Match[str]]]] = {}
        for key, pos in starts.items():
            lexicon, order, term, pattern = self.by_key[key]
            found = first.setdefault(lexicon, {})
            match = self._first(pattern, lowered, pos)
            if match is not None and (
                order not in found or match.start() < found[order][1].start()
            ):
                found[order] = (term, match)
        result: dict[str, list[tuple[str, re.Match[str]]]] = {}
        for lexicon, found in first.items():
            if found:
                ranked = sorted(found.items(), key=lambda item: (item[1][1].start(), item[0]))
                result[lexicon] = [(term.label, match) for _, (term, match) in ranked]
        return result

    def labels(self, name: str, lowered: str, starts: dict[int, int]) -> list[str]:
        return [label for label, _ in self.find(name, lowered, starts)]

    def _negated(self, lowered: str, start: int) -> bool:
        begin = max(0, start - 40)
        clause = begin - 1  # the last clause mark before the term, if any
        for mark in _CLAUSE_MARK.finditer(lowered, begin, start):
            clause = mark.start()
        before = WORD.findall(lowered, clause + 1, start)[-3:]
        if not any(w in self._negators or w.endswith("n't") for w in before):
            return False  # the common case: nothing to negate, no exception to check
        if before[-1] in self._stop_words:
            return False
        return not (
            self._intensifier is not None and self._intensifier.search(lowered, begin, start)
        )

    def _first(self, pattern: re.Pattern[str], lowered: str, pos: int) -> re.Match[str] | None:
        """The first match at or after ``pos`` that starts a word and is not negated."""
        while (match := pattern.search(lowered, pos)) is not None:
            start = pos = match.start()
            pos += 1
            if start > 0 and (lowered[start - 1].isalnum() or lowered[start - 1] == "_"):
                continue  # inside a word: "unbroken", "bestow"
            if not self._negated(lowered, start):
                return match
        return None
