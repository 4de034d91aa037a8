"""Plain text from the markup feeds carry, safe to store and show as text.

``plain_text`` treats every value as HTML, whatever type the feed declares: feeds often
label escaped HTML as plain text. Tags and comments are removed, script and style bodies
dropped, CDATA markers ignored (publishers double-wrap HTML), entities unescaped, block
elements become line breaks, runs of whitespace collapse to one space, blank lines are
dropped. Anything that still looks like a tag after unescaping (double-escaped markup,
or prose such as "the <blink> tag") is removed too, so no text we hand on can be mistaken
for markup; "3 < 5" survives, "a<b and c>d" does not. ``clean`` removes what a database
or a JSON encoder would refuse (NUL and other control characters, lone surrogates). None
of them ever raises.

The tokenizer is one regular expression whose alternatives start differently and whose
unclosed constructs run to the end of the input, so it takes time linear in the input:
``html.parser`` (CPython 3.11) needs tens of seconds for 100 KB of hostile markup.
"""

from __future__ import annotations

import html
import re

_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th",
        "tr", "ul",
    }
)  # fmt: skip
_SKIP = frozenset({"script", "style", "template", "noscript"})
_MARKUP = re.compile(
    r"""
    <!--.*?(?:-->|\Z)                               # comment
    | <!\[CDATA\[ | \]\]>                            # CDATA markers (double-wrapped HTML)
    | <[!?][^>]*(?:>|\Z)                            # declaration, processing instruction
    | <(?P<end>/?)(?P<name>[A-Za-z][^\s/>]*)        # tag, attributes quoted or not
      (?:[^>"']|"[^"]*(?:"|\Z)|'[^']*(?:'|\Z))*(?:>|\Z)
    """,
    re.S | re.X,
)
_CLOSERS = {name: re.compile(rf"</{name}\s*>", re.I) for name in _SKIP}
# C0 controls other than tab and newline, DEL, C1 controls, and lone surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_TAG_LIKE = re.compile(r"<[A-Za-z/!?][^<>]*>")


def clean(value: str) -> str:
    """``value`` without control characters (tab and newline kept) or lone surrogates."""
    return _UNSAFE.sub("", value)


def collapse(value: str) -> str:
    """``value`` on one line: whitespace runs become one space, ends trimmed, cleaned."""
    words = (clean(word) for word in value.split())
    return " ".join(word for word in words if word)


def plain_text(markup: str) -> str:
    """The text a reader sees in ``markup``: one line per block, no tags, no entities."""
    text = _TAG_LIKE.sub(" ", html.unescape(_strip_markup(markup)))
    lines = (collapse(line) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def _strip_markup(markup: str) -> str:
    """``markup`` with tags, comments and skipped elements removed; entities still escaped."""
    parts: list[str] = []
    position = 0
    while match := _MARKUP.search(markup, position):
        parts.append(markup[position : match.start()])
        position = match.end()
        name = (match.group("name") or "").lower()
        if name in _BLOCK:
            parts.append("\n")
        elif name in _SKIP and not match.group("end"):
            closer = _CLOSERS[name].search(markup, position)
            position = closer.end() if closer else len(markup)
    parts.append(markup[position:])
    return "".join(parts)
