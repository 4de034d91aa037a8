"""The bytes a policy revision names, and the revision of those bytes.

A revision is ``sha256:`` + the SHA-256 of the canonical JSON of
``{"data": data, "files": files}`` (keys sorted, no whitespace, UTF-8, numbers as msgspec
writes them: the shortest form that reads back as the same value). These bytes are stored
as they are and loaded as they are; the policy is never rebuilt from a JSONB copy, which
normalises numbers (``-0.0`` becomes ``0.0``, ``1e300`` a 301-digit integer).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec

_canonical = msgspec.json.Encoder(order="sorted")


class PolicyContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    files: dict[str, str]
    data: dict[str, Any]


_decoder = msgspec.json.Decoder(PolicyContent)


def canonical_content(files: Mapping[str, str], data: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a policy's files and data (see the module docstring)."""
    return _canonical.encode({"files": dict(files), "data": dict(data)})


def revision_of(content: bytes) -> str:
    """``sha256:<hex>`` of exactly these bytes."""
    return "sha256:" + hashlib.sha256(content).hexdigest()


def decode_content(content: bytes) -> PolicyContent:
    """The files and data in canonical bytes (msgspec.DecodeError if they are not)."""
    return _decoder.decode(content)


def round_trips(content: bytes) -> bool:
    """Whether decoding ``content`` and encoding it again gives the same bytes."""
    decoded = msgspec.json.decode(content)
    return bool(_canonical.encode(decoded) == content)
