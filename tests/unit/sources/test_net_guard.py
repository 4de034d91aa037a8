"""The SSRF guard: private, loopback and link-local addresses are refused on every request,
including each redirect hop; checked addresses are pinned; answers are size-capped."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from connectors.contract import PermanentError, TransientError
from connectors.rss import RssSource
from gateway.net_guard import (
    AddressRefused,
    OutboundClients,
    ResponseTooLarge,
    check_url,
    guarded_client,
    refusal,
)

PUBLIC = "93.184.216.34"
FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid>https://feed.example/1</guid><title>Hello</title><description>hi @acme</description>
</item></channel></rss>"""


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return table[host]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return resolve


class Recorder:
    def __init__(self, answer: httpx.Response | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self._answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._answer or httpx.Response(200, text="ok")


# Refused with the system resolver: literals, odd IPv4 spellings and "localhost" need no
# network to resolve.
REFUSED = [
    ("http://127.0.0.1/feed", "loopback", "127.0.0.1"),
    ("http://[::1]/feed", "loopback", "::1"),
    ("http://0.0.0.0/", "unspecified", "0.0.0.0"),
    ("http://[::]/", "unspecified", "::"),
    ("http://127.1/", "loopback", "127.0.0.1"),
    ("http://0x7f000001/", "loopback", "127.0.0.1"),
    ("http://2130706433/", "loopback", "127.0.0.1"),
    ("http://localhost:8080/", "loopback", "127.0.0.1"),
    ("http://10.0.0.5/feed", "private", "10.0.0.5"),
    ("http://192.168.1.1/", "private", "192.168.1.1"),
    ("http://172.16.0.1/", "private", "172.16.0.1"),
    ("http://169.254.169.254/latest/meta-data/", "link-local", "169.254.169.254"),
    ("http://[fe80::1]/", "link-local", "fe80::1"),
    ("http://[fc00::1]/", "private", "fc00::1"),
    ("http://[fd12:3456::1]/", "private", "fd12:3456::1"),
    ("http://[::ffff:127.0.0.1]/", "loopback", "::ffff:127.0.0.1"),
    ("http://[::ffff:10.0.0.1]/", "private", "::ffff:10.0.0.1"),
    ("http://224.0.0.1/", "multicast", "224.0.0.1"),
    ("http://100.64.0.1/", "non-public", "100.64.0.1"),  # carrier-grade NAT
]


@pytest.mark.parametrize(("url", "why", "address"), REFUSED)
async def test_private_addresses_are_refused_by_default(url: str, why: str, address: str) -> None:
    inner = Recorder()
    async with guarded_client(allow_private=False, transport=httpx.MockTransport(inner)) as client:
        with pytest.raises(AddressRefused) as refused:
            await client.get(url)
    assert inner.requests == []  # nothing was sent
    message = str(refused.value)
    assert f"{why} address {ipaddress.ip_address(address)};" in message
    assert "allow_private" in message


async def test_a_name_resolving_to_a_private_address_is_refused_and_named() -> None:
    inner = Recorder()
    table = {"intranet.example": ["10.0.0.5"]}
    async with guarded_client(
        allow_private=False, transport=httpx.MockTransport(inner), resolver=resolver(table)
    ) as client:
        with pytest.raises(AddressRefused, match=r"private address 10\.0\.0\.5; .*allow_private"):
            await client.get("https://intranet.example/feed.xml")
    assert inner.requests == []


async def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    table = {"mixed.example": [PUBLIC, "127.0.0.1"]}
    async with guarded_client(
        allow_private=False, transport=httpx.MockTransport(Recorder()), resolver=resolver(table)
    ) as client:
        with pytest.raises(AddressRefused, match="loopback"):
            await client.get("http://mixed.example/")


async def test_a_public_address_is_pinned_with_the_original_host_and_server_name() -> None:
    inner = Recorder()
    table = {"feed.example": [PUBLIC]}
    async with guarded_client(
        allow_private=False, transport=httpx.MockTransport(inner), resolver=resolver(table)
    ) as client:
        response = await client.get("https://feed.example:8443/rss?x=1")
    assert response.status_code == 200
    assert str(response.url) == "https://feed.example:8443/rss?x=1"  # callers see their URL
    [sent] = inner.requests
    assert sent.url.host == PUBLIC  # connects to the address that was checked
    assert sent.url.port == 8443 and sent.url.query == b"x=1"
    assert sent.headers["Host"] == "feed.example:8443"
    assert sent.extensions["sni_hostname"] == "feed.example"


async def test_allow_private_lets_loopback_through() -> None:
    inner = Recorder()
    async with guarded_client(allow_private=True, transport=httpx.MockTransport(inner)) as client:
        response = await client.get("http://127.0.0.1:9/feed")
    assert response.status_code == 200
    assert len(inner.requests) == 1


async def test_outbound_clients_allow_private_only_when_asked_or_set_globally() -> None:
    clients = OutboundClients(transport=httpx.MockTransport(Recorder()))
    try:
        with pytest.raises(AddressRefused):
            await clients.client(False).get("http://127.0.0.1/")
        assert (await clients.client(True).get("http://127.0.0.1/")).status_code == 200
        assert clients.client(True) is clients.client(True)
    finally:
        await clients.aclose()
    everything = OutboundClients(allow_private_urls=True, transport=httpx.MockTransport(Recorder()))
    try:
        assert (await everything.client(False).get("http://10.1.2.3/")).status_code == 200
    finally:
        await everything.aclose()


async def test_each_redirect_hop_is_checked_when_the_feed_follows_it() -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        if request.headers["Host"] == "feed.example":
            return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})
        return httpx.Response(200, content=FEED)  # the metadata service, never reached

    inner = Recorder()

    def handler(request: httpx.Request) -> httpx.Response:
        inner.requests.append(request)
        return serve(request)

    table = {"feed.example": [PUBLIC]}
    async with guarded_client(
        allow_private=False, transport=httpx.MockTransport(handler), resolver=resolver(table)
    ) as client:
        source = RssSource("http://feed.example/rss", client, name="grumbles")
        with pytest.raises(PermanentError, match=r"link-local address 169\.254\.169\.254"):
            await source.fetch(None)
        assert len(inner.requests) == 1  # the first hop only

        # httpx following the redirect itself is checked the same way.
        with pytest.raises(AddressRefused):
            await client.get("http://feed.example/rss", follow_redirects=True)


