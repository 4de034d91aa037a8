"""Outbound HTTP over lanes (gateway/net_lanes.py), against a real HTTP/1.1 server on
loopback: bounded concurrency, warm connections reused, a lane given back however its
request ends, and a request's pool check that does not grow with the connections held."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpcore
import httpx
import pytest

from gateway.net_guard import guarded_client
from gateway.net_lanes import LanedTransport


class Server:
    """A keep-alive HTTP/1.1 server: answers every request after ``delay_s``; records the
    peers (one per connection) and the most requests it held at once. A request for
    ``/hangup`` closes the connection without an answer."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.peers: set[tuple[str, int]] = set()
        self.requests = 0
        self.now = 0
        self.most = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.peers.add(writer.get_extra_info("peername")[:2])
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                if b" /hangup " in head.split(b"\r\n")[0] + b" ":
                    return
                self.requests += 1
                self.now += 1
                self.most = max(self.most, self.now)
                await asyncio.sleep(self.delay_s)
                self.now -= 1
                body = b"x" * 10_000 if b" /big " in head.split(b"\r\n")[0] + b" " else b"ok"
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Server]:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            self._server.close()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def test_at_most_lanes_requests_at_once_each_on_a_warm_connection() -> None:
    async with Server(delay_s=0.02).running() as server:
        transport = LanedTransport(4)
        async with httpx.AsyncClient(transport=transport) as client:
            answers = await asyncio.gather(
                *(client.post(server.url(), content=b"{}") for _ in range(40))
            )
            assert [a.status_code for a in answers] == [200] * 40
            assert server.requests == 40
            assert server.most == 4  # 40 waiting, never more than 4 sent
            assert len(server.peers) == 4  # each lane kept its connection
            assert transport.busy == 0


async def test_one_request_after_another_uses_one_connection() -> None:
    async with Server().running() as server:
        async with httpx.AsyncClient(transport=LanedTransport(8)) as client:
            for _ in range(10):
                assert (await client.get(server.url())).text == "ok"
        assert len(server.peers) == 1


async def test_a_failed_request_gives_its_lane_back() -> None:
    async with Server().running() as server:
        transport = LanedTransport(1)
        async with httpx.AsyncClient(transport=transport) as client:
            for _ in range(3):
                with pytest.raises(httpx.RemoteProtocolError):
                    await client.get(server.url("/hangup"))
            assert transport.busy == 0
            assert (await client.get(server.url())).text == "ok"  # the one lane is free


async def test_a_streamed_answer_holds_its_lane_until_closed() -> None:
    async with Server().running() as server:
        transport = LanedTransport(1)
        async with httpx.AsyncClient(transport=transport) as client:
            async with client.stream("GET", server.url("/big")) as streamed:
                assert transport.busy == 1
                waiting = asyncio.ensure_future(client.get(server.url()))
                await asyncio.sleep(0.05)
                assert not waiting.done()  # no lane free while the body is unread
            assert (await waiting).text == "ok"  # closed unread: the lane came back
            assert streamed.is_closed
            assert transport.busy == 0


async def _cancel_then_reuse(
    slow: asyncio.Future[httpx.Response],
    transport: LanedTransport,
    server: Server,
    client: httpx.AsyncClient,
) -> None:
    """Cancel the request holding the one lane: the lane comes back and carries the next."""
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert transport.busy == 0
    server.delay_s = 0
    assert (await client.get(server.url())).text == "ok"


async def test_a_cancelled_request_gives_its_lane_back() -> None:
    async with Server(delay_s=5).running() as server:
        transport = LanedTransport(1)
        async with httpx.AsyncClient(transport=transport) as client:
            slow = asyncio.ensure_future(client.get(server.url()))
            await asyncio.sleep(0.1)
            assert transport.busy == 1
            await _cancel_then_reuse(slow, transport, server, client)


async def test_waiting_for_a_lane_ends_at_the_pool_timeout() -> None:
    async with Server(delay_s=5).running() as server:
        transport = LanedTransport(1)
        timeout = httpx.Timeout(10.0, pool=0.2)
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
            slow = asyncio.ensure_future(client.get(server.url()))
            await asyncio.sleep(0.1)
            with pytest.raises(httpx.PoolTimeout, match="1 requests in flight"):
                await client.get(server.url())
            assert transport.busy == 1  # the slow one still holds the lane; none leaked
            await _cancel_then_reuse(slow, transport, server, client)


async def test_a_request_checks_one_connection_however_many_are_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpx's own pool polls every idle connection on every request; a lane holds one."""
    checks = 0
    has_expired = httpcore._async.http11.AsyncHTTP11Connection.has_expired

    def counted(self: httpcore._async.http11.AsyncHTTP11Connection) -> bool:
        nonlocal checks
        checks += 1
        return has_expired(self)

    monkeypatch.setattr(httpcore._async.http11.AsyncHTTP11Connection, "has_expired", counted)

    async def checks_per_request(transport: httpx.AsyncBaseTransport) -> float:
        nonlocal checks
        async with (
            Server(delay_s=0.02).running() as server,
            httpx.AsyncClient(transport=transport) as client,
        ):
            await asyncio.gather(*(client.get(server.url()) for _ in range(16)))  # 16 warm
            assert len(server.peers) == 16
            checks = 0
            for _ in range(20):
                await client.get(server.url())
            return checks / 20

    assert await checks_per_request(httpx.AsyncHTTPTransport()) >= 15  # why lanes exist
    assert await checks_per_request(LanedTransport(16)) <= 2


async def test_the_guarded_client_sends_over_lanes() -> None:
    async with (
        Server(delay_s=0.02).running() as server,
        guarded_client(allow_private=True) as client,
    ):
        answers = await asyncio.gather(*(client.post(server.url(), json={}) for _ in range(8)))
        assert {a.status_code for a in answers} == {200}
        transport = client._transport._inner  # type: ignore[attr-defined]
        assert isinstance(transport, LanedTransport)
        assert transport.busy == 0


def test_lanes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LanedTransport(0)
