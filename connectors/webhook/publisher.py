"""A publisher that POSTs each reply, signed, to a URL the customer's system serves.

The body is a ``WebhookPayload`` as JSON; headers carry ``Idempotency-Key`` (the same on
every attempt of one release, so the receiver can drop repeats) and a timestamped HMAC
signature (see ``connectors.webhook.signing``).

How answers map to results (no httpx exception ever escapes)::

    2xx                              Receipt (id, url, duplicate read from a JSON body)
    429, 503                         TransientError, retry_after from Retry-After
    408, 409, other 5xx              TransientError (409: the same key is still in flight)
    timeout, connection failure      TransientError
    3xx, other 4xx                   PermanentError (status and a short body excerpt)
    bad idempotency key, unencodable
    metadata, unsupported protocol   PermanentError
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec

from connectors.clock import aware as _aware
from connectors.clock import parse_retry_after
from connectors.clock import utc_now as _utc_now
from connectors.contract import OutgoingReply, PermanentError, Receipt, TransientError
from connectors.webhook.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

# Header values must be visible ASCII; keys are bounded so receivers can index them.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_EXCERPT_CHARS = 200
_encoder = msgspec.json.Encoder()


class WebhookPayload(msgspec.Struct, frozen=True, kw_only=True):
    """The JSON body of one delivery; receivers can decode it with this Struct."""

    channel: str
    idempotency_key: str
    text: str
    in_reply_to: str
    in_reply_to_url: str | None
    recipient: str
    thread_id: str | None
    metadata: dict[str, Any]
    sent_at: str  # RFC 3339


def _rfc3339(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class WebhookPublisher:
    """A ``Publisher`` that delivers replies by signed HTTP POST to ``url``.

    ``secret`` is shared with the receiver and must not be empty. ``timeout_s`` bounds each
    attempt; redirects are never followed (the signed body goes only where configured).
    ``clock`` must return aware datetimes (naive ones are taken as UTC).
    """

    def __init__(
        self,
        url: str,
        secret: bytes,
        client: httpx.AsyncClient,
        *,
        channel: str = "webhook",
        timeout_s: float = 10.0,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("webhook url must be an absolute http(s) URL")
        if not secret:
            raise ValueError("webhook secret must not be empty")
        self.channel = channel
        self._url = parsed
        self._secret = secret
        self._client = client
        self._timeout = httpx.Timeout(timeout_s)
        self._clock = clock

    async def publish(self, reply: OutgoingReply) -> Receipt:
        if not _KEY.fullmatch(reply.idempotency_key):
            raise PermanentError("idempotency key must be 1-255 visible ASCII characters")
        sent = _aware(self._clock())
        body = _encode(reply, sent)
        timestamp = str(int(sent.timestamp()))
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: reply.idempotency_key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        response = await self._post(body, headers)
        return self._receipt(reply, response)

    async def _post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        try:
            return await self._client.post(
                self._url,
                content=body,
                headers=headers,
                timeout=self._timeout,
                follow_redirects=False,
            )
        except httpx.TimeoutException as exc:
            raise TransientError(f"webhook timed out: {type(exc).__name__}") from exc
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
            raise PermanentError(f"webhook request cannot be sent: {exc}") from exc
        except httpx.HTTPError as exc:
            raise TransientError(f"webhook unreachable: {type(exc).__name__}: {exc}") from exc

    def _receipt(self, reply: OutgoingReply, response: httpx.Response) -> Receipt:
        status = response.status_code
        if 200 <= status < 300:
            answer = _json_object(response.content)
            answer_id = answer.get("id")
            external_id = reply.idempotency_key
            if isinstance(answer_id, str | int) and not isinstance(answer_id, bool):
                external_id = str(answer_id)
            url = answer.get("url")
            duplicate = answer.get("duplicate")
            return Receipt(
                channel=self.channel,
                external_id=external_id,
                url=url if isinstance(url, str) else None,
                delivered_at=_rfc3339(self._clock()),
                duplicate=duplicate if isinstance(duplicate, bool) else False,
            )
        message = f"webhook answered HTTP {status}: {_excerpt(response)}"
        if status in (408, 409, 429) or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            raise TransientError(message, retry_after=retry_after)
        raise PermanentError(message)


def _encode(reply: OutgoingReply, sent: datetime) -> bytes:
    payload = WebhookPayload(
        channel=reply.channel,
        idempotency_key=reply.idempotency_key,
        text=reply.text,
        in_reply_to=reply.in_reply_to,
        in_reply_to_url=reply.in_reply_to_url,
        recipient=reply.recipient,
        thread_id=reply.thread_id,
        metadata=reply.metadata,
        sent_at=_rfc3339(sent),
    )
    try:
        return _encoder.encode(payload)
    except (TypeError, msgspec.EncodeError) as exc:
        raise PermanentError(f"reply cannot be encoded as JSON: {exc}") from exc


def _json_object(content: bytes) -> dict[str, Any]:
    """The body as a JSON object, or empty: an odd body must not undo a delivery."""
    try:
        decoded = msgspec.json.decode(content)
    except msgspec.DecodeError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    if len(text) > _EXCERPT_CHARS:
        return text[:_EXCERPT_CHARS] + "…"
    return text or "(empty body)"
