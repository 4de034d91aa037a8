"""Mastodon's HTML (status content, profile notes) as plain text; pure, stdlib only.

Rules:

- ``<p>``, ``<blockquote>``, ``<pre>``, headings and lists are separated by a blank line;
  ``<br>`` and each ``<li>`` start a new line.
- A link becomes its text. Mastodon shortens the *visible* part of long URLs and keeps the
  rest in ``<span class="invisible">``; those spans are text too, so the whole URL comes
  back (``https://www.youtube.com/watch?v=…``).
- A mention link (``class="… mention"``, not ``hashtag``) becomes ``@acct`` when
  ``mentions`` knows its ``href`` (the status's ``mentions[].url``), or, failing that, when
  its text ``@name`` matches the username of exactly one known acct. Otherwise its text is
  kept (``@name``).
- Entities are unescaped; runs of whitespace collapse to one space (except inside
  ``<pre>``); ``<script>``/``<style>`` content is dropped; unknown tags are transparent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser

_BLOCKS = frozenset(
    {"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_DROPPED = frozenset({"script", "style"})
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_TRAILING = re.compile(r"[ \t]+\n")
_BLANK_RUNS = re.compile(r"\n{3,}")
_LEADING = re.compile(r"\n[ \t]+")


def html_to_text(content: str, mentions: Mapping[str, str] | None = None) -> str:
    """Plain text of Mastodon HTML ``content``.

    ``mentions`` maps a mentioned account's profile URL to its ``acct`` (``user`` for an
    account local to the instance, ``user@domain`` otherwise). Never raises for a ``str``.
    """
    parser = _TextParser(mentions or {})
    parser.feed(content)
    parser.close()
    return parser.text()


class _Link:
    __slots__ = ("href", "is_mention", "parts")

    def __init__(self, href: str, is_mention: bool) -> None:
        self.href = href
        self.is_mention = is_mention
        self.parts: list[str] = []


class _TextParser(HTMLParser):
    def __init__(self, mentions: Mapping[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self._mentions = mentions
        self._out: list[str] = []
        self._link: _Link | None = None
        self._pre = 0
        self._saw_pre = False
        self._dropped = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self._dropped += 1
        elif tag in ("br", "li"):
            self._emit("\n")
        elif tag in _BLOCKS:
            self._emit("\n\n")
            if tag == "pre":
                self._pre += 1
                self._saw_pre = True
        elif tag == "a" and self._link is None:
            found = dict(attrs)
            classes = (found.get("class") or "").split()
            is_mention = "mention" in classes and "hashtag" not in classes
            self._link = _Link(found.get("href") or "", is_mention)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._emit("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._dropped = max(0, self._dropped - 1)
        elif tag in _BLOCKS:
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            self._emit("\n\n")
        elif tag == "a" and self._link is not None:
            link, self._link = self._link, None
            self._emit(self._link_text(link))

    def handle_data(self, data: str) -> None:
        if self._dropped:
            return
        self._emit(data if self._pre else _SPACES.sub(" ", data))

    def text(self) -> str:
        if self._link is not None:  # an unclosed <a>: keep what it held
            link, self._link = self._link, None
            self._emit(self._link_text(link))
        raw = "".join(self._out)
        raw = _TRAILING.sub("\n", raw)
        if not self._saw_pre:
            raw = _LEADING.sub("\n", raw)
        return _BLANK_RUNS.sub("\n\n", raw).strip()

    def _emit(self, text: str) -> None:
        (self._link.parts if self._link is not None else self._out).append(text)

    def _link_text(self, link: _Link) -> str:
        text = "".join(link.parts).strip()
        if not link.is_mention:
            return text
        acct = self._mentions.get(link.href)
        if acct is None and text.startswith("@"):
            acct = _by_username(self._mentions.values(), text[1:])
        return f"@{acct}" if acct else text


def _by_username(accts: Iterable[str], shown: str) -> str | None:
    """The one acct whose user part is ``shown`` (a mention written ``@user``), else None."""
    user = shown.split("@", 1)[0].lower()
    if not user:
        return None
    found = {a for a in accts if a.split("@", 1)[0].lower() == user}
    if len(found) != 1:
        return None
    # "@user@domain" shown in full must agree with the acct found.
    only = found.pop()
    if "@" in shown and "@" in only and shown.lower() != only.lower():
        return None
    return only
