"""One canonical customer identity per channel: the rules, pure (no I/O).

Every part of the gateway that asks "is this the same customer?" (ingest, opt-outs,
caps and history, claims, erasure, export filters, the policy input) compares the
canonical identity this module computes, never a handle as it was typed.

Every spelling is first cleaned the same way (``clean``): Unicode NFKC (a full-width
at sign U+FF20 becomes ``@``), invisible characters removed (zero-width space/joiner/non-joiner,
BOM, soft hyphen, word joiner, bidirectional marks, variation selectors: anything in
Unicode category Cf, and the few default-ignorables outside it), surrounding white space
stripped, one leading ``@`` dropped, lower-cased. Then, per channel kind::

    mastodon  user@instance; a local account (no instance) gets the channel's instance
              appended; the instance without a trailing dot and in its IDNA (punycode)
              form. The account id the API gives is kept beside it (not the key:
              ids are local to the instance that served them).
    bluesky   the account's DID (handles change; the DID does not). A handle is kept for
              display and accepted as input: the store resolves it to the DID through the
              stored mentions (``is_did`` tells which one a canonical value is).
    rss       the entry's author as the feed names it (a name or an e-mail address);
              runs of white space collapse to one space, since names have spaces.
    webhook, demo, other channels
              the handle as the sender gives it, cleaned as above; no white space.

A value that cannot be an identity (empty once cleaned, control characters or NUL,
white space inside a handle, over ``MAX_CHARS``, a Mastodon handle that is not
user@instance, a Bluesky value that is neither a DID nor a domain-like handle) raises
``InvalidIdentity`` naming the field.

``suppression_key`` is the HMAC-SHA256 of (channel, canonical identity) under a server
key: the do-not-contact key that survives erasure and reveals nothing by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

Kind = Literal["mastodon", "bluesky", "rss", "webhook", "demo", "other"]
KINDS: tuple[str, ...] = ("mastodon", "bluesky", "rss", "webhook", "demo", "other")

MAX_CHARS = 320  # a 64-character user and a 253-character domain, with room to spare

# Default-ignorable code points outside category Cf (combining grapheme joiner, Hangul
# fillers, variation selectors): invisible, so they must not make two spellings differ.
_IGNORABLE = frozenset(
    (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, *range(0xFE00, 0xFE10))
) | frozenset(range(0xE0100, 0xE01F0))
_SPACES = re.compile(r"\s+")
_DID = re.compile(r"did:[a-z0-9]+:[a-z0-9._:%-]{1,2000}")
_DOMAIN_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_BSKY_HANDLE = re.compile(rf"{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})+")
_MASTODON_USER = re.compile(r"[\w.-]+")
_HOST = re.compile(r"[\w.-]+(?::[0-9]{1,5})?")


class InvalidIdentity(ValueError):
    """A value that cannot be a customer identity; the message names the field."""


class Scheme(msgspec.Struct, frozen=True, kw_only=True):
    """How one channel spells its customers: its kind, and for Mastodon the instance
    that local accounts belong to (None when the channel has no single instance)."""

    kind: Kind = "other"
    local_instance: str | None = None


class Identity(msgspec.Struct, frozen=True, kw_only=True):
    """A customer on a channel: ``id`` is the canonical identity (the key everywhere),
    ``handle`` the display form as the channel gave it, ``account_id`` the channel's own
    account id where it has one (Mastodon)."""

    channel: str
    id: str
    handle: str = ""
    account_id: str | None = None


ANY_CHANNEL = Scheme(kind="rss")  # the most lenient rules: for filters that name no channel


def scheme_for(channel: str, sources: list[tuple[str, str | None]]) -> Scheme:
    """The scheme of ``channel`` from its configured sources ((kind, instance host) each):
    Mastodon before Bluesky before the rest; without sources, the channel's own name if it
    is a kind (``mastodon``, ``bluesky``, ``rss``, ``webhook``, ``demo``)."""
    kinds = {kind for kind, _ in sources}
    if "mastodon" in kinds:
        hosts = {h.lower() for k, h in sources if k == "mastodon" and h}
        return Scheme(kind="mastodon", local_instance=hosts.pop() if len(hosts) == 1 else None)
    for kind in ("bluesky", "rss", "webhook"):
        if kind in kinds:
            return Scheme(kind=kind)
    if channel in KINDS:
        return Scheme(kind=channel)  # type: ignore[arg-type]
    return Scheme()


def clean(value: str) -> str:
    """NFKC, invisible characters removed, surrounding white space stripped."""
    text = unicodedata.normalize("NFKC", value)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf" and ord(c) not in _IGNORABLE)
    return text.strip()


def canonical_id(
    scheme: Scheme, value: str, *, field: str = "handle", instance: str | None = None
) -> str:
    """The canonical identity of ``value`` on a channel of ``scheme``.

    ``instance`` (Mastodon) overrides the scheme's local instance, e.g. the instance that
    served the status. For Bluesky the result is a DID or a handle (see ``is_did``).
    """
    text = _prepared(value, field, spaces=scheme.kind == "rss")
    if scheme.kind == "mastodon":
        return _mastodon(text, field, instance or scheme.local_instance)
    if scheme.kind == "bluesky":
        return _bluesky(text, field)
    return text


def is_did(canonical: str) -> bool:
    return canonical.startswith("did:")


def mention_identity(
    scheme: Scheme,
    channel: str,
    handle: str,
    channel_data: Mapping[str, Any],
    *,
    field: str = "author.handle",
) -> Identity:
    """The identity of a mention's author from what the connector delivered.

    Mastodon: the handle with the serving instance (``channel_data["instance"]``) for local
    accounts, the account id from ``channel_data["account_id"]``. Bluesky: the DID from
    ``channel_data["did"]`` when present, else the handle (the store may resolve it).
    """
    instance = _text(channel_data.get("instance"))
    if scheme.kind == "bluesky" and _text(channel_data.get("did")):
        canonical = canonical_id(scheme, _text(channel_data.get("did")) or "", field=field)
    else:
        canonical = canonical_id(scheme, handle, field=field, instance=instance)
    account = _text(channel_data.get("account_id")) if scheme.kind == "mastodon" else None
    return Identity(channel=channel, id=canonical, handle=clean(handle), account_id=account)


def suppression_key(key: bytes, *, channel: str, customer_id: str) -> str:
    """HMAC-SHA256 (hex) of the channel and the canonical identity under ``key``."""
    message = f"{channel}\x1f{customer_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _prepared(value: str, field: str, *, spaces: bool) -> str:
    if any(unicodedata.category(c) == "Cc" and not c.isspace() for c in value):
        raise InvalidIdentity(f"{field} contains a control character (NUL, escape, ...)")
    text = clean(value)
    if _SPACES.search(text):
        if not spaces:
            raise InvalidIdentity(f"{field} {_shown(value)} contains white space")
        text = _SPACES.sub(" ", text)
    if text.startswith("@"):
        text = text[1:]
    if not text:
        raise InvalidIdentity(f"{field} is empty once '@' and invisible characters are removed")
    if len(text) > MAX_CHARS:
        raise InvalidIdentity(
            f"{field} is {len(text)} characters long; an identity has at most {MAX_CHARS}"
        )
    return text.lower()


def _mastodon(text: str, field: str, instance: str | None) -> str:
    user, at, host = text.partition("@")
    if not at:
        if not instance:
            raise InvalidIdentity(
                f"{field} {_shown(text)} has no instance and this channel has no single "
                "Mastodon instance; give it as user@instance"
            )
        host = clean(instance).lower()
    host = _ascii_host(host)
    if not _MASTODON_USER.fullmatch(user) or not _HOST.fullmatch(host):
        raise InvalidIdentity(
            f"{field} {_shown(text)} is not a Mastodon handle; give it as user@instance"
        )
    return f"{user}@{host}"


def _ascii_host(host: str) -> str:
    """One spelling of an instance host: no trailing dot (``social.example.`` is the fully
    qualified name of ``social.example``) and Unicode labels in their IDNA (punycode) form,
    as Mastodon stores them (``bücher.example`` is ``xn--bcher-kva.example``)."""
    name, colon, port = host.removesuffix(".").partition(":")
    name = name.removesuffix(".")
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return host  # not a host name; the caller refuses it
    return f"{name}{colon}{port}"


def _bluesky(text: str, field: str) -> str:
    if _DID.fullmatch(text) or _BSKY_HANDLE.fullmatch(text):
        return text
    raise InvalidIdentity(
        f"{field} {_shown(text)} is neither a Bluesky handle (name.bsky.social) nor a DID"
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")
