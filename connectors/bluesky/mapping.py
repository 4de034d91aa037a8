"""Pure mapping of Bluesky answers (listNotifications, searchPosts) to ``RawMention``.

``notifications_page`` and ``search_page`` take the raw JSON body of one page and return a
``Page``: one ``Entry`` per item that has a readable ``uri`` and ``indexedAt`` (so the
source can move its high-water mark past it), a ``RawMention`` on the entries that are
mentions, the API's paging cursor, and how many items were ``skipped`` as malformed. A body
that is not the page at all raises ``MalformedPage``.

One post becomes::

    channel       "bluesky"
    external_id   the post's at:// uri
    url           https://bsky.app/profile/<handle>/post/<rkey> (the DID if the handle is
                  "handle.invalid")
    author        handle "@<handle>" ("@<did>" for "handle.invalid"), displayName,
                  description (notifications carry the profile's; search results do not),
                  bot = a "bot" label on the profile (the self-label Bluesky shows as
                  "automated", or a labeler's), on the post, or a "bot" self-label in
                  the post record; a negated label does not count
    created_at    record.createdAt as RFC 3339 UTC; indexedAt when it is missing,
                  unreadable, or later than indexedAt (a future-dated post)
    in_reply_to   record.reply.parent.uri; thread_id record.reply.root.uri, else own uri
    addressed     True for notification reasons "mention"/"reply", for a mention facet of
                  the brand DID and for a reply to a post of the brand; otherwise False when
                  the post has facets (its mentions were resolved and none is the brand),
                  None when it has none (the gateway's text rules decide)
    visibility    "public" (Bluesky posts have no other audience)
    channel_data  {"uri", "cid", "root_uri", "root_cid", "did"}: the post's strong ref, its
                  thread root's (itself when it is not a reply), and the author's DID

Skipped (not mentions, not counted as malformed): notifications with other reasons and
the brand's own posts. Malformed (skipped and counted): an item or post record that does
not decode, a uri that is not an ``app.bsky.feed.post`` uri under a DID, a record whose
``$type`` is not ``app.bsky.feed.post``, an unreadable ``indexedAt``. NUL characters are
removed from texts (the gateway refuses them).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, datetime

import msgspec

from connectors.contract import RawAuthor, RawMention

CHANNEL = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
MENTION_FEATURE = "app.bsky.richtext.facet#mention"
ADDRESSING_REASONS = frozenset({"mention", "reply"})

_POST_URI = re.compile(
    r"at://(?P<did>did:[a-z]+:[A-Za-z0-9._:%-]+)/app\.bsky\.feed\.post/"
    r"(?P<rkey>[A-Za-z0-9._:~-]{1,512})"
)
_INVALID_HANDLE = "handle.invalid"


class MalformedPage(ValueError):
    """The body is not a page of the expected answer."""


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    uri: str
    indexed_at: datetime  # aware, UTC
    mention: RawMention | None  # None: not a mention (other reason, own post, malformed)


class Page(msgspec.Struct, frozen=True, kw_only=True):
    entries: list[Entry]
    cursor: str | None
    skipped: int  # malformed items


class _StrongRef(msgspec.Struct, frozen=True, kw_only=True):
    uri: str
    cid: str


class _ReplyRef(msgspec.Struct, frozen=True, kw_only=True):
    root: _StrongRef
    parent: _StrongRef


class _Feature(msgspec.Struct, frozen=True, kw_only=True):
    type: str = msgspec.field(name="$type", default="")
    did: str | None = None


class _Facet(msgspec.Struct, frozen=True, kw_only=True):
    features: list[_Feature] = []


class _Label(msgspec.Struct, frozen=True, kw_only=True):
    val: str
    neg: bool = False


class _SelfLabels(msgspec.Struct, frozen=True, kw_only=True):
    """A record's own labels (com.atproto.label.defs#selfLabels)."""

    values: list[_Label] = []


