"""Mastodon JSON to ``RawMention``: decoding and mapping, pure (no I/O).

The Structs describe only the fields we read; unknown fields are ignored because Mastodon
(and other servers speaking its API) add fields release after release. A page is decoded
entry by entry: an entry that does not fit (wrong types, a missing field, a notification
whose status was deleted, an unreadable time) is skipped and counted, never fatal; a body
that is not the expected JSON container at all raises ``PayloadError``.

How a status maps (``status_to_mention``)::

    external_id      status id (ids are local to the instance that served them)
    url              status url, else its ActivityPub uri
    author.handle    "@" + acct, with "@<instance>" appended for local accounts (their
                     acct has no domain)
    author.display_name  display_name, else the username (as Mastodon shows it)
    author.bot       account.bot
    author.description   the profile note as text (where people write "#nobot")
    text             content as text; a content warning (spoiler_text) comes first, on
                     its own paragraph, because it often names the topic
    created_at       RFC 3339, UTC, milliseconds
    in_reply_to      in_reply_to_id
    thread_id        in_reply_to_id, else the status's own id. One status does not tell
                     the root of its thread (that needs GET /statuses/:id/context); the
                     parent is the best stable key we have.
    addressed        True for a mention notification, or when the brand account is in
                     ``mentions`` or is ``in_reply_to_account_id``; False when the brand
                     account id is known and neither holds; None when it is unknown
    is_direct        visibility == "direct"
    channel_data     {"status_id", "account_id", "visibility", "instance"}
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Generic, TypeVar

import msgspec

from connectors.contract import RawAuthor, RawMention
from connectors.mastodon.html import html_to_text

CHANNEL = "mastodon"

T = TypeVar("T")


class PayloadError(ValueError):
    """A body that is not the JSON shape the endpoint documents."""


class Account(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    username: str
    acct: str
    display_name: str = ""
    bot: bool = False
    note: str = ""
    url: str | None = None


class MentionedAccount(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    acct: str
    username: str = ""
    url: str = ""


class Status(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    created_at: str
    account: Account
    visibility: str
    content: str = ""
    spoiler_text: str = ""
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    url: str | None = None
    uri: str | None = None
    mentions: list[MentionedAccount] = []


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    type: str
    created_at: str
    account: Account
    status: Status | None = None


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One decoded page: the usable entries, the ids of all entries (usable or not, so a
    cursor can move past a broken one) and how many were skipped."""

    items: list[T]
    ids: list[str]
    skipped: int


class _Identified(msgspec.Struct, frozen=True):
    id: str


class _SearchResults(msgspec.Struct, frozen=True):
    statuses: list[msgspec.Raw] = []


_list = msgspec.json.Decoder(list[msgspec.Raw])
_search = msgspec.json.Decoder(_SearchResults)
_identified = msgspec.json.Decoder(_Identified)
_notification = msgspec.json.Decoder(Notification)
_status = msgspec.json.Decoder(Status)


def decode_notifications(body: bytes) -> Page[Notification]:
    """A page of ``GET /api/v1/notifications``; only mentions with a status are kept."""
    entries = _entries(body)
    page = _decode_each(entries, _notification)
    kept = [n for n in page.items if n.type == "mention" and n.status is not None]
    return Page(items=kept, ids=page.ids, skipped=page.skipped + len(page.items) - len(kept))


def decode_statuses(body: bytes) -> Page[Status]:
    """A page of statuses (``GET /api/v1/timelines/tag/:hashtag``)."""
    return _decode_each(_entries(body), _status)


def decode_search(body: bytes) -> Page[Status]:
    """The ``statuses`` of ``GET /api/v2/search``."""
    try:
        results = _search.decode(body)
    except msgspec.DecodeError as exc:
        raise PayloadError(f"search answer is not a JSON object with statuses: {exc}") from exc
    return _decode_each(results.statuses, _status)


def status_to_mention(
    status: Status,
    *,
    instance: str,
    brand_account_id: str | None = None,
    notified: bool = False,
    channel: str = CHANNEL,
) -> RawMention:
    """The ``RawMention`` for ``status`` (rules in the module docstring).

    ``instance`` is the domain of the instance that served it (for local handles);
    ``notified`` says it came as a mention notification of the brand account. Raises
    ``ValueError`` when ``created_at`` is not a time.
    """
    mentions = {m.url: m.acct for m in status.mentions if m.url}
    text = html_to_text(status.content, mentions)
    if status.spoiler_text.strip():
        text = f"{status.spoiler_text.strip()}\n\n{text}".strip()
    return RawMention(
        channel=channel,
        external_id=status.id,
        url=status.url or status.uri or None,
        author=author_of(status.account, instance=instance),
        text=text,
        created_at=rfc3339(status.created_at),
        in_reply_to=status.in_reply_to_id,
        thread_id=status.in_reply_to_id or status.id,
        addressed=_addressed(status, brand_account_id, notified),
        is_direct=status.visibility == "direct",
        visibility=status.visibility,
        channel_data={
            "status_id": status.id,
            "account_id": status.account.id,
            "visibility": status.visibility,
            "instance": instance,
        },
    )


def author_of(account: Account, *, instance: str) -> RawAuthor:
    return RawAuthor(
        handle=handle(account.acct, instance=instance),
        display_name=account.display_name or account.username,
        bot=account.bot,
        description=html_to_text(account.note),
    )


def handle(acct: str, *, instance: str) -> str:
    """``@user@domain`` for an acct (``user`` on ``instance``, or ``user@domain``)."""
    acct = acct.lstrip("@")
    return f"@{acct}" if "@" in acct else f"@{acct}@{instance}"


def rfc3339(value: str) -> str:
    """``value`` (ISO 8601 with an offset or ``Z``) as RFC 3339 UTC with milliseconds."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"time without an offset: {value!r}")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def id_order(status_id: str) -> tuple[int, str]:
    """Sort key for Mastodon ids: numeric strings (and same-length flake ids) in order."""
    return (len(status_id), status_id)


def _addressed(status: Status, brand_account_id: str | None, notified: bool) -> bool | None:
    if notified:
        return True
    if brand_account_id is None:
        return None
    if status.in_reply_to_account_id == brand_account_id:
        return True
    return any(m.id == brand_account_id for m in status.mentions)


def _entries(body: bytes) -> list[msgspec.Raw]:
    try:
        return _list.decode(body)
    except msgspec.DecodeError as exc:
        raise PayloadError(f"answer is not a JSON array: {exc}") from exc


def _decode_each(entries: list[msgspec.Raw], decoder: msgspec.json.Decoder[T]) -> Page[T]:
    items: list[T] = []
    ids: list[str] = []
    skipped = 0
    for raw in entries:
        try:
            item = decoder.decode(raw)
        except msgspec.DecodeError:
            skipped += 1
            with contextlib.suppress(msgspec.DecodeError):  # no id: nothing to move past
                ids.append(_identified.decode(raw).id)
            continue
        items.append(item)
        ids.append(getattr(item, "id", ""))
    return Page(items=items, ids=[i for i in ids if i], skipped=skipped)
