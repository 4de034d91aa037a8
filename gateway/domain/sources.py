"""Configured sources as the rest of the code sees them: what to poll, how, and how it went."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

SourceKind = Literal["rss", "mastodon", "bluesky", "webhook"]
SOURCE_KINDS: tuple[str, ...] = ("rss", "mastodon", "bluesky", "webhook")
POLLED_KINDS: frozenset[str] = frozenset({"rss", "mastodon", "bluesky"})


class SourceHealth(msgspec.Struct, frozen=True, kw_only=True):
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    items_last: int = 0  # mentions in the last successful poll (or delivery)
    items_total: int = 0
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None  # None: as soon as possible (never for webhooks)


class SourceRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One configured source. The secret itself is not here: ``secret`` only says where
    it lives (``"stored"``: encrypted in the database, ``"env:VAR"``, or None)."""

    name: str
    kind: SourceKind
    channel: str
    config: dict[str, Any]
    secret: str | None
    allow_private: bool
    interval_s: float
    enabled: bool
    version: int  # bumped by every admin change; a running poller restarts on a new one
    created_by: str
    created_at: datetime
    updated_at: datetime
    health: SourceHealth


class SealedSecret(msgspec.Struct, frozen=True, kw_only=True):
    """Where a source's secret is: an environment variable, or ciphertext and its key id."""

    env: str | None = None
    ciphertext: bytes | None = None
    key_id: str | None = None

    def __repr__(self) -> str:
        return f"SealedSecret(env={self.env!r}, stored={self.ciphertext is not None})"


class NewSource(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    kind: SourceKind
    channel: str
    config: dict[str, Any]
    secret: SealedSecret
    allow_private: bool
    interval_s: float
    enabled: bool
    created_by: str


class PollSlot(msgspec.Struct, frozen=True, kw_only=True):
    """When a source may be polled next, by the database's clock."""

    version: int
    enabled: bool
    wait_s: float  # 0: due now (and not leased by another instance)