class _Post(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    type: str = msgspec.field(name="$type", default="")
    text: str
    created_at: str | None = None
    reply: _ReplyRef | None = None
    facets: list[_Facet] = []
    labels: _SelfLabels | None = None


class _Author(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    did: str
    handle: str
    display_name: str = ""
    description: str = ""
    labels: list[_Label] = []


class _Item(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A notification or a PostView: the fields both have that we use."""

    uri: str
    cid: str
    author: _Author
    record: msgspec.Raw
    indexed_at: str
    reason: str | None = None  # notifications only
    labels: list[_Label] = []  # labels on the post (labelers' and the author's own)


class _NotificationsBody(msgspec.Struct, frozen=True, kw_only=True):
    notifications: list[msgspec.Raw]
    cursor: str | None = None


class _SearchBody(msgspec.Struct, frozen=True, kw_only=True):
    posts: list[msgspec.Raw]
    cursor: str | None = None


_notifications_decoder = msgspec.json.Decoder(_NotificationsBody)
_search_decoder = msgspec.json.Decoder(_SearchBody)
_item_decoder = msgspec.json.Decoder(_Item)
_post_decoder = msgspec.json.Decoder(_Post)


def notifications_page(body: bytes, *, brand_did: str, reasons: Collection[str]) -> Page:
    """One page of ``app.bsky.notification.listNotifications``; mentions for ``reasons``."""
    try:
        decoded = _notifications_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedPage(f"not a listNotifications answer: {exc}") from None
    return _page(decoded.notifications, decoded.cursor, brand_did, reasons)


def search_page(body: bytes, *, brand_did: str) -> Page:
    """One page of ``app.bsky.feed.searchPosts``; every post not the brand's is a mention."""
    try:
        decoded = _search_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedPage(f"not a searchPosts answer: {exc}") from None
    return _page(decoded.posts, decoded.cursor, brand_did, None)


def parse_datetime(value: str) -> datetime | None:
    """An RFC 3339 date-time as an aware UTC datetime (no zone: UTC), or None."""
    if len(value) < 19 or value[10] not in "Tt":
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_datetime(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def post_url(uri: str, handle: str | None) -> str | None:
    """The bsky.app address of a post uri (by handle when known and valid, else DID)."""
    match = _POST_URI.fullmatch(uri)
    if match is None:
        return None
    who = handle if handle and handle != _INVALID_HANDLE else match["did"]
    return f"https://bsky.app/profile/{who}/post/{match['rkey']}"


def uri_authority(uri: str) -> str | None:
    """The DID that owns a post uri, or None when it is not a post uri."""
    match = _POST_URI.fullmatch(uri)
    return match["did"] if match is not None else None


def _page(
    raws: list[msgspec.Raw],
    cursor: str | None,
    brand_did: str,
    reasons: Collection[str] | None,
) -> Page:
    entries: list[Entry] = []
    skipped = 0
    for raw in raws:
        try:
            item = _item_decoder.decode(raw)
        except msgspec.DecodeError:
            skipped += 1
            continue
        indexed_at = parse_datetime(item.indexed_at)
        if indexed_at is None:
            skipped += 1
            continue
        wanted = reasons is None or item.reason in reasons
        mention = None
        if wanted and item.author.did != brand_did:
            mention = _mention(item, indexed_at, brand_did)
            if mention is None:
                skipped += 1
        entries.append(Entry(uri=item.uri, indexed_at=indexed_at, mention=mention))
    return Page(entries=entries, cursor=cursor or None, skipped=skipped)


def _mention(item: _Item, indexed_at: datetime, brand_did: str) -> RawMention | None:
    try:
        post = _post_decoder.decode(item.record)
    except msgspec.DecodeError:
        return None
    match = _POST_URI.fullmatch(item.uri)
    if post.type != POST_COLLECTION or match is None or match["did"] != item.author.did:
        return None
    created = parse_datetime(post.created_at) if post.created_at else None
    if created is None or created > indexed_at:
        created = indexed_at
    root = post.reply.root if post.reply else _StrongRef(uri=item.uri, cid=item.cid)
    author = item.author
    return RawMention(
        channel=CHANNEL,
        external_id=item.uri,
        url=post_url(item.uri, author.handle),
        author=RawAuthor(
            handle="@" + _clean(_who(author)),
            display_name=_clean(author.display_name),
            description=_clean(author.description),
            bot=_is_bot(item, post),
        ),
        text=_clean(post.text),
        created_at=format_datetime(created),
        in_reply_to=post.reply.parent.uri if post.reply else None,
        thread_id=root.uri,
        addressed=_addressed(item.reason, post, brand_did),
        visibility="public",
        channel_data={
            "uri": item.uri,
            "cid": item.cid,
            "root_uri": root.uri,
            "root_cid": root.cid,
            "did": author.did,
        },
    )


def _is_bot(item: _Item, post: _Post) -> bool:
    """A "bot" label on the profile or on the post, or a "bot" self-label in the post
    record; a negated label does not count."""
    self_labels = post.labels.values if post.labels else []
    labels = [*item.author.labels, *item.labels, *self_labels]
    return any(label.val == "bot" and not label.neg for label in labels)


def _addressed(reason: str | None, post: _Post, brand_did: str) -> bool | None:
    if reason in ADDRESSING_REASONS:
        return True
    mentioned = {
        feature.did
        for facet in post.facets
        for feature in facet.features
        if feature.type == MENTION_FEATURE
    }
    if brand_did in mentioned:
        return True
    if post.reply is not None and uri_authority(post.reply.parent.uri) == brand_did:
        return True
    return False if post.facets else None


def _who(author: _Author) -> str:
    return author.handle if author.handle != _INVALID_HANDLE else author.did


def _clean(text: str) -> str:
    return text.replace("\x00", "")
