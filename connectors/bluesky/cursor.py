"""The Bluesky source's cursor: a high-water mark per path, as JSON the gateway stores.

Both APIs the source reads (listNotifications, searchPosts with ``sort=latest``) answer
newest first and page backwards in time with an opaque cursor. So the stored state per
path is not the API's cursor but a *mark*: the newest ``indexedAt`` already handed over and
the uris seen at exactly that instant (two items can share it). A fetch reads from the
newest item down and stops at the first page that reaches the mark.

When a fetch runs out of pages (``max_pages``) before reaching the mark, the gap is not
dropped: ``pending`` keeps the API cursor of the next page and the mark the fetch started
from (its newest item). The next fetch continues the catch-up from there, and only when it
reaches the old mark does the new mark take effect; items that arrived in between are read
from the top on the fetch after that. The very first fetch (no mark) reads at most
``max_pages`` pages and does not catch up older history.

Example (``"search"`` has the same shape; ``query`` resets it when the query changes)::

    {"v": 1, "query": "acme",
     "notifications": {"mark": {"at": "2025-03-14T09:30:00.123000Z", "uris": ["at://..."]},
                       "pending": null},
     "search": {"mark": null, "pending": null}}
"""

from __future__ import annotations

import msgspec

from connectors.bluesky.mapping import Entry, format_datetime, parse_datetime
from connectors.contract import PermanentError

VERSION = 1


class Mark(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    at: str  # RFC 3339 UTC: the newest indexedAt handed over
    uris: list[str]  # the uris indexed at exactly ``at``

    def covers(self, entry: Entry) -> bool:
        """Whether ``entry`` was handed over already (at or before this mark)."""
        at = parse_datetime(self.at)
        if at is None:  # decode_cursor refuses such marks
            return False
        return entry.indexed_at < at or (entry.indexed_at == at and entry.uri in self.uris)


class Pending(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    page: str  # the API cursor of the next page to read
    mark: Mark | None  # the mark to keep once the catch-up reaches the old one


class PathState(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mark: Mark | None = None
    pending: Pending | None = None


class SourceCursor(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    v: int = VERSION
    query: str | None = None
    notifications: PathState = PathState()
    search: PathState = PathState()


_decoder = msgspec.json.Decoder(SourceCursor)
_encoder = msgspec.json.Encoder()


def decode_cursor(cursor: str | None) -> SourceCursor:
    """The state in ``cursor`` (None: a fresh state); PermanentError if this source did
    not write it (reset the stored cursor to start over)."""
    if cursor is None:
        return SourceCursor()
    try:
        state = _decoder.decode(cursor)
    except msgspec.DecodeError as exc:
        raise PermanentError(f"not a bluesky source cursor: {exc}") from None
    if state.v != VERSION:
        raise PermanentError(f"bluesky source cursor version {state.v} is not {VERSION}")
    for path in (state.notifications, state.search):
        marks = [path.mark, path.pending.mark if path.pending else None]
        if any(m is not None and parse_datetime(m.at) is None for m in marks):
            raise PermanentError("bluesky source cursor has an unreadable mark")
    return state


def encode_cursor(state: SourceCursor) -> str:
    return _encoder.encode(state).decode()


def newest(mark: Mark | None, entry: Entry) -> Mark:
    """``mark`` moved up to ``entry`` if the entry is newer (or as new, another uri)."""
    at = parse_datetime(mark.at) if mark is not None else None
    if mark is None or at is None or entry.indexed_at > at:
        return Mark(at=format_datetime(entry.indexed_at), uris=[entry.uri])
    if entry.indexed_at == at and entry.uri not in mark.uris:
        return Mark(at=mark.at, uris=[*mark.uris, entry.uri])
    return mark
