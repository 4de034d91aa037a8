"""XRPC answers and transport failures translated into the connector contract's errors.

An XRPC error answer is JSON ``{"error": "Name", "message": "..."}``. How they map::

    2xx                                   the answer (callers decode it)
    429                                   XrpcTransientError, retry_after from Retry-After,
                                          else from ratelimit-reset (unix seconds)
    408, 5xx                              XrpcTransientError (retry_after if the server says)
    other 4xx (InvalidRequest, ...)       XrpcPermanentError
    timeout, connection failure           XrpcTransientError (status None)
    a request that cannot be sent         XrpcPermanentError (status None)

Both error classes carry ``status`` (None without an answer) and ``error`` (the XRPC error
name, None when the body had none), so callers can tell ``ExpiredToken`` or a record
conflict from other failures. Messages never contain request headers, so never a token.
"""

from __future__ import annotations

import email.utils
from datetime import UTC

import httpx
import msgspec

from connectors.contract import PermanentError, TransientError

_EXCERPT_CHARS = 200


class XrpcTransientError(TransientError):
    """Try again later; ``status``/``error`` say what the server answered, if anything."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        error: str | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status
        self.error = error


class XrpcPermanentError(PermanentError):
    """Retrying the same request cannot help."""

    def __init__(self, message: str, *, status: int | None = None, error: str | None = None):
        super().__init__(message)
        self.status = status
        self.error = error


XrpcError = XrpcTransientError | XrpcPermanentError


class _ErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    error: str | None = None
    message: str | None = None


_error_decoder = msgspec.json.Decoder(_ErrorBody)


def error_name(response: httpx.Response) -> str | None:
    """The XRPC error name in an error answer, or None when the body has none."""
    try:
        return _error_decoder.decode(response.content).error
    except msgspec.DecodeError:
        return None


def error_from_response(nsid: str, response: httpx.Response, now: float) -> XrpcError:
    """The error for a non-2xx answer to ``nsid``; ``now`` is the clock in unix seconds."""
    status = response.status_code
    try:
        body = _error_decoder.decode(response.content)
    except msgspec.DecodeError:
        body = _ErrorBody(message=_excerpt(response.text))
    name = body.error
    detail = " ".join((body.message or "").split())[:_EXCERPT_CHARS]
    message = f"{nsid} answered HTTP {status}" + (f" {name}" if name else "")
    message += f": {detail}" if detail else ""
    if status in (408, 429) or status >= 500:
        retry_after = retry_after_seconds(response.headers, now)
        return XrpcTransientError(message, retry_after=retry_after, status=status, error=name)
    return XrpcPermanentError(message, status=status, error=name)


def error_from_exception(nsid: str, exc: httpx.HTTPError) -> XrpcError:
    """The error for a request to ``nsid`` that got no answer."""
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError | httpx.InvalidURL):
        return XrpcPermanentError(f"{nsid} request cannot be sent: {type(exc).__name__}")
    if isinstance(exc, httpx.TimeoutException):
        return XrpcTransientError(f"{nsid} timed out: {type(exc).__name__}")
    return XrpcTransientError(f"{nsid} failed: {type(exc).__name__}: {exc}")


def retry_after_seconds(headers: httpx.Headers, now: float) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or HTTP date) or ``ratelimit-reset``.

    ``ratelimit-reset`` is the unix time the window resets. A time in the past gives 0;
    headers that are absent or unreadable give None.
    """
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isascii() and retry_after.isdigit():
        return float(retry_after)
    if retry_after:
        try:
            when = email.utils.parsedate_to_datetime(retry_after)
        except (TypeError, ValueError, IndexError, OverflowError):
            when = None
        if when is not None:
            aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
            return max(0.0, aware.timestamp() - now)
    reset = headers.get("ratelimit-reset", "").strip()
    if reset.isascii() and reset.isdigit():
        return max(0.0, float(reset) - now)
    return None


def _excerpt(text: str) -> str:
    return " ".join(text.split())[:_EXCERPT_CHARS]
