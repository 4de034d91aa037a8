"""One feedparser entry to one ``RawMention``; pure.

How the fields are chosen::

    external_id   id / guid, else link, else "sha256:" + digest of feed url, title, date
                  and text; an id that is not a URI is qualified as "<feed url>#<id>" so
                  two feeds in one channel cannot collide; over 1,000 characters: digest
    url           the entry's http(s) link (relative links resolved against the feed)
    author        the entry's author, else the feed's author, else the feed title, else
                  the feed's host; handle lower-cased on one line, display_name as written.
                  RSS "email (Name)" / "Name <email>" give the name; a bare email is used
                  unless it is a no-reply address
    text          title and content (else summary) as plain text, the title dropped when
                  the body starts with it; at most ``max_text_chars``
    created_at    published, else updated, else the feed's updated time, else ``now``;
                  RFC 3339 UTC ("2024-05-01T12:00:00Z")
    thread_id     the page the discussion lives on, without its fragment: the entry's
                  <comments> link, else its Atom rel="replies" HTML link, else the feed's
                  page when the entry links to an anchor on it (comments feeds), else the
                  page its thr:in-reply-to points at; None when the feed says nothing
    in_reply_to   the thr:in-reply-to ref (RFC 4685), qualified like external_id

Values are read with ``dict.get`` on feedparser's dicts: ``FeedParserDict.get`` maps some
keys to others (``updated`` falls back to ``published``) and warns when it does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag, urlsplit

import msgspec

from connectors.contract import RawAuthor, RawMention
from connectors.rss.text import clean, collapse, plain_text, truncate

_MAX_ID_CHARS = 1_000
_MAX_NAME_CHARS = 200
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_UNSAFE_URL = re.compile(r"[\s\x00-\x1f\x7f\ud800-\udfff]")
# Neither part may hold brackets, so a string splits one way only (no backtracking blow-up).
_PAIR = re.compile(r"([^()<>]+?)\s*[(<]\s*([^()<>]+?)\s*[)>]")
_MAX_AUTHOR_CHARS = 500
_NO_REPLY = re.compile(r"(no-?reply|do-?not-?reply|nobody)@", re.I)


class EntryMapper(msgspec.Struct, frozen=True, kw_only=True):
    """Maps the entries of one feed; ``fallback_time`` dates entries without a date."""

    url: str  # the feed's configured address
    channel: str
    feed: dict[str, Any]  # feedparser's ``feed`` dict
    fallback_time: str
    max_text_chars: int

    def mention(self, entry: dict[str, Any]) -> RawMention | None:
        """The entry as a mention, or None when it has no text."""
        text = _entry_text(entry, self.max_text_chars)
        if not text:
            return None
        link = http_url(field(entry, "link"))
        reply_ref, reply_href = _in_reply_to(entry)
        return RawMention(
            channel=self.channel,
            external_id=self._external_id(entry, link, text),
            url=link,
            author=self._author(entry),
            text=text,
            created_at=first_time(entry, ("published_parsed", "updated_parsed"))
            or self.fallback_time,
            in_reply_to=self._qualified(reply_ref) if reply_ref else None,
            thread_id=self._thread_id(entry, link, reply_href),
            visibility="public",
            channel_data={"feed_url": self.url},
        )

    def _external_id(self, entry: dict[str, Any], link: str | None, text: str) -> str:
        given = clean(field(entry, "id")).strip() or (link or "")
        if given:
            return self._qualified(given)
        date = field(entry, "published") or field(entry, "updated")
        return _digest(self.url, field(entry, "title"), date, text)

    def _qualified(self, given: str) -> str:
        given = clean(given).strip()
        qualified = given if _URI.fullmatch(given) else f"{self.url}#{given}"
        return qualified if len(qualified) <= _MAX_ID_CHARS else _digest(self.url, given)

    def _author(self, entry: dict[str, Any]) -> RawAuthor:
        name = (
            _person(entry)
            or _person(self.feed)
            or plain_text(field(self.feed, "title"))
            or (urlsplit(self.url).hostname or self.url)
        )
        display = truncate(collapse(name), _MAX_NAME_CHARS)
        return RawAuthor(handle=display.lower(), display_name=display)

    def _thread_id(
        self, entry: dict[str, Any], link: str | None, reply_href: str | None
    ) -> str | None:
        for candidate in (field(entry, "comments"), _replies_page(entry)):
            page = _page(candidate)
            if page:
                return page
        feed_page = _page(field(self.feed, "link"))
        if link and feed_page and urldefrag(link).fragment and _page(link) == feed_page:
            return feed_page
        return _page(reply_href or "")


def first_time(item: dict[str, Any], keys: Iterable[str]) -> str | None:
    """The first of ``keys`` holding a usable time (a UTC struct_time), as RFC 3339."""
    for key in keys:
        parsed: Any = get(item, key)
        try:
            year, month, day, hour, minute, second = (int(part) for part in parsed[:6])
            # struct_time allows leap seconds (60, 61); datetime does not.
            moment = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        return rfc3339(moment)
    return None


def rfc3339(moment: datetime) -> str:
    """``moment`` (aware) in UTC, to the second, four-digit year: "0999-01-01T00:00:00Z"."""
    moment = moment.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


def http_url(value: str) -> str | None:
    """``value`` if it is an absolute http(s) URL fit to store and show, else None."""
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if len(value) > _MAX_ID_CHARS or _UNSAFE_URL.search(value):
        return None
    return value


def get(item: object, key: str) -> object:
    """``item[key]`` read from the dict itself (see the module docstring), or None."""
    return dict.get(item, key) if isinstance(item, dict) else None


def field(item: object, key: str) -> str:
    """``item[key]`` when it is a string, else ""."""
    value = get(item, key)
    return value if isinstance(value, str) else ""


def _entry_text(entry: dict[str, Any], limit: int) -> str:
    title = plain_text(field(entry, "title"))
    body = ""
    contents = get(entry, "content")
    if isinstance(contents, list):
        body = max((plain_text(field(part, "value")) for part in contents), key=len, default="")
    if not body:
        body = plain_text(field(entry, "summary"))
    if _repeats(body, title):
        title = ""  # microblog-style feeds repeat the text (or its start) as the title
    return truncate("\n".join(part for part in (title, body) if part), limit)


def _repeats(body: str, title: str) -> bool:
    """Whether ``body`` starts with ``title`` (less a trailing ellipsis) as whole words."""
    stem = title.rstrip(".… ")
    if not stem or not body.startswith(stem):
        return False
    rest = body[len(stem) :]
    return not rest or not rest[0].isalnum()


def _person(item: dict[str, Any]) -> str:
    # feedparser splits RSS "email (Name)" itself, but its pattern only knows 2-4 letter
    # top-level domains ("a@b.example (Name)" gives the name "ple (Name"), so split here.
    name, email = _split_author(field(item, "author"))
    if not name and not email:
        detail = get(item, "author_detail")
        name, email = collapse(field(detail, "name")), collapse(field(detail, "email"))
    name = plain_text(name)
    if name:
        return name
    return email if email and not _NO_REPLY.match(email) else ""


def _split_author(raw: str) -> tuple[str, str]:
    """(name, email) from "email (Name)", "Name (email)", "Name <email>", "email", "Name"."""
    raw = collapse(raw[:_MAX_AUTHOR_CHARS])
    match = _PAIR.fullmatch(raw)
    if match:
        left, inner = match.groups()
        if _is_email(left):
            return inner, left
        if _is_email(inner):
            return left, inner
    return ("", raw) if _is_email(raw) else (raw, "")


def _is_email(value: str) -> bool:
    return "@" in value and not any(char.isspace() for char in value)


def _in_reply_to(entry: dict[str, Any]) -> tuple[str | None, str | None]:
    """The (ref, href) of the entry's thr:in-reply-to, when it has one."""
    # feedparser keys unknown namespaces by the document's prefix ("thr_in-reply-to").
    for key, value in entry.items():
        if isinstance(key, str) and key.endswith("in-reply-to") and isinstance(value, dict):
            return collapse(field(value, "ref")) or None, collapse(field(value, "href")) or None
    return None, None


def _replies_page(entry: dict[str, Any]) -> str:
    links = get(entry, "links")
    for link in links if isinstance(links, list) else []:
        if field(link, "rel") == "replies" and field(link, "type") == "text/html":
            return field(link, "href")
    return ""


def _page(url: str) -> str | None:
    return http_url(urldefrag(url.strip()).url)


def _digest(*parts: str) -> str:
    data = "\n".join(parts).encode("utf-8", "surrogatepass")
    return "sha256:" + hashlib.sha256(data).hexdigest()
