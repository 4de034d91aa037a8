"""Errors of configured sources, each with a message a person can act on.

They stand in the domain because the gateway's secret key (``gateway.secrets``), below the
sources and the audit package alike, raises two of them.

    SourceError
    ├── InvalidSource       the configuration is refused (bad URL, missing secret, ...)
    ├── SignatureRefused    an inbound webhook delivery is not signed right, or is stale
    ├── ReplayedDelivery    the same signed delivery was already received
    └── SecretUnavailable   a secret cannot be read (variable unset, key changed)

``gateway.store.errors.NotFound`` and ``Conflict`` pass through unchanged.
"""


class SourceError(Exception):
    pass


class InvalidSource(SourceError):
    pass


class SignatureRefused(SourceError):
    pass


class ReplayedDelivery(SourceError):
    pass


class SecretUnavailable(SourceError):
    pass
