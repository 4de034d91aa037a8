"""A ``Publisher`` that answers a Mastodon status with ``POST /api/v1/statuses``.

Scope ``write:statuses``. The request is JSON ``{"status", "in_reply_to_id", "visibility"}``
with the header ``Idempotency-Key: <reply.idempotency_key>``: Mastodon answers a repeated
key with the status it already created instead of posting again. It keeps keys for about
one hour, so a release retried later than that can post twice; the gateway's outbox claim
is what protects beyond that window. Mastodon gives no sign that an answer was a repeat,
so ``Receipt.duplicate`` is always False; ``delivered_at`` is the status's own
``created_at``, which a repeat reports unchanged.

What is sent:

- ``in_reply_to_id``: ``channel_data["status_id"]``, else ``reply.in_reply_to``. Status
  ids are local to an instance: a mention read from another instance (``channel_data
  ["instance"]``) is refused rather than answered with a wrong id.
- ``status``: the text, prefixed with ``@acct `` of the recipient unless the text already
  mentions them. Mastodon notifies, and shows a direct reply to, only the accounts a post
  mentions; without it the customer would not see the answer. A recipient on this
  instance is written ``@user`` (how Mastodon resolves local accounts); others
  ``@user@domain``. Nobody else from the conversation is mentioned. Mastodon counts a
  mention as ``@user`` only, so the prefix costs ``len("@user ")`` characters of
  ``limits.max_length``.
- ``visibility``: never wider than the customer's post (order public > unlisted >
  private > direct) nor than ``max_visibility`` (default ``unlisted``, which keeps
  support replies off public timelines and hashtag feeds)::

      customer's post      reply (before the max_visibility cap)
      public               public
      unlisted             unlisted
      private              direct   (a followers-only reply would reach the *brand's*
                                    followers, an audience the customer did not choose)
      direct               direct
      unknown / missing    direct

Errors (table in ``connectors.mastodon._http``): 429 and 5xx and timeouts are
``TransientError`` (retrying is safe: the key is the same), 422 is a ``PermanentError``
carrying Mastodon's text (e.g. "Validation failed: Text character limit of 500 exceeded"),
401/403 mean the token lacks ``write:statuses``. A 2xx answer we cannot read is a
``TransientError`` too: the retry, under the same key, returns the status.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import httpx
import msgspec

from connectors.clock import utc_now
from connectors.contract import (
    ChannelLimits,
    OutgoingReply,
    PermanentError,
    PublishBudget,
    Receipt,
    TransientError,
)
from connectors.mastodon import _http
from connectors.mastodon.mapping import CHANNEL, rfc3339

DEFAULT_MAX_LENGTH = 500
RATE_BUDGET = "300 requests / 5 min"
BUDGET = PublishBudget(requests=300, window_s=300.0, concurrency=4)
VISIBILITIES = ("public", "unlisted", "private", "direct")  # widest first
IDEMPOTENCY_HEADER = "Idempotency-Key"

_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_STATUS_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_USER = r"[a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?"
_DOMAIN = r"[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[0-9]+)?"
_RECIPIENT = re.compile(rf"@?(?P<user>{_USER})(?:@(?P<domain>{_DOMAIN}))?", re.IGNORECASE)
_MENTION = re.compile(
    rf"(?<![=/\w@])@(?P<user>{_USER})(?:@(?P<domain>{_DOMAIN}))?(?![\w@])", re.IGNORECASE
)
_REPLY_VISIBILITY = {
    "public": "public",
    "unlisted": "unlisted",
    "private": "direct",
    "direct": "direct",
}


class _Posted(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    created_at: str
    url: str | None = None
    uri: str | None = None


class _StatusesConfig(msgspec.Struct, frozen=True):
    max_characters: int = DEFAULT_MAX_LENGTH


class _Configuration(msgspec.Struct, frozen=True):
    statuses: _StatusesConfig = _StatusesConfig()


class _Instance(msgspec.Struct, frozen=True):
    configuration: _Configuration = _Configuration()


_posted = msgspec.json.Decoder(_Posted)
_instance = msgspec.json.Decoder(_Instance)


def reply_visibility(customer: str | None, ceiling: str = "public") -> str:
    """Our reply's visibility for a customer's post of visibility ``customer``, capped by
    ``ceiling`` (table in the module docstring)."""
    wanted = _REPLY_VISIBILITY.get(customer or "", "direct")
    return max(wanted, ceiling, key=VISIBILITIES.index)


def with_mention(text: str, recipient: str, *, instance: str) -> str:
    """``text`` starting with a mention of ``recipient`` unless it mentions them already.

    ``recipient`` is a handle (``@user@domain``, ``user@domain`` or ``@user`` for an
    account on ``instance``). Raises ``PermanentError`` when it is not a handle.
    """
    match = _RECIPIENT.fullmatch(recipient.strip())
    if match is None:
        raise PermanentError(f"recipient {recipient!r} is not a Mastodon handle")
    user = match["user"].lower()
    domain = (match["domain"] or instance).lower()
    for found in _MENTION.finditer(text):
        if found["user"].lower() == user and (found["domain"] or instance).lower() == domain:
            return text
    mention = f"@{match['user']}" if domain == instance else f"@{match['user']}@{domain}"
    return f"{mention} {text}"


async def instance_limits(
    base_url: str, client: httpx.AsyncClient, *, timeout_s: float = 10.0
) -> ChannelLimits:
    """The instance's limits from ``GET /api/v2/instance`` (public; no token needed).

    ``configuration.statuses.max_characters`` is the length limit; 500 when absent.
    """
    root = _http.instance_url(base_url)
    response = await _http.request(
        client, "GET", root.join("api/v2/instance"), token=None, time_limit=httpx.Timeout(timeout_s)
    )
    _http.check(
        response,
        doing="reading the instance configuration",
        auth_hint="the instance hides its configuration from anonymous clients",
        now=utc_now(),
    )
    try:
        found = _instance.decode(response.content)
    except msgspec.DecodeError as exc:
        raise TransientError(f"Mastodon sent an unreadable instance answer: {exc}") from exc
    return ChannelLimits(
        max_length=found.configuration.statuses.max_characters,
        length_unit="characters",
        rate_budget=RATE_BUDGET,
    )


class MastodonPublisher:
    """A ``Publisher`` posting replies as the account ``access_token`` belongs to.

    ``max_length`` is the instance's status limit (500 by default on Mastodon; read it
    with ``instance_limits``). ``max_visibility`` caps every reply (one of
    ``VISIBILITIES``). ``instance_domain`` overrides the domain of local accounts when it
    differs from the web host of ``base_url``.
    """

    def __init__(
        self,
        base_url: str,
        access_token: str,
        client: httpx.AsyncClient,
        *,
        channel: str = CHANNEL,
        max_length: int = DEFAULT_MAX_LENGTH,
        max_visibility: str = "unlisted",
        instance_domain: str | None = None,
        timeout_s: float = 10.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not access_token:
            raise ValueError("Mastodon access_token must not be empty")
        if max_visibility not in VISIBILITIES:
            raise ValueError(f"max_visibility must be one of {VISIBILITIES}")
        if max_length < 1:
            raise ValueError(f"max_length must be positive, got {max_length}")
        self.channel = channel
        self.limits = ChannelLimits(
            max_length=max_length, length_unit="characters", rate_budget=RATE_BUDGET
        )
        self.budget = BUDGET
        self._root = _http.instance_url(base_url)
        self._instance = (instance_domain or _http.instance_domain(self._root)).lower()
        self._token = access_token
        self._client = client
        self._max_visibility = max_visibility
        self._timeout = httpx.Timeout(timeout_s)
        self._clock = clock

    async def publish(self, reply: OutgoingReply) -> Receipt:
        if not _KEY.fullmatch(reply.idempotency_key):
            raise PermanentError("idempotency key must be 1-255 visible ASCII characters")
        body = {
            "status": with_mention(reply.text, reply.recipient, instance=self._instance),
            "in_reply_to_id": self._status_id(reply),
            "visibility": reply_visibility(_customer_visibility(reply), self._max_visibility),
        }
        response = await _http.request(
            self._client,
            "POST",
            self._root.join("api/v1/statuses"),
            token=self._token,
            time_limit=self._timeout,
            json=body,
            headers={IDEMPOTENCY_HEADER: reply.idempotency_key},
        )
        _http.check(
            response,
            doing="posting the reply",
            auth_hint="token invalid or lacks write:statuses scope",
            now=self._clock(),
        )
        return self._receipt(response)

    def _status_id(self, reply: OutgoingReply) -> str:
        data = reply.channel_data
        origin = data.get("instance")
        if isinstance(origin, str) and origin.lower() != self._instance:
            raise PermanentError(
                f"the mention was read on {origin}; its status id means nothing on {self._instance}"
            )
        status_id = data.get("status_id")
        if not isinstance(status_id, str) or not status_id:
            status_id = reply.in_reply_to
        if not _STATUS_ID.fullmatch(status_id):
            raise PermanentError(f"{status_id!r} is not a Mastodon status id")
        return status_id

    def _receipt(self, response: httpx.Response) -> Receipt:
        try:
            posted = _posted.decode(response.content)
            delivered_at = rfc3339(posted.created_at)
        except (msgspec.DecodeError, ValueError) as exc:
            raise TransientError(
                f"Mastodon accepted the reply but its answer is unreadable ({exc});"
                " a retry with the same Idempotency-Key returns the status"
            ) from exc
        return Receipt(
            channel=self.channel,
            external_id=posted.id,
            url=posted.url or posted.uri,
            delivered_at=delivered_at,
        )


def _customer_visibility(reply: OutgoingReply) -> str | None:
    """The customer's post's visibility; the narrower one if the reply and the stored
    channel data disagree (an unknown value counts as narrowest)."""
    stored = reply.channel_data.get("visibility")
    known = [v for v in (reply.visibility, stored) if isinstance(v, str) and v]
    if not known:
        return None
    return max(known, key=lambda v: VISIBILITIES.index(v) if v in VISIBILITIES else 99)
