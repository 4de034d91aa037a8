"""The suppression key: HMAC-SHA256 of (channel, canonical identity) under a server key.

The server key is derived (HKDF, purpose ``customer-suppression-v1``) from the gateway's
key (``GATEWAY_SECRET_KEY`` or its key file, gateway/sources/secrets.py), so instances that
share a database and that key compute the same suppression keys, and the database alone
cannot tell whose a key is. Losing or changing the gateway key loses the suppressions'
meaning: keep it like the database backups (docs/audit.md).
"""

from __future__ import annotations

from gateway.domain.identity import suppression_key
from gateway.domain.records import Mention
from gateway.sources.secrets import Secrets, key_id

PURPOSE = "customer-suppression-v1"


class SuppressionKeys:
    def __init__(self, secrets: Secrets) -> None:
        self._secrets = secrets
        self._key: bytes | None = None

    def __repr__(self) -> str:
        return "SuppressionKeys()"

    @property
    def key_id(self) -> str:
        return key_id(self._load())

    def of(self, *, channel: str, customer_id: str) -> str:
        return suppression_key(self._load(), channel=channel, customer_id=customer_id)

    def for_mention(self, mention: Mention) -> str | None:
        """The mention's author's key: kept on an erased mention, else computed."""
        if mention.customer_key is not None:
            return mention.customer_key
        if mention.customer_id is None:
            return None
        return self.of(channel=mention.channel, customer_id=mention.customer_id)

    def _load(self) -> bytes:
        if self._key is None:
            self._key = self._secrets.derive(PURPOSE)
        return self._key
