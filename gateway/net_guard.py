"""Outbound HTTP to user-supplied URLs: refuse private addresses, pin DNS, cap answers.

Feed URLs, Mastodon and Bluesky instance URLs and webhook URLs are user input. Unguarded,
they would let whoever configures a source (or whoever runs a feed that redirects) make
the gateway fetch ``http://169.254.169.254/`` or a service on the internal network.

``GuardedTransport`` wraps the real transport and, for every request (so for every
redirect hop too, whether httpx or a connector follows it):

1. resolves the host (``loop.getaddrinfo``; an IP literal is its own address);
2. refuses the request unless every address is public (``refusal``): loopback, private
   (RFC 1918, 100.64/10, fc00::/7), link-local (169.254/16, fe80::/10), unspecified,
   multicast and reserved addresses are refused, also when embedded in an IPv6 address
   (``::ffff:10.0.0.1``, 6to4, Teredo, NAT64);
3. sends the request to the address it checked (the host is not resolved a second time,
   so a DNS answer cannot change between the check and the connection), keeping the
   ``Host`` header and the TLS server name of the URL;
4. stops reading an answer whose body passes ``max_bytes`` (as sent on the wire).

With ``allow_private`` (``GATEWAY_ALLOW_PRIVATE_URLS=true``, or a source's
``allow_private`` flag set by an admin) step 2 is skipped; the rest still applies.

Errors (``PermanentError`` from the connector contract, so connectors pass them through
and the scheduler records them)::

    PermanentError
    ├── AddressRefused     the URL resolves to an address that is refused
    └── ResponseTooLarge   the answer is larger than max_bytes

A host that does not resolve is an ``httpx.ConnectError`` (connectors: transient).
Clients built here never read proxy settings from the environment: a proxy would
connect on our behalf and bypass the check.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx

from connectors.contract import PermanentError
from gateway.net_lanes import LanedTransport

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT_S = 15.0
USER_AGENT = "EngagementGateway/0.1"
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
ALLOW_HINT = (
    "an admin can set allow_private on the source (or GATEWAY_ALLOW_PRIVATE_URLS=true) to permit it"
)


class AddressRefused(PermanentError):
    """A URL resolves to an address the gateway refuses to connect to."""


class ResponseTooLarge(PermanentError):
    """An answer's body is larger than the guard allows."""


def refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` is refused ("loopback", "private", ...), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            why = refusal(embedded)
            if why is not None:
                return why
            if ip in _NAT64:
                return None
    checks = (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-public", not ip.is_global),
    )
    for why, refused in checks:
        if refused:
            return why
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses as the system resolver gives them (``loop.getaddrinfo``)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def resolve(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    """The addresses of ``host``; raises ``OSError`` when it does not resolve."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    found = [ipaddress.ip_address(a.split("%")[0]) for a in await resolver(host, port)]
    if not found:
        raise OSError(f"{host} has no address")
    return found


def refused_message(label: str, ip: IPAddress, why: str) -> str:
    article = "an" if why[0] in "aeiou" else "a"
    return f"refused: {label} resolves to {article} {why} address {ip}; {ALLOW_HINT}"


def check_addresses(label: str, addresses: list[IPAddress]) -> None:
    """Raise ``AddressRefused`` unless every address is public."""
    for ip in addresses:
        why = refusal(ip)
        if why is not None:
            raise AddressRefused(refused_message(label, ip, why))


async def check_url(
    url: str, *, label: str, allow_private: bool, resolver: Resolver = system_resolver
) -> None:
    """Refuse ``url`` now if it resolves to a refused address (at configuration time).

    A host that does not resolve is accepted here: it may resolve later, and every
    request is checked again by ``GuardedTransport``.
    """
    if allow_private:
        return
    parsed = httpx.URL(url)
    host = parsed.raw_host.decode("ascii")
    try:
        addresses = await resolve(host, parsed.port or _default_port(parsed), resolver)
    except (OSError, UnicodeError):
        return
    check_addresses(label, addresses)


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


class GuardedTransport(httpx.AsyncBaseTransport):
    """Wraps ``inner`` with the checks in the module docstring."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        allow_private: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._inner = inner
        self._allow_private = allow_private
        self._max_bytes = max_bytes
        self._resolver = resolver

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pinned = await self._pinned(request)
        response = await self._inner.handle_async_request(pinned)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            await response.aclose()
            raise ResponseTooLarge(self._too_large(request))
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedStream(stream, self._max_bytes, self._too_large(request)),
            extensions=response.extensions,
        )

    async def _pinned(self, request: httpx.Request) -> httpx.Request:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise AddressRefused(f"refused: {url.scheme}: URLs are not fetched")
        host = url.raw_host.decode("ascii")  # IDNA-encoded, as DNS and TLS want it
        try:
            addresses = await resolve(host, url.port or _default_port(url), self._resolver)
        except (OSError, UnicodeError) as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}", request=request) from None
        if not self._allow_private:
            check_addresses(f"{url.scheme}://{host}", addresses)
        if _literal(host) is not None:
            return request
        extensions = dict(request.extensions)
        if url.scheme == "https":
            extensions["sni_hostname"] = host
        return httpx.Request(
            request.method,
            url.copy_with(host=str(addresses[0])),
            headers=request.headers,  # carries Host: <the URL's host>
            stream=request.stream,
            extensions=extensions,
        )

    def _too_large(self, request: httpx.Request) -> str:
        return (
            f"refused: the answer from {request.url.scheme}://{request.url.host} is larger "
            f"than {self._max_bytes} bytes"
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class _CappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, limit: int, message: str) -> None:
        self._inner = inner
        self._limit = limit
        self._message = message

    async def __aiter__(self) -> AsyncIterator[bytes]:
        total = 0
        async for chunk in self._inner:
            total += len(chunk)
            if total > self._limit:
                raise ResponseTooLarge(self._message)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def guarded_client(
    *,
    allow_private: bool,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
    resolver: Resolver = system_resolver,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A client whose every request goes through ``GuardedTransport``.

    ``transport`` is the real transport (default: httpx's, without retries, over lanes of
    one connection each, ``gateway/net_lanes.py``, so a request's cost does not grow with
    the number of connections held). Redirects are
    not followed unless a caller asks; each hop is checked either way.
    """
    inner = transport if transport is not None else LanedTransport()
    return httpx.AsyncClient(
        transport=GuardedTransport(
            inner, allow_private=allow_private, max_bytes=max_bytes, resolver=resolver
        ),
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
        headers={"User-Agent": USER_AGENT},  # some feed hosts refuse python-httpx
        follow_redirects=False,
        trust_env=False,
    )


class OutboundClients:
    """The two guarded clients a process needs (private addresses refused / allowed).

    ``client(allow_private)`` returns the same client every time; ``aclose`` closes both.
    ``allow_private_urls`` (the global setting) makes both allow private addresses.
    """

    def __init__(
        self,
        *,
        allow_private_urls: bool = False,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_bytes: int = DEFAULT_MAX_BYTES,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._allow_all = allow_private_urls
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes
        self._resolver = resolver
        self._transport = transport
        self._clients: dict[bool, httpx.AsyncClient] = {}

    def client(self, allow_private: bool = False) -> httpx.AsyncClient:
        allow = allow_private or self._allow_all
        if allow not in self._clients:
            self._clients[allow] = guarded_client(
                allow_private=allow,
                timeout_s=self._timeout_s,
                max_bytes=self._max_bytes,
                resolver=self._resolver,
                transport=self._transport,
            )
        return self._clients[allow]

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
