"""Source secrets (tokens, app passwords, webhook secrets): sealed, or read from the environment.

The gateway's secret key lives here, below every package that needs it: the sources seal
their secrets with it and the audit package derives its suppression key from it
(``Secrets.derive``).

A secret given as ``env:NAME`` is stored as that reference only, and read from the
environment each time a poller or a publisher is built, or a webhook delivery is checked:
every gateway instance needs the variable. This (and ``load_settings``) are the only
places the environment is read. ``NAME`` must start with ``GATEWAY_SOURCE_SECRET_`` or be
listed in ``GATEWAY_SOURCE_SECRET_ENV``: an admin could otherwise point a source at a
server they control with ``env:DATABASE_URL`` as its token and receive the database's
password. Any other name is refused when the source is configured, and a reference stored
before the rule existed is refused when it would be used.

Any other value is encrypted with AES-256-GCM under the gateway's key: a random 96-bit
nonce, the source's name as associated data (a ciphertext copied to another source does not
decrypt), stored as ``b"\\x01" + nonce + ciphertext-and-tag`` beside the key's id (the
first 8 bytes of SHA-256 of the key, hex) so a changed key is reported as such.

The key: ``GATEWAY_SECRET_KEY`` (32 bytes, base64), else the key file (default
``DATA_DIR/secrets.key``, base64), created with mode 0600 the first time a secret is
stored. A key file that group or others may read is refused. Instances sharing a database
need the same key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.domain.source_errors import InvalidSource, SecretUnavailable
from gateway.domain.sources import SealedSecret
from gateway.settings import (
    NEVER_SOURCE_SECRETS,
    SOURCE_SECRET_PREFIX,
    Settings,
    secret_key_path,
)

_VERSION = b"\x01"
_NONCE_BYTES = 12
_KEY_BYTES = 32
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
ENV_PREFIX = "env:"


def env_reference(value: str) -> str | None:
    """The variable name of an ``env:NAME`` value, None for a literal secret.

    Raises ``InvalidSource`` for ``env:`` followed by something that is not a name.
    """
    if not value.startswith(ENV_PREFIX):
        return None
    name = value.removeprefix(ENV_PREFIX)
    if not _ENV_NAME.fullmatch(name):
        raise InvalidSource(
            f"secret {value!r}: after 'env:' give an environment variable name "
            "(letters, digits and _), e.g. env:GATEWAY_SOURCE_SECRET_MASTODON"
        )
    return name


def env_rule(settings: Settings) -> str:
    """The allow-list rule for ``env:`` secrets, as told to whoever breaks it."""
    extra = ", ".join(settings.source_secret_env)
    listed = (
        f" or one listed in GATEWAY_SOURCE_SECRET_ENV ({extra})"
        if extra
        else (" or one listed in GATEWAY_SOURCE_SECRET_ENV (none are)")
    )
    return (
        f"an env: secret must name a variable starting with {SOURCE_SECRET_PREFIX}{listed}, "
        f"e.g. env:{SOURCE_SECRET_PREFIX}MASTODON"
    )


def env_allowed(settings: Settings, name: str) -> bool:
    if name in NEVER_SOURCE_SECRETS:
        return False
    return name.startswith(SOURCE_SECRET_PREFIX) or name in settings.source_secret_env


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def decode_key(text: str, *, origin: str) -> bytes:
    try:
        # Standard and URL-safe base64 alike.
        key = base64.urlsafe_b64decode(text.strip().replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != _KEY_BYTES:
        raise SecretUnavailable(
            f"{origin} must be 32 random bytes in base64 (44 characters); make one with "
            "python -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())'"
        )
    return key


def _read_key_file(path: Path) -> bytes:
    mode = path.stat().st_mode
    if os.name == "posix" and mode & 0o077:
        raise SecretUnavailable(
            f"the secret key file {path} may be read by group or others (mode "
            f"{mode & 0o777:o}); run: chmod 600 {path}"
        )
    return decode_key(path.read_text(encoding="ascii", errors="replace"), origin=str(path))


def _create_key_file(path: Path) -> bytes:
    """A new random key in ``path`` (0600), or the key already there if another wrote it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(_KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(base64.b64encode(key).decode("ascii") + "\n")
    return key


class SecretBox:
    """AES-256-GCM under one key; the source name is the associated data."""

    def __init__(self, key: bytes) -> None:
        if len(key) != _KEY_BYTES:
            raise ValueError("the key must be 32 bytes")
        self._aead = AESGCM(key)
        self.key_id = key_id(key)

    def __repr__(self) -> str:
        return f"SecretBox(key_id={self.key_id!r})"

    def seal(self, source: str, plaintext: str) -> SealedSecret:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), source.encode("utf-8"))
        return SealedSecret(ciphertext=_VERSION + nonce + sealed, key_id=self.key_id)

    def open(self, source: str, sealed: SealedSecret) -> str:
        assert sealed.ciphertext is not None
        if sealed.key_id != self.key_id:
            raise SecretUnavailable(
                f"the secret of source {source!r} was stored under key {sealed.key_id}, but "
                f"this gateway's key is {self.key_id}: give it the key used then "
                "(GATEWAY_SECRET_KEY or the key file), or store the secret again"
            )
        blob = sealed.ciphertext
        if blob[:1] != _VERSION:
            raise SecretUnavailable(f"the secret of source {source!r} has an unknown format")
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, source.encode("utf-8")).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise SecretUnavailable(
                f"the secret of source {source!r} does not decrypt (altered, or copied from "
                "another source); store it again"
            ) from None