async def test_a_redirect_to_a_public_host_is_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Host"] == "old.example":
            return httpx.Response(301, headers={"Location": "http://new.example/rss"})
        return httpx.Response(200, content=FEED, headers={"Content-Type": "application/rss+xml"})

    table = {"old.example": [PUBLIC], "new.example": ["93.184.216.35"]}
    async with guarded_client(
        allow_private=False, transport=httpx.MockTransport(handler), resolver=resolver(table)
    ) as client:
        batch = await RssSource("http://old.example/rss", client).fetch(None)
    assert [m.external_id for m in batch.mentions] == ["https://feed.example/1"]


async def test_a_host_that_does_not_resolve_is_a_transient_error_for_connectors() -> None:
    async with guarded_client(
        allow_private=False, transport=httpx.MockTransport(Recorder()), resolver=resolver({})
    ) as client:
        with pytest.raises(httpx.ConnectError, match="cannot resolve"):
            await client.get("http://nowhere.example/")
        with pytest.raises(TransientError):
            await RssSource("http://nowhere.example/rss", client).fetch(None)


async def test_an_answer_larger_than_the_cap_is_refused() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 500

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/declared":
            return httpx.Response(200, content=b"x" * 5000)  # with Content-Length
        return httpx.Response(200, content=chunks())  # streamed, no length

    async with guarded_client(
        allow_private=True, max_bytes=1000, transport=httpx.MockTransport(handler)
    ) as client:
        with pytest.raises(ResponseTooLarge, match="larger than 1000 bytes"):
            await client.get("http://127.0.0.1/declared")
        with pytest.raises(ResponseTooLarge):
            await client.get("http://127.0.0.1/streamed")


async def test_check_url_refuses_private_and_accepts_unresolvable_hosts() -> None:
    with pytest.raises(AddressRefused, match=r"config\.url resolves to a loopback address"):
        await check_url("http://localhost/feed", label="config.url", allow_private=False)
    await check_url("http://127.0.0.1/feed", label="config.url", allow_private=True)
    await check_url(
        "https://not-yet.example/feed",
        label="config.url",
        allow_private=False,
        resolver=resolver({}),
    )


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
        ("2002:0a00:0001::1", "private"),  # 6to4 wrapping 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"),  # Teredo client 10.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("64:ff9b::808:808", None),  # NAT64 of 8.8.8.8
        ("198.18.0.1", "private"),  # benchmarking
        ("240.0.0.1", "private"),
        ("ff02::1", "multicast"),
    ],
)
def test_refusal_classifies_embedded_and_special_addresses(address: str, why: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == why
