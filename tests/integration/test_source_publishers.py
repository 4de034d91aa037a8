"""Publishers built from configured sources: Mastodon with the instance's limit, the
webhook signed with the source's secret, through the guarded client; unusable ones skipped."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from connectors.contract import OutgoingReply, PermanentError, Publisher
from connectors.mastodon import MastodonPublisher
from connectors.webhook import verify_signature
from gateway.net_guard import OutboundClients
from gateway.runtime import Runtime
from gateway.secrets import Secrets
from gateway.settings import Settings
from gateway.sources.publishers import configured_publishers
from gateway.sources.service import SourceService, SourceSpec
from tests.integration.sources_support import KEY, PUBLIC, fake_dns, fast

DATA = Path(__file__).resolve().parents[1] / "data" / "mastodon"


class Recorded:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.dns: dict[str, list[str]] = {}

    async def resolve(self, host: str, port: int) -> list[str]:
        return self.dns.get(host, [PUBLIC])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        host, path = request.headers["Host"], request.url.path
        if host == "mastodon.example" and path == "/api/v2/instance":
            instance = json.loads((DATA / "instance_v2.json").read_text())
            instance = instance.get("body", instance)
            instance["configuration"]["statuses"]["max_characters"] = 1000
            return httpx.Response(200, json=instance)
        if host == "mastodon.example" and path == "/api/v1/statuses":
            posted = json.loads((DATA / "status_posted.json").read_text())["body"]
            return httpx.Response(200, json=posted)
        if host == "down.example":
            return httpx.Response(503)
        if host == "crm.example":
            return httpx.Response(200, json={"id": "r-1"})
        return httpx.Response(404)


@pytest.fixture
async def built(
    runtime: Runtime, settings: Settings
) -> AsyncIterator[tuple[dict[str, Publisher], Recorded]]:
    recorded = Recorded()
    secrets = Secrets(settings, environ={}, key=KEY)
    service = SourceService(runtime.db.pool, secrets, fast(settings), resolver=fake_dns({}))
    specs = [
        SourceSpec(
            name="masto",
            kind="mastodon",
            secret="masto-token",
            config={"base_url": "https://mastodon.example", "brand_account_id": "43"},
        ),
        SourceSpec(
            name="masto-eu",
            kind="mastodon",
            channel="mastodon-eu",
            secret="eu-token",
            config={"base_url": "https://down.example"},
        ),
        SourceSpec(
            name="masto-read",
            kind="mastodon",
            channel="mastodon-read",
            secret="t",
            config={"base_url": "https://mastodon.example", "publish": False},
        ),
        SourceSpec(
            name="sky",
            kind="bluesky",
            secret="env:GATEWAY_SOURCE_SECRET_UNSET_BSKY_PASSWORD",
            config={"identifier": "acme.bsky.social"},
        ),
        SourceSpec(
            name="crm",
            kind="webhook",
            secret="whsec-crm",
            config={"reply_url": "https://crm.example/replies"},
        ),
        SourceSpec(name="blog", kind="rss", config={"url": "https://blog.example/feed"}),
    ]
    for spec in specs:
        await service.add(spec, actor="test")
    clients = OutboundClients(transport=httpx.MockTransport(recorded), resolver=recorded.resolve)
    try:
        publishers = await configured_publishers(runtime.db.pool, clients.client, secrets)
        yield dict(publishers), recorded
    finally:
        await clients.aclose()


def reply(channel: str, **extra: object) -> OutgoingReply:
    return OutgoingReply(
        channel=channel,
        idempotency_key="release-41",
        text="Sorry about that, we are on it.",
        in_reply_to="109876543210",
        in_reply_to_url=None,
        recipient="@dana@social.example",
        visibility="public",
        **extra,  # type: ignore[arg-type]
    )


async def test_publishers_are_built_for_the_channels_that_publish(
    built: tuple[dict[str, Publisher], Recorded],
) -> None:
    publishers, _recorded = built
    assert sorted(publishers) == ["mastodon", "mastodon-eu", "webhook"]  # not read-only, rss,
    # nor the Bluesky account whose app password variable is unset.
    masto, masto_eu = publishers["mastodon"], publishers["mastodon-eu"]
    assert isinstance(masto, MastodonPublisher) and isinstance(masto_eu, MastodonPublisher)
    assert masto.limits.max_length == 1000  # read from the instance
    assert masto_eu.limits.max_length == 500  # the instance did not answer: Mastodon's default


async def test_configured_publishers_post_with_their_secrets(
    built: tuple[dict[str, Publisher], Recorded],
) -> None:
    publishers, recorded = built
    receipt = await publishers["mastodon"].publish(reply("mastodon"))
    posted = recorded.requests[-1]
    assert posted.headers["Authorization"] == "Bearer masto-token"
    assert posted.headers["Idempotency-Key"] == "release-41"
    assert receipt.channel == "mastodon"

    receipt = await publishers["webhook"].publish(reply("webhook"))
    delivered = recorded.requests[-1]
    assert delivered.headers["Host"] == "crm.example"
    assert verify_signature(
        b"whsec-crm",
        delivered.headers["X-Gateway-Timestamp"],
        delivered.content,
        delivered.headers["X-Gateway-Signature"],
        now=float(delivered.headers["X-Gateway-Timestamp"]),
    )
    assert receipt.external_id == "r-1"


async def test_a_publisher_url_turning_private_is_refused_at_publish_time(
    built: tuple[dict[str, Publisher], Recorded],
) -> None:
    publishers, recorded = built
    recorded.dns["crm.example"] = ["192.168.0.10"]
    sent = len(recorded.requests)
    with pytest.raises(PermanentError, match=r"private address 192\.168\.0\.10"):
        await publishers["webhook"].publish(reply("webhook"))
    assert len(recorded.requests) == sent
