"""What each kind of source is configured with, checked before anything is stored.

``config`` is kind-specific JSON and never holds a secret; the secret (Mastodon access
token, Bluesky app password, webhook secret) is given separately, as a value to encrypt or
as ``env:NAME``::

    rss       {"url"}                                                 no secret
    mastodon  {"base_url", "brand_account_id"?, "hashtag"?, "query"?,
               "publish"? (true), "max_visibility"? ("unlisted")}     secret: access token
    bluesky   {"service"? ("https://bsky.social"), "identifier",
               "query"?, "publish"? (true)}                           secret: app password
    webhook   {"reply_url"?}                                          secret: HMAC secret

``publish`` (Mastodon, Bluesky) makes the account the channel's publisher too; a webhook
source with ``reply_url`` delivers the channel's replies there, signed with its secret.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import httpx
import msgspec
from msgspec import Meta

from gateway.domain.source_errors import InvalidSource

_NO_CONTROL = "^[^\\x00-\\x1f\\x7f]*$"  # no NUL or other control character
Url = Annotated[str, Meta(min_length=1, max_length=2_000, pattern=_NO_CONTROL)]
Text = Annotated[str, Meta(min_length=1, max_length=500, pattern=_NO_CONTROL)]

DEFAULT_INTERVAL_S = {"rss": 300.0, "mastodon": 60.0, "bluesky": 60.0, "webhook": 300.0}
MAX_INTERVAL_S = 7 * 24 * 3600.0
SECRET_NAME = {"rss": None, "mastodon": "token", "bluesky": "app_password", "webhook": "secret"}
_A_KIND = {
    "rss": "an RSS",
    "mastodon": "a Mastodon",
    "bluesky": "a Bluesky",
    "webhook": "a webhook",
}
RESERVED_NAMES = frozenset({"demo"})  # the demo source's cursor is stored under "demo"
NAME_RULE = (
    "1-63 characters: lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"
)
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_CONTROL = re.compile("[\\x00-\\x1f\\x7f]")
MAX_SECRET_CHARS = 4_096  # as the API takes it
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class _Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class RssConfig(_Config, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: Url


class MastodonConfig(_Config, frozen=True, kw_only=True, forbid_unknown_fields=True):
    base_url: Url
    brand_account_id: (
        Annotated[str, Meta(min_length=1, max_length=64, pattern=_NO_CONTROL)] | None
    ) = None
    hashtag: Text | None = None
    query: Text | None = None
    publish: bool = True
    max_visibility: Literal["public", "unlisted", "private", "direct"] = "unlisted"


class BlueskyConfig(_Config, frozen=True, kw_only=True, forbid_unknown_fields=True):
    service: Url = "https://bsky.social"
    identifier: Text
    query: Text | None = None
    publish: bool = True


class WebhookConfig(_Config, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reply_url: Url | None = None


SourceConfig = RssConfig | MastodonConfig | BlueskyConfig | WebhookConfig
_TYPES: dict[str, type[SourceConfig]] = {
    "rss": RssConfig,
    "mastodon": MastodonConfig,
    "bluesky": BlueskyConfig,
    "webhook": WebhookConfig,
}


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidSource(f"source name {name!r} is not valid: {NAME_RULE}")
    if name in RESERVED_NAMES:
        raise InvalidSource(f"source name {name!r} is reserved; choose another")
    return name


def check_channel(channel: str) -> str:
    if not _NAME.fullmatch(channel):
        raise InvalidSource(f"channel {channel!r} is not valid: {NAME_RULE}")
    return channel


def parse_config(kind: str, config: dict[str, Any]) -> SourceConfig:
    """The kind's config Struct; ``InvalidSource`` saying what is wrong and what is taken."""
    kind_type = _TYPES.get(kind)
    if kind_type is None:
        raise InvalidSource(f"kind {kind!r} is not one of {', '.join(_TYPES)}")
    try:
        parsed = msgspec.convert(config, kind_type)
    except msgspec.ValidationError as exc:
        fields = ", ".join(kind_type.__struct_fields__)
        raise InvalidSource(
            f"config of {_A_KIND[kind]} source: {exc}; it takes: {fields}"
        ) from None
    _check(parsed)
    return parsed


