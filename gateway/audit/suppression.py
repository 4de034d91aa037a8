"""The suppression key: HMAC-SHA256 of (channel, canonical identity) under a server key.

The server key is derived (HKDF, purpose ``customer-suppression-v1``) from the gateway's
key (``GATEWAY_SECRET_KEY`` or its key file, gateway/secrets.py), so instances that
share a database and that key compute the same suppression keys, and the database alone
cannot tell whose a key is. Losing or changing the gateway key loses the suppressions'
meaning: keep it like the database backups (docs/audit.md).
"""

from __future__ import annotations

from gateway.domain.identity import suppression_key
from gateway.domain.records import Mention
from gateway.secrets import Secrets, key_id
from gateway.settings import SettingsError
from gateway.store import suppressions
from gateway.store.connection import Conn

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


class SuppressionKeyChanged(SettingsError):
    """The gateway key differs from the one the stored suppressions were made with."""


async def ensure_key_matches(conn: Conn, keys: SuppressionKeys) -> None:
    """Refuse to run with a gateway key that cannot recognise the stored suppressions.

    With another key, an erased customer's new mentions would no longer match their
    suppression record and could be answered: fail closed, at start, with what to do.
    """
    stored = await suppressions.key_ids(conn)
    if stored and keys.key_id not in stored:
        raise SuppressionKeyChanged(
            f"the gateway key (id {keys.key_id}) is not the key the {len(stored)} stored "
            f"suppression key id(s) were made with ({', '.join(stored)}): erased customers "
            "would no longer be recognised. Set GATEWAY_SECRET_KEY (or GATEWAY_SECRET_KEY_FILE) "
            "to the key this database was used with (every instance needs the same one)"
        )
