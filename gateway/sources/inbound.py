"""Inbound signed webhooks: mentions pushed by any system that holds a source's secret.

A delivery to ``POST /v1/webhooks/NAME`` (a source of kind ``webhook``) carries::

    X-Gateway-Timestamp: <unix seconds>
    X-Gateway-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.".encode() + body)>

(``connectors.webhook.signing``, the same format the webhook publisher sends). In order:

1. the source must exist, be a webhook source, be enabled and have a secret this gateway
   can read; and the signature must match and the timestamp be within
   ``webhook_tolerance_s`` of the gateway's clock. A delivery failing any of these is
   refused with one uniform ``SignatureRefused`` (``REFUSED``): the answer never says
   which check failed, whether the source exists or which variable holds its secret, and
   nothing is stored or counted (not even the source's health), so an unauthenticated
   caller can neither probe the configuration nor mark a source failing. The reason is
   logged (``webhook_refused``) for the operator. Nothing is parsed before this;
2. the same signature must not have been accepted within twice that window (else
   ``ReplayedDelivery``): digests of accepted signatures are kept in the database, so a
   captured delivery cannot be replayed, not even to another gateway instance;
3. the body is decoded by the caller's ``decode`` (the API's ``IngestIn``), every
   mention must be on the source's channel (else ``InvalidInput``, recorded in the
   source's health: the sender is authenticated), and the batch is ingested with actor
   ``webhook:NAME``. If that fails, the digest is forgotten again so the same delivery may
   be retried as is.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets as random
from collections.abc import Callable

import asyncpg
import structlog

from connectors.contract import RawMention
from gateway.domain.source_errors import (
    InvalidSource,
    ReplayedDelivery,
    SecretUnavailable,
    SignatureRefused,
)
from gateway.pipeline.errors import InvalidInput
from gateway.pipeline.ingest import Ingestor, IngestResult
from gateway.secrets import Secrets
from gateway.settings import Settings
from gateway.sources.build import webhook_signature_valid
from gateway.sources.config import check_name
from gateway.store import sources as store
from gateway.store.errors import NotFound

log = structlog.get_logger(__name__)

Decode = Callable[[bytes], list[RawMention]]

REFUSED = (
    "the delivery is refused: send it to an enabled webhook source, signed with that "
    "source's secret when sending (X-Gateway-Timestamp: unix seconds; X-Gateway-Signature: "
    "sha256=<hex HMAC-SHA256(secret, f'{timestamp}.' + body)>)"
)


class InboundWebhooks:
    def __init__(
        self, pool: asyncpg.Pool, ingestor: Ingestor, secrets: Secrets, settings: Settings
    ) -> None:
        self._pool = pool
        self._ingestor = ingestor
        self._secrets = secrets
        self._tolerance_s = settings.webhook_tolerance_s

    async def receive(
        self,
        name: str,
        *,
        timestamp: str | None,
        signature: str | None,
        body: bytes,
        now: float,
        decode: Decode,
    ) -> IngestResult:
        """Check, then ingest one delivery (steps in the module docstring)."""
        source = await self._webhook_source(name)
        channel, secret = source if source is not None else ("", random.token_bytes(32))
        refusal = self._refusal(secret, timestamp, signature, body, now)  # always: same time
        if source is not None and refusal is not None:
            log.warning("webhook_refused", source=name, reason=refusal)
        if source is None or refusal is not None:
            raise SignatureRefused(REFUSED)
        assert signature is not None
        digest = hashlib.sha256(signature.strip().lower().encode("ascii")).hexdigest()
        async with self._pool.acquire() as conn:
            fresh = await store.remember_delivery(conn, name, digest, keep_s=2 * self._tolerance_s)
        if not fresh:
            log.warning("webhook_replay_refused", source=name)
            raise ReplayedDelivery(
                "this delivery (the same signature) was already received; to send it "
                "again, sign it with the current time"
            )
        try:
            mentions = decode(body)
            _check_channels(mentions, name, channel)
            result = await self._ingestor.ingest(mentions, actor=f"webhook:{name}")
        except BaseException as exc:
            with contextlib.suppress(Exception):
                async with self._pool.acquire() as conn:
                    await store.forget_delivery(conn, name, digest)
                    if isinstance(exc, InvalidInput):  # the sender should hear of it
                        await store.record_refused_delivery(conn, name, error=str(exc))
            raise
        async with self._pool.acquire() as conn:
            await store.record_delivery(conn, name, items=len(mentions))
        log.info(
            "webhook_received", source=name, mentions=len(mentions), duplicates=result.duplicates
        )
        return result

    async def _webhook_source(self, name: str) -> tuple[str, bytes] | None:
        """(channel, secret) of an enabled webhook source; None (the reason logged) else."""
        try:
            check_name(name)
            async with self._pool.acquire() as conn:
                record = await store.get_source(conn, name)
                sealed = await store.sealed_secret(conn, name)
            if record.kind != "webhook":
                raise NotFound(f"a {record.kind} source, not a webhook")
            if not record.enabled:
                raise NotFound("the source is disabled")
            secret = self._secrets.resolve(name, sealed)
            if not secret:
                raise NotFound("the source has no secret")
        except (InvalidSource, NotFound, SecretUnavailable) as exc:
            level = "error" if isinstance(exc, SecretUnavailable) else "warning"
            getattr(log, level)("webhook_refused", source=name[:80], reason=str(exc))
            return None
        return record.channel, secret.encode("utf-8")

    def _refusal(
        self,
        secret: bytes,
        timestamp: str | None,
        signature: str | None,
        body: bytes,
        now: float,
    ) -> str | None:
        """Why the delivery is refused, or None when it is signed right and fresh."""
        if not timestamp or not signature:
            return "send the X-Gateway-Timestamp and X-Gateway-Signature headers"
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 15:
            return "X-Gateway-Timestamp must be the signing time in unix seconds"
        skew = abs(now - int(timestamp))
        if skew > self._tolerance_s:
            return (
                f"the timestamp is {skew:.0f} s away from the gateway's clock (allowed: "
                f"{self._tolerance_s:g} s); sign each delivery when sending it"
            )
        if not webhook_signature_valid(
            secret, timestamp, body, signature, now=now, tolerance_s=self._tolerance_s
        ):
            return (
                "the signature does not match: sign f'{timestamp}.' + the exact body bytes "
                "with HMAC-SHA256 and this source's secret, send 'sha256=<hex>'"
            )
        return None


def _check_channels(mentions: list[RawMention], name: str, channel: str) -> None:
    for index, mention in enumerate(mentions):
        if mention.channel != channel:
            raise InvalidInput(
                f"mentions[{index}].channel is {mention.channel!r}, but webhook source "
                f"{name!r} takes mentions on channel {channel!r} only"
            )