def config_json(config: SourceConfig) -> dict[str, Any]:
    """The config as stored and shown: defaults filled in, unset options left out."""
    encoded: dict[str, Any] = msgspec.to_builtins(config)
    return {k: v for k, v in encoded.items() if v is not None}


def urls_of(config: SourceConfig) -> list[tuple[str, str]]:
    """(label, url) of every address the source or its publisher will contact."""
    if isinstance(config, RssConfig):
        return [("config.url", config.url)]
    if isinstance(config, MastodonConfig):
        return [("config.base_url", config.base_url)]
    if isinstance(config, BlueskyConfig):
        return [("config.service", config.service)]
    return [("config.reply_url", config.reply_url)] if config.reply_url else []


def publishes(config: SourceConfig) -> bool:
    """Whether the source is also its channel's publisher."""
    if isinstance(config, MastodonConfig | BlueskyConfig):
        return config.publish
    return isinstance(config, WebhookConfig) and config.reply_url is not None


def check_secret(kind: str, secret: str | None) -> None:
    wanted = SECRET_NAME[kind]
    if wanted is None and secret is not None:
        raise InvalidSource(f"{_A_KIND[kind]} source takes no secret; leave 'secret' out")
    if wanted is not None and not secret:
        raise InvalidSource(
            f"{_A_KIND[kind]} source needs its {wanted.replace('_', ' ')} in 'secret' "
            "(the value, stored encrypted, or env:VARIABLE to read it from the environment)"
        )
    if secret is not None and (len(secret) > MAX_SECRET_CHARS or _CONTROL.search(secret)):
        raise InvalidSource(
            f"the secret must be at most {MAX_SECRET_CHARS} characters, without line breaks "
            "or other control characters"
        )


def check_interval(interval_s: float, *, minimum: float) -> float:
    if not minimum <= interval_s <= MAX_INTERVAL_S:
        raise InvalidSource(
            f"interval_s must be between {minimum:g} and {MAX_INTERVAL_S:g} seconds, "
            f"not {interval_s:g}"
        )
    return interval_s


def _check(config: SourceConfig) -> None:
    for label, url in urls_of(config):
        _check_url(label, url)
    if isinstance(config, MastodonConfig):
        base = httpx.URL(config.base_url)
        if base.query or base.fragment:
            raise InvalidSource("config.base_url is the instance's address, without ?query or #")
        if config.brand_account_id is not None and not _ACCOUNT_ID.fullmatch(
            config.brand_account_id
        ):
            raise InvalidSource(
                "config.brand_account_id is the account's numeric id (the 'id' of "
                "GET /api/v1/accounts/verify_credentials), not its handle"
            )
        if config.hashtag is not None and not config.hashtag.strip().lstrip("#").strip():
            raise InvalidSource("config.hashtag must name a tag, e.g. acme")
        if config.hashtag is not None and any(c.isspace() for c in config.hashtag.strip()):
            raise InvalidSource("config.hashtag is one tag, without spaces")
    query = config.query if isinstance(config, MastodonConfig | BlueskyConfig) else None
    if query is not None and not query.strip():
        raise InvalidSource("config.query must not be blank")
    if isinstance(config, BlueskyConfig) and not config.identifier.strip().lstrip("@"):
        raise InvalidSource("config.identifier is the account's handle, e.g. acme.bsky.social")


def _check_url(label: str, url: str) -> None:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise InvalidSource(f"{label} {url!r} is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidSource(f"{label} {url!r} must be an absolute http:// or https:// URL")
    if parsed.userinfo:
        raise InvalidSource(
            f"{label} must not carry a user name or password; give the credential as the "
            "source's secret"
        )