class Secrets:
    """Seals secrets for storage and resolves them at use.

    ``environ`` is where ``env:NAME`` references are read (default: ``os.environ``, at
    each use). ``key`` overrides the configured key (tests).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        environ: Mapping[str, str] | None = None,
        key: bytes | None = None,
    ) -> None:
        self._settings = settings
        self._environ = environ if environ is not None else os.environ
        self._box = SecretBox(key) if key is not None else None
        self._raw = key

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose`` (HKDF-SHA256 of the gateway's key, created on
        first use like the key itself): one key to keep, separate keys per use."""
        if self._raw is None:
            self._raw = self._load(create=True)
        hkdf = HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=purpose.encode())
        return hkdf.derive(self._raw)

    def seal(self, source: str, value: str) -> SealedSecret:
        """What to store for ``value`` (``env:NAME`` stays a reference; else encrypted)."""
        if not value or not value.strip():
            raise InvalidSource("the secret must not be empty")
        name = env_reference(value)
        if name is not None:
            if not env_allowed(self._settings, name):
                raise InvalidSource(f"secret env:{name} is refused: {env_rule(self._settings)}")
            return SealedSecret(env=name)
        return self._key(create=True).seal(source, value)

    def resolve(self, source: str, sealed: SealedSecret) -> str | None:
        """The secret in clear (None if the source has none); ``SecretUnavailable`` if it
        cannot be read."""
        if sealed.env is not None:
            if not env_allowed(self._settings, sealed.env):
                raise SecretUnavailable(
                    f"source {source!r} reads its secret from ${sealed.env}, which is not "
                    f"allowed: {env_rule(self._settings)}; configure the secret again"
                )
            value = self._environ.get(sealed.env)
            if not value:
                raise SecretUnavailable(
                    f"source {source!r} reads its secret from ${sealed.env}, which is not set "
                    "in this gateway's environment"
                )
            return value
        if sealed.ciphertext is None:
            return None
        return self._key(create=False).open(source, sealed)

    def _key(self, *, create: bool) -> SecretBox:
        if self._box is None:
            self._box = SecretBox(self._load(create=create))
        return self._box

    def _load(self, *, create: bool) -> bytes:
        if self._settings.secret_key:
            return decode_key(self._settings.secret_key, origin="GATEWAY_SECRET_KEY")
        path = secret_key_path(self._settings)
        if path.exists():
            return _read_key_file(path)
        if not create:
            raise SecretUnavailable(
                f"stored secrets need the key they were sealed with, and there is no "
                f"GATEWAY_SECRET_KEY and no key file at {path}"
            )
        return _create_key_file(path)
