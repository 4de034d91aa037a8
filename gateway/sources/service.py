"""Adding, changing and removing configured sources: checked, sealed, audited.

Every change is one transaction with its audit event (``source_added``, ``source_updated``,
``source_removed``, subject ``source:NAME``). Audit payloads and answers say where a
secret lives (``"stored"`` or ``"env:VAR"``), never the secret.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import structlog

from gateway.domain.source_errors import InvalidSource
from gateway.domain.sources import NewSource, SealedSecret, SourceRecord
from gateway.net_guard import AddressRefused, Resolver, check_url, system_resolver
from gateway.secrets import Secrets
from gateway.settings import Settings
from gateway.sources.config import (
    DEFAULT_INTERVAL_S,
    check_channel,
    check_interval,
    check_name,
    check_secret,
    config_json,
    parse_config,
    publishes,
    urls_of,
)
from gateway.store import audit
from gateway.store import sources as store
from gateway.store.errors import Conflict

log = structlog.get_logger(__name__)


class SourceSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A source to add (what the API and the CLI take)."""

    name: str
    kind: str
    config: dict[str, Any]
    channel: str | None = None  # default: the kind's name
    secret: str | None = None  # the value (encrypted when stored) or env:VARIABLE
    interval_s: float | None = None  # default: per kind
    enabled: bool = True
    allow_private: bool = False


class SourcePatch(msgspec.Struct, frozen=True, kw_only=True):
    enabled: bool | None = None
    interval_s: float | None = None
    allow_private: bool | None = None
    secret: str | None = None  # a new secret (value or env:VARIABLE); never read back


def audit_view(record: SourceRecord) -> dict[str, Any]:
    """A source as audit events record it: everything but the secret."""
    return {
        "name": record.name,
        "kind": record.kind,
        "channel": record.channel,
        "config": record.config,
        "secret": record.secret,
        "interval_s": record.interval_s,
        "enabled": record.enabled,
        "allow_private": record.allow_private,
    }


class SourceService:
    """Admin operations on configured sources. ``resolver`` resolves host names for the
    address check (tests pass a fake one)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        secrets: Secrets,
        settings: Settings,
        *,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._pool = pool
        self.secrets = secrets
        self._settings = settings
        self._resolver = resolver

    async def list(self) -> list[SourceRecord]:
        async with self._pool.acquire() as conn:
            return await store.list_sources(conn)

    async def get(self, name: str) -> SourceRecord:
        async with self._pool.acquire() as conn:
            return await store.get_source(conn, name)

    async def add(self, spec: SourceSpec, *, actor: str) -> SourceRecord:
        new = await self._checked(spec, actor)
        async with self._pool.acquire() as conn, conn.transaction():
            if publishes(parse_config(new.kind, new.config)):
                other = await store.publishing_source(conn, new.channel, other_than=new.name)
                if other is not None:
                    raise Conflict(
                        f"channel {new.channel!r} already has a publisher (source {other!r}); "
                        "give this source another channel, or turn its publishing off"
                    )
            record = await store.insert_source(conn, new)
            await audit.append(
                conn,
                kind="source_added",
                actor=actor,
                subject=f"source:{record.name}",
                payload=audit_view(record),
            )
        log.info("source_added", source=record.name, kind=record.kind, actor=actor)
        return record

    async def update(self, name: str, patch: SourcePatch, *, actor: str) -> SourceRecord:
        changes = {k: v for k, v in msgspec.structs.asdict(patch).items() if v is not None}
        if not changes:
            raise InvalidSource(
                "nothing to change: give enabled, interval_s, allow_private or secret"
            )
        if patch.secret is not None:
            changes["secret"] = "replaced"  # the audit event says so, never what it is
        if patch.interval_s is not None:
            check_interval(patch.interval_s, minimum=self._settings.source_min_interval_s)
        async with self._pool.acquire() as conn, conn.transaction():
            record = await store.get_source(conn, name)
            if patch.secret is not None:
                check_secret(record.kind, patch.secret)
                sealed = self.secrets.seal(name, patch.secret)
                record = await store.replace_secret(conn, name, sealed)
            if {"enabled", "interval_s", "allow_private"} & changes.keys():
                record = await store.update_source(
                    conn,
                    name,
                    enabled=patch.enabled,
                    interval_s=patch.interval_s,
                    allow_private=patch.allow_private,
                )
            await audit.append(
                conn,
                kind="source_updated",
                actor=actor,
                subject=f"source:{name}",
                payload={"name": name, "changes": changes, "version": record.version},
            )
        log.info("source_updated", source=name, changes=sorted(changes), actor=actor)
        return record

    async def remove(self, name: str, *, actor: str) -> SourceRecord:
        async with self._pool.acquire() as conn, conn.transaction():
            record = await store.delete_source(conn, name)
            await audit.append(
                conn,
                kind="source_removed",
                actor=actor,
                subject=f"source:{name}",
                payload={"name": name, "kind": record.kind, "channel": record.channel},
            )
        log.info("source_removed", source=name, actor=actor)
        return record

    async def _checked(self, spec: SourceSpec, actor: str) -> NewSource:
        name = check_name(spec.name)
        config = parse_config(spec.kind, spec.config)
        check_secret(spec.kind, spec.secret)
        channel = check_channel(spec.channel or spec.kind)
        interval = spec.interval_s or DEFAULT_INTERVAL_S[spec.kind]
        check_interval(interval, minimum=self._settings.source_min_interval_s)
        allow = spec.allow_private or self._settings.allow_private_urls
        for label, url in urls_of(config):
            try:
                await check_url(url, label=label, allow_private=allow, resolver=self._resolver)
            except AddressRefused as exc:
                raise InvalidSource(str(exc)) from None
        sealed = SealedSecret()
        if spec.secret is not None:
            sealed = self.secrets.seal(name, spec.secret)
        return NewSource(
            name=name,
            kind=spec.kind,  # type: ignore[arg-type]  # checked by parse_config
            channel=channel,
            config=config_json(config),
            secret=sealed,
            allow_private=spec.allow_private,
            interval_s=interval,
            enabled=spec.enabled,
            created_by=actor,
        )
