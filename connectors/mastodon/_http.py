"""The HTTP boundary of the Mastodon connector: one request, its answer mapped to our errors.

No httpx exception leaves this module. How answers map (``request`` and ``check``)::

    2xx                                  the response
    401, 403                             PermanentError (token revoked, or a scope is missing)
    429                                  TransientError, retry_after from Retry-After, else
                                         from X-RateLimit-Reset (Mastodon sends only that)
    408, 5xx                             TransientError (retry_after from Retry-After if any)
    timeout, connection failure          TransientError
    3xx                                  PermanentError (redirects are not followed: the token
                                         goes only to the configured instance)
    422 and other 4xx                    PermanentError with Mastodon's ``error`` text
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
import msgspec

from connectors.clock import aware, parse_retry_after
from connectors.contract import PermanentError, TransientError

_EXCERPT_CHARS = 200
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_REL = re.compile(r';\s*rel\s*=\s*"?([^";]+)"?', re.IGNORECASE)


def instance_url(base_url: str) -> httpx.URL:
    """The instance's root URL; raises ``ValueError`` unless absolute http(s) with a host."""
    parsed = httpx.URL(base_url.rstrip("/") + "/")
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"Mastodon base_url must be an absolute http(s) URL, got {base_url!r}")
    if parsed.query or parsed.fragment:
        raise ValueError("Mastodon base_url must not carry a query or fragment")
    return parsed


def instance_domain(url: httpx.URL) -> str:
    """The domain local accounts belong to, as written after ``@`` (host, and a port if any)."""
    host = url.host.lower()
    return f"{host}:{url.port}" if url.port is not None else host


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: httpx.URL,
    *,
    token: str | None,
    time_limit: httpx.Timeout,
    params: Mapping[str, str | list[str]] | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """One request (with the bearer token if any); transport failures become ``TransientError``."""
    sent = {"Accept": "application/json"}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    sent.update(headers or {})
    try:
        return await client.request(
            method,
            url,
            params=params,
            json=json,
            headers=sent,
            timeout=time_limit,
            follow_redirects=False,
        )
    except httpx.TimeoutException as exc:
        raise TransientError(f"Mastodon timed out: {type(exc).__name__}") from exc
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
        raise PermanentError(f"Mastodon request cannot be sent: {exc}") from exc
    except httpx.HTTPError as exc:
        raise TransientError(f"Mastodon unreachable: {type(exc).__name__}") from exc


def check(response: httpx.Response, *, doing: str, auth_hint: str, now: datetime) -> None:
    """Raise our error for a non-2xx ``response`` (table in the module docstring).

    ``doing`` names the call in messages ("reading notifications"); ``auth_hint`` says what
    a 401/403 most likely means for it.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"Mastodon answered HTTP {status} {doing}: {error_text(response)}"
    if status in (401, 403):
        raise PermanentError(f"{message} ({auth_hint})")
    if status == 429:
        raise TransientError(message, retry_after=retry_after(response.headers, now))
    if status == 408 or status >= 500:
        seconds = parse_retry_after(response.headers.get("Retry-After"), now)
        raise TransientError(message, retry_after=seconds)
    if 300 <= status < 400:
        target = response.headers.get("Location", "(no Location)")
        raise PermanentError(f"{message}; redirected to {target}: configure that URL instead")
    raise PermanentError(message)


def retry_after(headers: httpx.Headers, now: datetime) -> float | None:
    """Seconds to wait after a 429: ``Retry-After`` if present, else ``X-RateLimit-Reset``.

    Mastodon sends ``X-RateLimit-Reset`` as an ISO 8601 time; a time in the past gives 0.
    """
    seconds = parse_retry_after(headers.get("Retry-After"), now)
    if seconds is not None:
        return seconds
    reset = headers.get("X-RateLimit-Reset")
    if reset is None:
        return None
    try:
        when = datetime.fromisoformat(reset.strip())
    except ValueError:
        return None
    return max(0.0, (aware(when) - aware(now)).total_seconds())


def link_param(headers: httpx.Headers, rel: str, name: str) -> str | None:
    """Query parameter ``name`` of the ``Link`` header's target with relation ``rel``.

    Only the parameter is taken, never the URL itself: we build the next request against
    the configured instance, so a Link pointing elsewhere cannot receive the token.
    """
    for value in headers.get_list("Link"):
        for match in _LINK.finditer(value):
            rels = {r.lower() for found in _REL.findall(match[2]) for r in found.split()}
            if rel in rels:
                try:
                    found = httpx.URL(match[1]).params.get(name)
                except httpx.InvalidURL:
                    return None
                return found or None
    return None


def error_text(response: httpx.Response) -> str:
    """Mastodon's ``{"error": ...}`` message, else a short excerpt of the body."""
    try:
        decoded = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        decoded = None
    if isinstance(decoded, dict):
        error = decoded.get("error")
        if isinstance(error, str) and error:
            return error[:_EXCERPT_CHARS]
    text = " ".join(response.text.split())
    if len(text) > _EXCERPT_CHARS:
        return text[:_EXCERPT_CHARS] + "…"
    return text or "(empty body)"
