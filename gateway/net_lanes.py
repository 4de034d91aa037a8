"""Outbound HTTP over lanes: many keep-alive connections, each request priced as one.

httpx's connection pool (httpcore) looks at every connection it holds on every request:
before it assigns a request it asks each idle connection whether it has expired, which
is a socket poll per connection. With 16 replies in flight to one webhook that is 16
polls (and their Python around them) per reply, measured at about a fifth of the release
worker's CPU (``bench/release.py --py-spy``).

``LanedTransport`` keeps ``lanes`` small httpx transports of one connection each. A
request takes an idle lane (the one used most recently, so warm connections are reused
and the rest stay closed), is sent on it, and gives the lane back when its answer is
closed (read, or dropped on an error); a lane's pool only ever holds that one connection,
so a request costs one check whatever the load. More requests than lanes wait for one,
as they would for a pool's free connection, at most the request's pool timeout
(``httpx.PoolTimeout``; httpx's default limit is 100 connections, the default here is 100
lanes). Everything else is httpx's: TLS, HTTP/1.1 keep-alive,
timeouts, and a connection to another origin replaced as the pool would replace it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx

DEFAULT_LANES = 100

LaneFactory = Callable[[], httpx.AsyncBaseTransport]


def _one_connection() -> httpx.AsyncBaseTransport:
    return httpx.AsyncHTTPTransport(
        retries=0, limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)
    )


class LanedTransport(httpx.AsyncBaseTransport):
    """At most ``lanes`` requests at once, each on a lane of its own (module docstring)."""

    def __init__(self, lanes: int = DEFAULT_LANES, *, lane: LaneFactory = _one_connection):
        if lanes < 1:
            raise ValueError("lanes must be at least 1")
        self._lane = lane
        self._lanes = lanes
        self._idle: list[httpx.AsyncBaseTransport] = []  # most recently used last
        self._opened: list[httpx.AsyncBaseTransport] = []
        self._free = asyncio.Semaphore(lanes)  # lanes not carrying a request
        self._closed = False

    @property
    def busy(self) -> int:
        """Lanes carrying a request now (sent, answer not yet closed)."""
        return len(self._opened) - len(self._idle)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        await self._wait_for_a_lane(request)
        lane = self._take()
        try:
            response = await lane.handle_async_request(request)
        except BaseException:
            self._give_back(lane)
            raise
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_LaneStream(stream, lambda: self._give_back(lane)),
            extensions=response.extensions,
        )

    async def _wait_for_a_lane(self, request: httpx.Request) -> None:
        """Wait for a free lane at most the request's pool timeout, as httpx's pool waits
        for a free connection (``httpx.PoolTimeout`` after it)."""
        wait_s = request.extensions.get("timeout", {}).get("pool")
        try:
            async with asyncio.timeout(wait_s):
                await self._free.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout(
                f"no free connection within {wait_s} s: {self._lanes} requests in flight",
                request=request,
            ) from None

    def _take(self) -> httpx.AsyncBaseTransport:
        if self._idle:
            return self._idle.pop()
        lane = self._lane()
        self._opened.append(lane)
        return lane

    def _give_back(self, lane: httpx.AsyncBaseTransport) -> None:
        self._idle.append(lane)
        self._free.release()

    async def aclose(self) -> None:
        self._closed = True
        opened, self._opened, self._idle = self._opened, [], []
        for lane in opened:
            await lane.aclose()


class _LaneStream(httpx.AsyncByteStream):
    """The answer's body; gives its lane back once, when closed."""

    def __init__(self, inner: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()
