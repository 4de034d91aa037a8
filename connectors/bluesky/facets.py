"""Rich-text facets for a reply: without them Bluesky shows links and @-mentions as text.

``reply_facets(text, mentions)`` returns ``app.bsky.richtext.facet`` objects (byte ranges
in the UTF-8 text) for every http(s) link and for each ``@handle`` in ``mentions`` (handle
→ DID) written in the text. Trailing sentence punctuation is not part of a link; a mention
inside a link is not a mention.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_LINK = re.compile(r"https?://[^\s<>\"]+")
_LINK_TRAILING = ".,;:!?)]}'\""
_FACET = "app.bsky.richtext.facet"


def reply_facets(text: str, mentions: Mapping[str, str]) -> list[dict[str, Any]]:
    """Link and mention facets of ``text``, in text order."""
    found: list[tuple[int, int, dict[str, str]]] = []
    for match in _LINK.finditer(text):
        url = match.group().rstrip(_LINK_TRAILING)
        if "://" in url and len(url) > url.index("://") + 3:
            end = match.start() + len(url)
            found.append((match.start(), end, {"$type": f"{_FACET}#link", "uri": url}))
    links = [(start, end) for start, end, _ in found]
    for handle, did in mentions.items():
        bare = handle.removeprefix("@")
        if not bare:
            continue
        pattern = re.compile(r"(?<![\w@])@" + re.escape(bare) + r"(?![\w-]|\.\w)", re.IGNORECASE)
        for match in pattern.finditer(text):
            if any(start < match.end() and match.start() < end for start, end in links):
                continue
            found.append((match.start(), match.end(), {"$type": f"{_FACET}#mention", "did": did}))
    found.sort(key=lambda item: item[0])
    return [
        {
            "$type": _FACET,
            "index": {"byteStart": _bytes(text, start), "byteEnd": _bytes(text, end)},
            "features": [feature],
        }
        for start, end, feature in found
    ]


def _bytes(text: str, index: int) -> int:
    return len(text[:index].encode())
