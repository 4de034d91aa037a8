"""An authenticated session with a Bluesky PDS (an app password, never the account password).

``BlueskySession`` logs in lazily with ``com.atproto.server.createSession`` and sends every
XRPC call with the access token. When a call answers 400/401 ``ExpiredToken`` (or
``InvalidToken``) it refreshes once with ``com.atproto.server.refreshSession`` (the refresh
token as bearer) and retries the call once; if the refresh token is itself refused it logs
in again. Concurrent callers share one login or refresh (a lock), because createSession is
rate-limited hard (30 per 5 minutes, 100-300 per day per account).

Tokens stay inside this object: they are not exposed, logged, or shown by ``repr``, and
error messages never contain them. Failures are ``connectors.bluesky.xrpc`` errors (so
``TransientError``/``PermanentError``); no httpx exception escapes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import structlog

from connectors.bluesky.xrpc import (
    XrpcPermanentError,
    XrpcTransientError,
    error_from_exception,
    error_from_response,
    error_name,
)

log = structlog.get_logger(__name__)

_CREATE = "com.atproto.server.createSession"
_REFRESH = "com.atproto.server.refreshSession"
_RENEW_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
_encoder = msgspec.json.Encoder()

Params = Mapping[str, str | int]


@dataclass(frozen=True, slots=True)
class _Tokens:
    did: str
    handle: str
    access: str = field(repr=False)
    refresh: str = field(repr=False)


class _SessionAnswer(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    access_jwt: str
    refresh_jwt: str
    did: str
    handle: str


_session_decoder = msgspec.json.Decoder(_SessionAnswer)


class BlueskySession:
    """Tokens for one account on ``service_url`` (e.g. ``https://bsky.social``).

    ``identifier`` is the handle (or email) and ``app_password`` an app password created in
    the account's settings. ``client`` sends the session's own calls and, unless a call
    names another, every authorized call. ``clock`` returns unix seconds (for Retry-After).
    """

    def __init__(
        self,
        service_url: str,
        identifier: str,
        app_password: str,
        client: httpx.AsyncClient,
        *,
        timeout_s: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        base = httpx.URL(service_url)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError("bluesky service_url must be an absolute http(s) URL")
        if not identifier.strip() or not app_password:
            raise ValueError("bluesky identifier and app password must not be empty")
        self._base = str(base).rstrip("/")
        self._identifier = identifier.strip().removeprefix("@")
        self._password = app_password
        self._client = client
        self._timeout = httpx.Timeout(timeout_s)
        self._clock = clock
        self._lock = asyncio.Lock()
        self._tokens: _Tokens | None = None

    def __repr__(self) -> str:
        return f"BlueskySession({self._base!r}, {self._identifier!r}, did={self.did!r})"

    @property
    def did(self) -> str | None:
        """The account's DID once logged in (``ensure`` logs in), else None."""
        return self._tokens.did if self._tokens is not None else None

    @property
    def handle(self) -> str | None:
        """The account's handle (without ``@``) once logged in, else None."""
        return self._tokens.handle if self._tokens is not None else None

    async def ensure(self) -> str:
        """Log in if there is no session yet; return the account's DID."""
        return (await self._current()).did

    async def authorized_request(
        self,
        method: str,
        nsid: str,
        *,
        params: Params | None = None,
        json: Any = None,
        client: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        """Call ``/xrpc/{nsid}`` with the access token; return the 2xx answer.

        ``json`` (if not None) is the request body. An expired token is renewed and the
        call retried once. Any other answer raises ``XrpcTransientError`` or
        ``XrpcPermanentError`` (see ``connectors.bluesky.xrpc``).
        """
        sender = client or self._client
        tokens = await self._current()
        response = await self._send(sender, method, nsid, tokens.access, params, json)
        if _needs_renewal(response):
            tokens = await self._renew(tokens)
            response = await self._send(sender, method, nsid, tokens.access, params, json)
        if response.is_success:
            return response
        raise error_from_response(nsid, response, self._clock())

    async def _current(self) -> _Tokens:
        tokens = self._tokens
        if tokens is not None:
            return tokens
        async with self._lock:
            if self._tokens is None:
                self._tokens = await self._create()
            return self._tokens

    async def _renew(self, stale: _Tokens) -> _Tokens:
        async with self._lock:
            if self._tokens is not None and self._tokens is not stale:
                return self._tokens  # another caller renewed while we waited
            try:
                self._tokens = await self._session_call(_REFRESH, stale.refresh, None)
                log.info("bluesky_session_refreshed", did=self._tokens.did)
            except XrpcPermanentError:
                self._tokens = None
                self._tokens = await self._create()
            return self._tokens

    async def _create(self) -> _Tokens:
        body = {"identifier": self._identifier, "password": self._password}
        tokens = await self._session_call(_CREATE, None, body)
        log.info("bluesky_session_created", did=tokens.did)
        return tokens

    async def _session_call(
        self, nsid: str, bearer: str | None, body: dict[str, str] | None
    ) -> _Tokens:
        response = await self._send(self._client, "POST", nsid, bearer, None, body)
        if not response.is_success:
            raise error_from_response(nsid, response, self._clock())
        try:
            answer = _session_decoder.decode(response.content)
        except msgspec.DecodeError as exc:
            raise XrpcTransientError(f"{nsid} answered an unreadable session") from exc
        return _Tokens(
            did=answer.did,
            handle=answer.handle,
            access=answer.access_jwt,
            refresh=answer.refresh_jwt,
        )

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        nsid: str,
        bearer: str | None,
        params: Params | None,
        json: Any,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        content: bytes | None = None
        if json is not None:
            content = _encoder.encode(json)
            headers["Content-Type"] = "application/json"
        try:
            return await client.request(
                method,
                f"{self._base}/xrpc/{nsid}",
                params=dict(params) if params else None,
                content=content,
                headers=headers,
                timeout=self._timeout,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            # Not chained: the httpx request holds the bearer token or the password.
            raise error_from_exception(nsid, exc) from None


def _needs_renewal(response: httpx.Response) -> bool:
    return response.status_code in (400, 401) and error_name(response) in _RENEW_ERRORS
