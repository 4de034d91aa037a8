"""What the sources API accepts and answers. Secrets go in, never out: an answer says
``"secret": "stored"`` (encrypted in the database) or ``"env:VAR"``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from connectors.contract import RawMention
from gateway.domain.sources import SourceRecord
from gateway.http.params import NO_CONTROL, SourceName
from gateway.http.views import IngestIn
from gateway.pipeline.errors import InvalidInput
from gateway.sources.service import SourcePatch, SourceSpec

Interval = Annotated[float, Meta(gt=0)]


class SourceIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: SourceName
    kind: Literal["rss", "mastodon", "bluesky", "webhook"]
    config: dict[str, Any] = {}
    channel: SourceName | None = None
    secret: Annotated[str, Meta(min_length=1, max_length=4_096, pattern=NO_CONTROL)] | None = None
    interval_s: Interval | None = None
    enabled: bool = True
    allow_private: bool = False

    def to_spec(self) -> SourceSpec:
        return SourceSpec(**msgspec.structs.asdict(self))


class SourcePatchIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    enabled: bool | None = None
    interval_s: Interval | None = None
    allow_private: bool | None = None
    secret: Annotated[str, Meta(min_length=1, max_length=4_096, pattern=NO_CONTROL)] | None = None

    def to_patch(self) -> SourcePatch:
        return SourcePatch(**msgspec.structs.asdict(self))


class SourceHealthOut(msgspec.Struct, frozen=True, kw_only=True):
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    items_last: int
    items_total: int
    consecutive_failures: int
    next_poll_at: datetime | None


class SourceOut(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    kind: str
    channel: str
    config: dict[str, Any]
    secret: str | None  # "stored", "env:VAR" or null; never the secret
    interval_s: float
    enabled: bool
    allow_private: bool
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    health: SourceHealthOut
    webhook_path: str | None  # where a webhook source receives deliveries


def source_out(record: SourceRecord) -> SourceOut:
    return SourceOut(
        name=record.name,
        kind=record.kind,
        channel=record.channel,
        config=record.config,
        secret=record.secret,
        interval_s=record.interval_s,
        enabled=record.enabled,
        allow_private=record.allow_private,
        version=record.version,
        created_by=record.created_by,
        created_at=record.created_at,
        updated_at=record.updated_at,
        health=SourceHealthOut(**msgspec.structs.asdict(record.health)),
        webhook_path=f"/v1/webhooks/{record.name}" if record.kind == "webhook" else None,
    )


_ingest_decoder = msgspec.json.Decoder(IngestIn)


def decode_delivery(body: bytes) -> list[RawMention]:
    """A webhook delivery's mentions (the body of ``POST /v1/mentions``)."""
    try:
        delivery = _ingest_decoder.decode(body)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise InvalidInput(
            f'the body must be {{"mentions": [...]}} as for /v1/mentions: {exc}'
        ) from None
    return [m.to_raw() for m in delivery.mentions]
