"""A conditional GET of one feed, within a size cap and a time limit.

``fetch_feed`` sends ``If-None-Match`` / ``If-Modified-Since`` from the previous answer's
``ETag`` / ``Last-Modified``, follows at most ``max_redirects`` redirects itself (each hop
goes through the injected client, so a guard on its transport sees every address), and
streams the body, stopping once it passes ``max_bytes`` (counted after Content-Encoding
is undone, so a compressed bomb stops too). ``timeout_s`` bounds each network operation
and, as a deadline, the whole fetch with its redirects: a server trickling bytes cannot
hold it longer.

How answers map to results (no httpx exception ever escapes)::

    2xx                              FetchResult with the body
    304                              FetchResult(not_modified=True), empty body
    301, 302, 303, 307, 308          followed (http and https only), at most max_redirects
    408, 429, 5xx                    TransientError, retry_after from Retry-After
    timeout, connection failure      TransientError
    401, 403, 404, 410, other 4xx    PermanentError saying what a person can do about it
    too large, too many redirects,
    bad Location, undecodable body,
    unsupported URL                  PermanentError

A ``ConnectorError`` raised by the client's transport (say, a guard refusing an address)
passes through unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import httpx
import msgspec

from connectors.clock import parse_retry_after
from connectors.clock import utc_now as _utc_now
from connectors.contract import PermanentError, TransientError

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TIMEOUT_S = 15.0
DEFAULT_MAX_REDIRECTS = 5
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_EXCERPT_BYTES = 2048
_EXCERPT_CHARS = 200


class FetchResult(msgspec.Struct, frozen=True, kw_only=True):
    """One answer: the feed's bytes, or word that they have not changed."""

    url: str  # where the answer came from, after redirects
    not_modified: bool = False
    content: bytes = b""  # empty when not_modified
    content_type: str | None = None
    etag: str | None = None  # validators to send next time (None: the server gave none)
    modified: str | None = None  # the Last-Modified value, verbatim
    moved_to: str | None = None  # the new address when a permanent redirect was followed


async def fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    modified: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
    label: str | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> FetchResult:
    """GET ``url`` unless it is unchanged since the answer that gave ``etag`` / ``modified``.

    ``label`` names the feed in error messages (default: ``url``). ``clock`` (aware) turns
    a Retry-After date into seconds. A ``url`` that is not absolute http(s) is a
    ``PermanentError``.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise PermanentError(f"{label or url}: not a URL ({exc})") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise PermanentError(f"{label or url}: only absolute http(s) addresses can be fetched")
    hops = _Hops(
        client=client,
        headers=_request_headers(etag, modified),
        max_bytes=max_bytes,
        timeout=httpx.Timeout(timeout_s),
        label=label or url,
        clock=clock,
    )
    try:
        async with asyncio.timeout(timeout_s):
            return await hops.follow(url, max_redirects)
    except TimeoutError as exc:
        raise TransientError(f"{hops.label}: no complete answer within {timeout_s:g} s") from exc


def _request_headers(etag: str | None, modified: str | None) -> dict[str, str]:
    headers = {"Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    return headers


class _Hops(msgspec.Struct, frozen=True, kw_only=True):
    client: httpx.AsyncClient
    headers: dict[str, str]
    max_bytes: int
    timeout: httpx.Timeout
    label: str
    clock: Callable[[], datetime]

    async def follow(self, url: str, max_redirects: int) -> FetchResult:
        moved_to: str | None = None
        permanent = True  # every hop so far was permanent: the feed itself has moved
        for _ in range(max_redirects + 1):
            answer = await self._get(url)
            if isinstance(answer, FetchResult):
                return msgspec.structs.replace(answer, moved_to=moved_to)
            url, hop_permanent = answer
            permanent = permanent and hop_permanent
            if permanent:
                moved_to = url
        raise PermanentError(f"{self.label}: more than {max_redirects} redirects")

    async def _get(self, url: str) -> FetchResult | tuple[str, bool]:
        """One request: a result, or where it redirects to and whether permanently."""
        try:
            async with self.client.stream(
                "GET", url, headers=self.headers, timeout=self.timeout, follow_redirects=False
            ) as response:
                return await self._answer(response)
        except httpx.TimeoutException as exc:
            raise TransientError(f"{self.label}: timed out ({type(exc).__name__})") from exc
        except httpx.DecodingError as exc:
            raise PermanentError(
                f"{self.label}: the body could not be decoded ({exc}); the server's "
                "Content-Encoding does not match what it sent"
            ) from exc
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL) as exc:
            raise PermanentError(f"{self.label}: the request cannot be sent ({exc})") from exc
        except httpx.HTTPError as exc:
            raise TransientError(
                f"{self.label}: unreachable ({type(exc).__name__}: {exc})"
            ) from exc

    async def _answer(self, response: httpx.Response) -> FetchResult | tuple[str, bool]:
        status = response.status_code
        if status in _REDIRECTS:
            return self._location(response), status in (301, 308)
        if status == 304:
            return FetchResult(url=str(response.url), not_modified=True)
        if 200 <= status < 300:
            return FetchResult(
                url=str(response.url),
                content=await self._read(response),
                content_type=response.headers.get("Content-Type"),
                etag=response.headers.get("ETag"),
                modified=response.headers.get("Last-Modified"),
            )
        raise await self._refusal(response)

    def _location(self, response: httpx.Response) -> str:
        location = response.headers.get("Location")
        if not location:
            raise PermanentError(
                f"{self.label}: HTTP {response.status_code} redirect without a Location"
            )
        try:
            target = response.url.join(location)
        except httpx.InvalidURL as exc:
            raise PermanentError(f"{self.label}: redirect to a bad address ({exc})") from exc
        if target.scheme not in ("http", "https"):
            raise PermanentError(f"{self.label}: redirect to a non-HTTP address ({target})")
        return str(target)

    async def _read(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise PermanentError(f"{self.label}: feed larger than {self.max_bytes} bytes")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self.max_bytes:
                raise PermanentError(f"{self.label}: feed larger than {self.max_bytes} bytes")
        return bytes(body)

    async def _refusal(self, response: httpx.Response) -> Exception:
        status = response.status_code
        if status in (408, 429) or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self.clock())
            wait = f"; retry after {retry_after:g} s" if retry_after is not None else ""
            return TransientError(
                f"{self.label}: the server is busy or failing (HTTP {status}){wait}",
                retry_after=retry_after,
            )
        if status == 404:
            return PermanentError(
                f"{self.label}: not found (HTTP 404); check the feed address, the site may "
                "have moved or renamed the feed"
            )
        if status == 410:
            return PermanentError(
                f"{self.label}: gone (HTTP 410); the site removed this feed for good, "
                "remove or replace the source"
            )
        if status in (401, 403):
            return PermanentError(
                f"{self.label}: access refused (HTTP {status}); the feed needs credentials "
                "or the site blocks this client"
            )
        return PermanentError(
            f"{self.label}: request refused (HTTP {status}): {await _excerpt(response)}"
        )


async def _excerpt(response: httpx.Response) -> str:
    """The start of an error body on one line, without reading all of it."""
    head = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            head += chunk
            if len(head) >= _EXCERPT_BYTES:
                break
    except httpx.HTTPError:
        pass  # the status says enough; the excerpt is a courtesy
    text = " ".join(head[:_EXCERPT_BYTES].decode("utf-8", "replace").split())
    if len(text) > _EXCERPT_CHARS:
        return text[:_EXCERPT_CHARS] + "…"
    return text or "(empty body)"
