"""The Bluesky publisher: one reply post per release, in the thread of the mention answered.

``publish`` creates an ``app.bsky.feed.post`` record in the session's repository with
``com.atproto.repo.createRecord``: ``reply.parent`` is the mention (``channel_data`` uri and
cid), ``reply.root`` its thread root (``root_uri``/``root_cid``; the parent when absent),
facets for links and for the ``@recipient`` (when ``channel_data`` has their ``did``), and
``langs`` if configured.

Idempotency: the record key is derived from the idempotency key (``connectors.bluesky.rkey``),
so a repeated attempt collides with the first post instead of posting again. When a create
fails in a way that may mean the record exists (a conflict, an "already exists" answer, a
5xx — the reference PDS answers 500 to a taken key — or no answer at all), the publisher
reads the key back with ``com.atproto.repo.getRecord``: if the post is there, the receipt
says ``duplicate=True``; if not, the original error is raised.

How failures map (no httpx exception escapes)::

    text empty, over 300 graphemes or 3,000 UTF-8 bytes    PermanentError (nothing sent)
    channel_data without the mention's uri/cid              PermanentError (nothing sent)
    429                                                     TransientError, retry_after from
                                                            Retry-After / ratelimit-reset
    5xx, timeout, connection failure (post not found)       TransientError
    InvalidRequest and other 4xx                            PermanentError
    the key holds a post answering another mention          PermanentError
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec

from connectors.bluesky.facets import reply_facets
from connectors.bluesky.mapping import (
    CHANNEL,
    POST_COLLECTION,
    format_datetime,
    parse_datetime,
    post_url,
)
from connectors.bluesky.rkey import reply_rkey
from connectors.bluesky.session import BlueskySession
from connectors.bluesky.xrpc import XrpcPermanentError, XrpcTransientError
from connectors.clock import aware as _aware
from connectors.contract import (
    ChannelLimits,
    OutgoingReply,
    PermanentError,
    PublishBudget,
    Receipt,
)
from connectors.graphemes import grapheme_count

MAX_GRAPHEMES = 300  # Bluesky's post limit, in the graphemes unit
MAX_UTF8_BYTES = 3000

_CREATE = "com.atproto.repo.createRecord"
_GET = "com.atproto.repo.getRecord"
_CONFLICT_ERRORS = frozenset({"RecordAlreadyExists", "AlreadyExists", "Conflict"})
_NOT_FOUND_ERRORS = frozenset({"RecordNotFound", "NotFound"})
_MAX_LANGS = 3


class _StrongRef(msgspec.Struct, frozen=True, kw_only=True):
    uri: str
    cid: str


class _Created(msgspec.Struct, frozen=True, kw_only=True):
    uri: str
    cid: str


class _ReplyRef(msgspec.Struct, frozen=True, kw_only=True):
    parent: _StrongRef


class _StoredPost(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    created_at: str = ""
    reply: _ReplyRef | None = None


class _Stored(msgspec.Struct, frozen=True, kw_only=True):
    uri: str
    value: _StoredPost


_created_decoder = msgspec.json.Decoder(_Created)
_stored_decoder = msgspec.json.Decoder(_Stored)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def check_text(text: str) -> None:
    """Raise PermanentError unless Bluesky would take ``text`` as a post."""
    if not text.strip():
        raise PermanentError("a Bluesky reply needs text")
    graphemes = grapheme_count(text)
    if graphemes > MAX_GRAPHEMES:
        raise PermanentError(f"reply is {graphemes} graphemes; Bluesky allows {MAX_GRAPHEMES}")
    size = len(text.encode())
    if size > MAX_UTF8_BYTES:
        raise PermanentError(f"reply is {size} bytes of UTF-8; Bluesky allows {MAX_UTF8_BYTES}")


class BlueskyPublisher:
    """A ``Publisher`` posting as the ``session``'s account; calls go through ``client``.

    ``langs``: up to three BCP 47 tags set on every reply (none by default). ``clock``
    must return aware datetimes (naive ones are taken as UTC).
    """

    limits = ChannelLimits(
        max_length=MAX_GRAPHEMES,
        length_unit="graphemes",
        max_bytes=MAX_UTF8_BYTES,
        rate_budget="5,000 points / hour",
    )
    # A post (createRecord) costs 3 of the 5,000 points an account may spend per hour.
    budget = PublishBudget(requests=5000 // 3, window_s=3600.0, concurrency=4)

    def __init__(
        self,
        session: BlueskySession,
        client: httpx.AsyncClient,
        *,
        channel: str = CHANNEL,
        langs: Sequence[str] = (),
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if len(langs) > _MAX_LANGS:
            raise ValueError(f"at most {_MAX_LANGS} langs")
        self.channel = channel
        self._session = session
        self._client = client
        self._langs = list(langs)
        self._clock = clock

    async def publish(self, reply: OutgoingReply) -> Receipt:
        parent, root = _refs(reply.channel_data)
        check_text(reply.text)
        repo = await self._session.ensure()
        rkey = reply_rkey(reply.idempotency_key, parent.uri)
        body = {
            "repo": repo,
            "collection": POST_COLLECTION,
            "rkey": rkey,
            "record": self._record(reply, parent, root),
        }
        try:
            response = await self._session.authorized_request(
                "POST", _CREATE, json=body, client=self._client
            )
        except (XrpcTransientError, XrpcPermanentError) as exc:
            if not _may_exist(exc):
                raise
            failure = exc
        else:
            return self._receipt(_decode_created(response.content), duplicate=False)
        existing = await self._stored(repo, rkey)
        if existing is None:
            raise failure
        if existing.value.reply is None or existing.value.reply.parent.uri != parent.uri:
            raise PermanentError(f"record key {rkey} holds a post that answers something else")
        return self._receipt(existing, duplicate=True)

    def _record(self, reply: OutgoingReply, parent: _StrongRef, root: _StrongRef) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": reply.text,
            "createdAt": _aware(self._clock())
            .astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "reply": {
                "root": {"uri": root.uri, "cid": root.cid},
                "parent": {"uri": parent.uri, "cid": parent.cid},
            },
        }
        did = reply.channel_data.get("did")
        mentions = {reply.recipient: did} if isinstance(did, str) and did else {}
        facets = reply_facets(reply.text, mentions)
        if facets:
            record["facets"] = facets
        if self._langs:
            record["langs"] = self._langs
        return record

    async def _stored(self, repo: str, rkey: str) -> _Stored | None:
        params = {"repo": repo, "collection": POST_COLLECTION, "rkey": rkey}
        try:
            response = await self._session.authorized_request(
                "GET", _GET, params=params, client=self._client
            )
        except XrpcPermanentError as exc:
            if exc.status == 404 or exc.error in _NOT_FOUND_ERRORS:
                return None
            raise
        try:
            return _stored_decoder.decode(response.content)
        except msgspec.DecodeError:
            raise XrpcTransientError(f"{_GET} answered an unreadable record") from None

    def _receipt(self, post: _Created | _Stored, *, duplicate: bool) -> Receipt:
        delivered = _aware(self._clock())
        if isinstance(post, _Stored):
            delivered = parse_datetime(post.value.created_at) or delivered
        return Receipt(
            channel=self.channel,
            external_id=post.uri,
            url=post_url(post.uri, self._session.handle),
            delivered_at=format_datetime(delivered),
            duplicate=duplicate,
        )


def _refs(channel_data: dict[str, Any]) -> tuple[_StrongRef, _StrongRef]:
    """The parent (the mention) and thread root refs; PermanentError when unusable."""
    uri, cid = channel_data.get("uri"), channel_data.get("cid")
    if not (isinstance(uri, str) and uri.startswith("at://") and isinstance(cid, str) and cid):
        raise PermanentError("channel_data lacks the Bluesky post's uri and cid to reply to")
    parent = _StrongRef(uri=uri, cid=cid)
    root_uri, root_cid = channel_data.get("root_uri"), channel_data.get("root_cid")
    if not (isinstance(root_uri, str) and root_uri.startswith("at://")):
        return parent, parent
    if not (isinstance(root_cid, str) and root_cid):
        return parent, parent
    return parent, _StrongRef(uri=root_uri, cid=root_cid)


def _may_exist(exc: XrpcTransientError | XrpcPermanentError) -> bool:
    """Whether the failed create may have left (or found) the record under our key."""
    if isinstance(exc, XrpcTransientError):
        return exc.status is None or exc.status == 408 or exc.status >= 500
    return exc.status == 409 or exc.error in _CONFLICT_ERRORS or "already exist" in str(exc).lower()


def _decode_created(content: bytes) -> _Created:
    try:
        return _created_decoder.decode(content)
    except msgspec.DecodeError:
        # The post exists (2xx) but we cannot name it: a retry finds it by its key.
        raise XrpcTransientError(f"{_CREATE} answered without uri and cid") from None
