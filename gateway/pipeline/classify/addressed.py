"""Addressed: did the author speak to the brand, and by which evidence.

In order of precedence: ``connector_addressed=True`` (the connector resolved the mention
structurally) > ``is_direct`` > a reply to a brand handle > an @-mention of a brand handle
in the text. ``connector_addressed=False`` means the connector resolved the post's mentions
and none is the brand, so the textual @-mention heuristic is skipped; replies and direct
messages still count. Handles compare case-insensitively with the leading ``@`` optional.
A handle configured with a domain (``acme@mastodon.example``) matches
``@acme@mastodon.example`` and the bare ``@acme`` (how a local mention is written on its
instance); a handle configured without one (``@acme``, ``acme.bsky.social``) matches only
the bare form, never ``@acme@elsewhere.example``, which is another account. A mention must
be the whole handle: ``@acme`` does not match ``@acmetools`` or ``@acme_support``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gateway.domain.classification import Addressed

# The lookbehind comes after the "@" so the scan jumps from "@" to "@" instead of running
# at every position: an "@" after a word character, "@" or "/" is an address or a URL.
_MENTION = re.compile(
    r"@(?<![\w@/]@)(?P<user>\w+(?:[.-]\w+)*)(?:@(?P<domain>[\w-]+(?:\.[\w-]+)+))?"
)
_HANDLE = re.compile(r"@?(?P<user>\w+(?:[.-]\w+)*)(?:@(?P<domain>[\w-]+(?:\.[\w-]+)+))?")


def _parse_handle(raw: str) -> tuple[str, str | None] | None:
    match = _HANDLE.fullmatch(raw.strip().lower())
    if match is None:
        return None
    return match["user"], match["domain"]


class BrandHandles:
    """The brand's accounts, e.g. ``["@acme", "acme@mastodon.example", "acme.bsky.social"]``.

    Raises ``ValueError`` for a string that is not a handle and ``TypeError`` when given one
    string instead of a sequence of them.
    """

    def __init__(self, brand_handles: Sequence[str]) -> None:
        if isinstance(brand_handles, str):
            raise TypeError("brand_handles must be a sequence of handles, not one string")
        self._qualified: dict[tuple[str, str], str] = {}
        self._bare: dict[str, str] = {}
        same_instance: dict[str, str] = {}
        for raw in brand_handles:
            parsed = _parse_handle(raw)
            if parsed is None:
                raise ValueError(f"not a handle: {raw!r} (expected @user or user@domain)")
            user, domain = parsed
            if domain is None:
                self._bare.setdefault(user, f"@{user}")
            else:
                self._qualified.setdefault((user, domain), f"@{user}@{domain}")
                same_instance.setdefault(user, f"@{user}@{domain}")
        for user, canonical in same_instance.items():
            self._bare.setdefault(user, canonical)  # an exact bare handle wins

    def addressed(
        self,
        prepared: str,
        in_reply_to_handle: str | None,
        is_direct: bool,
        connector_addressed: bool | None,
    ) -> Addressed:
        """Whether ``prepared`` (the prepared text) and the flags address the brand."""
        parsed = _parse_handle(in_reply_to_handle) if in_reply_to_handle else None
        reply = self._match(*parsed) if parsed is not None else None
        mention = self._mentioned(prepared) if connector_addressed is not False else None
        handle = mention or reply
        if connector_addressed:
            return Addressed(addressed=True, via="connector", handle=handle)
        if is_direct:
            return Addressed(addressed=True, via="direct", handle=handle)
        if reply is not None:
            return Addressed(addressed=True, via="reply", handle=reply)
        if mention is not None:
            return Addressed(addressed=True, via="mention", handle=mention)
        return Addressed(addressed=False)

    def _match(self, user: str, domain: str | None) -> str | None:
        if domain is None:
            return self._bare.get(user.lower())
        return self._qualified.get((user.lower(), domain.lower()))

    def _mentioned(self, text: str) -> str | None:
        for match in _MENTION.finditer(text):
            handle = self._match(match["user"], match["domain"])
            if handle is not None:
                return handle
        return None
