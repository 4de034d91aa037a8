"""The webhook channel: replies POSTed, signed, to a URL the customer serves."""

from connectors.clock import parse_retry_after
from connectors.webhook.publisher import WebhookPayload, WebhookPublisher
from connectors.webhook.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    verify_signature,
)

__all__ = [
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookPayload",
    "WebhookPublisher",
    "parse_retry_after",
    "sign",
    "verify_signature",
]
