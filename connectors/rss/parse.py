"""Feed bytes to mentions, with feedparser; pure (no I/O, no clock unless ``now`` is omitted).

``parse_feed`` is CPU work (feedparser takes about 15 ms for a typical feed): call it in a
worker thread from async code, as ``RssSource`` does. It reads RSS 0.9x/1.0/2.0, Atom
0.3/1.0 and CDF. A feed feedparser calls ill-formed ("bozo") is still used when entries
came out of it; the reason is kept in ``ParsedFeed.warnings``. How each entry's fields
are chosen is described in ``connectors.rss.entries``; entries with no text are skipped.

Every error is a ``FeedError`` (a ``PermanentError``: the same bytes will fail again),
whose message names the feed and says what is wrong with it.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import feedparser
import msgspec

from connectors.clock import aware as _aware
from connectors.contract import PermanentError, RawMention
from connectors.rss.entries import EntryMapper, field, first_time, get, http_url, rfc3339
from connectors.rss.text import collapse, plain_text, truncate

DEFAULT_MAX_TEXT_CHARS = 10_000
_MAX_TITLE_CHARS = 200
# A comment body cannot contain "-->", so each comment matches one way only: no backtracking
# blow-up on hostile input. Only the start of the document is looked at.
_HTML_START = re.compile(
    rb"\s*(?:<!--(?:(?!-->).)*-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.I | re.S
)
_SNIFF_BYTES = 64 * 1024


class FeedError(PermanentError):
    """The document is not a usable feed; the message names the feed and the problem."""


class ParsedFeed(msgspec.Struct, frozen=True, kw_only=True):
    """What one feed document holds, as mentions in document order."""

    title: str  # plain text, may be empty
    link: str | None  # the site the feed belongs to
    version: str  # feedparser's name for the format: "rss20", "atom10", "rss10", ...
    mentions: list[RawMention]
    skipped: int = 0  # entries with no text, or that could not be read
    warnings: list[str] = []  # why the feed was ill-formed, entries that could not be read


def parse_feed(
    content: bytes,
    *,
    url: str,
    content_type: str | None,
    channel: str = "rss",
    base_url: str | None = None,
    now: datetime | None = None,
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    label: str | None = None,
) -> ParsedFeed:
    """Parse one feed document into mentions.

    ``url`` is the feed's configured address: it names the feed in errors and qualifies
    ids. ``base_url`` is where the bytes came from after redirects (default ``url``);
    relative links resolve against it. ``content_type`` is the response's Content-Type
    (None: let the document's own XML declaration decide). ``now`` (aware, default the
    current time) dates entries that carry no date and neither does the feed. ``label``
    starts error messages (default ``"feed <url>"``).

    Raises ``FeedError`` when the document is empty, is not XML, is an HTML page, is XML
    but not a feed, or is ill-formed with no entries to salvage.
    """
    label = label or f"feed {url}"
    if not content.strip():
        raise FeedError(f"{label}: the response was empty")
    headers = {
        "content-location": base_url or url,
        # Without a type feedparser assumes text/plain and latin-1; XML lets the document say.
        "content-type": content_type or "application/xml",
    }
    try:
        # A BytesIO, never bytes: feedparser treats a bytes argument as a file name.
        # Its HTML sanitizer and relative-URI rewriting of embedded markup are off: we keep
        # only plain text (connectors.rss.text drops scripts and every tag, in linear
        # time), and both passes are quadratic on hostile markup (200 KB of "<!--" took
        # 26 s). Links in elements (<link>, <comments>) are still resolved.
        result: Any = feedparser.parse(
            io.BytesIO(content),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # a parser crash on odd input must not stop the poller
        raise FeedError(f"{label}: could not be parsed ({type(exc).__name__}: {exc})") from exc
    feed = _dict(get(result, "feed"))
    mapper = EntryMapper(
        url=url,
        channel=channel,
        feed=feed,
        fallback_time=first_time(feed, ("updated_parsed", "published_parsed"))
        or rfc3339(_aware(now) if now is not None else datetime.now(UTC)),
        max_text_chars=max_text_chars,
    )
    mentions: list[RawMention] = []
    problems: list[str] = []
    skipped = 0
    for index, entry in enumerate(_list(get(result, "entries"))):
        try:
            mention = mapper.mention(entry)
        except Exception as exc:  # one odd entry must not cost the whole feed
            problems.append(f"entry {index} could not be read: {type(exc).__name__}: {exc}")
            mention = None
        if mention is None:
            skipped += 1
        else:
            mentions.append(mention)
    warnings = _verdict(result, content, label, produced=bool(mentions))
    return ParsedFeed(
        title=truncate(plain_text(field(feed, "title")), _MAX_TITLE_CHARS),
        link=http_url(field(feed, "link")),
        version=field(result, "version"),
        mentions=mentions,
        skipped=skipped,
        warnings=warnings + problems,
    )


def _verdict(result: Any, content: bytes, label: str, *, produced: bool) -> list[str]:
    """Raise ``FeedError`` unless the document is a usable feed; return warnings about it.

    Usable: a recognised feed without complaints; or anything that gave mentions; or a
    recognised feed whose only complaints are about encoding or media type, or that has
    entries despite being ill-formed.
    """
    problem = get(result, "bozo_exception") if get(result, "bozo") else None
    is_feed = bool(field(result, "version"))
    if problem is None and is_feed:
        return []
    # feedparser's name for complaints about encodings and media types, not the XML.
    harmless = isinstance(problem, feedparser.ThingsNobodyCaresAboutButMe)
    has_entries = bool(_list(get(result, "entries")))
    if produced or (is_feed and (harmless or has_entries)):
        reason = _describe(problem) if problem is not None else "the format is not recognised"
        return [f"feed is not well-formed, used anyway: {reason}"]
    if _HTML_START.match(content[:_SNIFF_BYTES]):
        raise FeedError(
            f"{label}: the address serves an HTML page, not a feed; use the feed's own "
            "address (often linked from the page as RSS or Atom)"
        )
    if problem is None or harmless:
        raise FeedError(f"{label}: the document is not RSS or Atom (no feed elements found)")
    raise FeedError(
        f"{label}: the document is not well-formed XML and no entries could be read "
        f"from it ({_describe(problem)})"
    )


def _describe(problem: object) -> str:
    message = str(problem).removeprefix("<unknown>:")
    return collapse(f"{type(problem).__name__}: {message}")[:300]


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
