"""The Bluesky publisher against a fake PDS that remembers record keys: reply refs, limits,
idempotent retries, and every failure mapped to the contract's errors."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.bluesky import BlueskyPublisher, BlueskySession
from connectors.contract import OutgoingReply, PermanentError, Publisher, TransientError

DATA = Path(__file__).parents[3] / "data" / "bluesky"
SERVICE = "https://pds.example.com"
BRAND = "did:plc:acmebrand222222222222222"
NOW = datetime(2025, 3, 14, 9, 30, 0, tzinfo=UTC)
CREATE = "com.atproto.repo.createRecord"
GET = "com.atproto.repo.getRecord"
TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one grapheme, 25 bytes

MENTION_URI = "at://did:plc:danaw2222222222222222222/app.bsky.feed.post/3lkc5bq6gcc2s"
MENTION_CID = "bafyreihwmmgk3hgdwvo3eqb7zkmgcaoy6pvm7vuftaeqp2xcajwu4mi4bu"
ROOT_URI = "at://did:plc:leekim222222222222222222/app.bsky.feed.post/3lkc3r6tmws2n"
ROOT_CID = "bafyreif6ryjeqbhq3j3vnnq6p3wsh6xvnyg2gzv4eulsrmx4d7bwpxvbsm"


class FakePds:
    """Stores posts by record key; a taken key answers as configured (``conflict``)."""

    def __init__(self, conflict: str = "500") -> None:
        self.conflict = conflict
        self.records: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.create_answer: httpx.Response | None = None
        self.lose_next_answer = False

    def names(self) -> list[str]:
        return [r.url.path.removeprefix("/xrpc/") for r in self.requests]

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path.endswith(CREATE)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        nsid = request.url.path.removeprefix("/xrpc/")
        if nsid == "com.atproto.server.createSession":
            return httpx.Response(200, json=json.loads((DATA / "createSession.json").read_text()))
        if nsid == CREATE:
            return self._create(request)
        if nsid == GET:
            rkey = request.url.params["rkey"]
            if request.url.params["repo"] != BRAND or rkey not in self.records:
                return _error(400, "RecordNotFound", f"Could not locate record: {rkey}")
            return httpx.Response(200, json=self.records[rkey])
        return _error(400, "InvalidRequest", nsid)

    def _create(self, request: httpx.Request) -> httpx.Response:
        if self.create_answer is not None:
            return self.create_answer
        body = json.loads(request.content)
        assert body["repo"] == BRAND
        assert body["collection"] == "app.bsky.feed.post"
        rkey = body["rkey"]
        if rkey in self.records:
            return self._conflict(rkey)
        uri = f"at://{BRAND}/app.bsky.feed.post/{rkey}"
        # getRecord answers are shaped like the real post_record.json.
        stored = json.loads((DATA / "getRecord_post.json").read_text())
        stored.update(uri=uri, value=body["record"])
        self.records[rkey] = stored
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return httpx.Response(
            200,
            json={
                "uri": uri,
                "cid": stored["cid"],
                "commit": {"cid": "bafyreicommit", "rev": "3lkc6aaaaaa2a"},
                "validationStatus": "valid",
            },
        )

    def _conflict(self, rkey: str) -> httpx.Response:
        if self.conflict == "500":  # what the reference PDS answers today
            return _error(500, "InternalServerError", "Internal Server Error")
        if self.conflict == "409":
            return _error(409, "RecordAlreadyExists", f"Record already exists: {rkey}")
        return _error(400, "InvalidRequest", f"Record already exists: {rkey}")


def _error(status: int, name: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": name, "message": message}, headers=headers)


def _publisher(pds: FakePds, **options: Any) -> BlueskyPublisher:
    client = httpx.AsyncClient(transport=httpx.MockTransport(pds.handle))
    session = BlueskySession(SERVICE, "acme.example.com", "app-password", client)
    return BlueskyPublisher(session, client, clock=lambda: NOW, **options)


def _reply(
    text: str = "Sorry about the delay, Dana. We've sent you a DM.",
    *,
    key: str = "release-42",
    root: bool = True,
) -> OutgoingReply:
    channel_data: dict[str, Any] = {
        "uri": MENTION_URI,
        "cid": MENTION_CID,
        "did": "did:plc:danaw2222222222222222222",
    }
    if root:
        channel_data.update(root_uri=ROOT_URI, root_cid=ROOT_CID)
    return OutgoingReply(
        channel="bluesky",
        idempotency_key=key,
        text=text,
        in_reply_to=MENTION_URI,
        in_reply_to_url="https://bsky.app/profile/dana.example.net/post/3lkc5bq6gcc2s",
        recipient="@dana.example.net",
        thread_id=ROOT_URI,
        channel_data=channel_data,
    )


async def test_a_reply_is_a_post_in_the_mentions_thread() -> None:
    pds = FakePds()
    publisher: Publisher = _publisher(pds)
    receipt = await publisher.publish(_reply())
    [body] = pds.bodies()
    record = body["record"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == "Sorry about the delay, Dana. We've sent you a DM."
    assert record["createdAt"] == "2025-03-14T09:30:00.000Z"
    assert record["reply"] == {
        "root": {"uri": ROOT_URI, "cid": ROOT_CID},
        "parent": {"uri": MENTION_URI, "cid": MENTION_CID},
    }
    assert "langs" not in record
    rkey = body["rkey"]
    assert TID.fullmatch(rkey)
    assert receipt.channel == "bluesky"
    assert receipt.external_id == f"at://{BRAND}/app.bsky.feed.post/{rkey}"
    assert receipt.url == f"https://bsky.app/profile/acme.example.com/post/{rkey}"
    assert receipt.delivered_at == "2025-03-14T09:30:00.000000Z"
    assert receipt.duplicate is False
    assert pds.requests[1].headers["Authorization"] == "Bearer test-access-jwt-0001"


async def test_without_a_root_the_mention_is_the_root() -> None:
    pds = FakePds()
    await _publisher(pds).publish(_reply(root=False))
    parent = {"uri": MENTION_URI, "cid": MENTION_CID}
    assert pds.bodies()[0]["record"]["reply"] == {"root": parent, "parent": parent}


@pytest.mark.parametrize("conflict", ["500", "409", "400"])
async def test_a_retried_release_posts_once(conflict: str) -> None:
    pds = FakePds(conflict=conflict)
    publisher = _publisher(pds)
    first = await publisher.publish(_reply())
    again = await publisher.publish(_reply())
    assert len(pds.records) == 1
    assert again.duplicate is True
    assert again.external_id == first.external_id
    assert again.delivered_at == "2025-03-14T09:30:00.000000Z"  # the post's own createdAt
    assert pds.bodies()[0]["rkey"] == pds.bodies()[1]["rkey"]


async def test_a_lost_answer_is_recovered_by_reading_the_key_back() -> None:
    pds = FakePds()
    pds.lose_next_answer = True
    receipt = await _publisher(pds).publish(_reply())
    assert len(pds.records) == 1
    assert receipt.external_id.endswith("/" + next(iter(pds.records)))
    assert pds.names()[-2:] == [CREATE, GET]


async def test_each_release_gets_its_own_post() -> None:
    pds = FakePds()
    publisher = _publisher(pds)
    one = await publisher.publish(_reply(key="release-1"))
    two = await publisher.publish(_reply(key="release-2"))
    assert one.external_id != two.external_id
    assert len(pds.records) == 2


async def test_a_key_holding_another_reply_is_refused() -> None:
    pds = FakePds()
    publisher = _publisher(pds)
    await publisher.publish(_reply())
    [stored] = pds.records.values()
    stored["value"]["reply"]["parent"]["uri"] = ROOT_URI
    with pytest.raises(PermanentError, match="answers something else"):
        await publisher.publish(_reply())


async def test_an_emoji_zwj_sequence_counts_as_one_grapheme() -> None:
    pds = FakePds()
    publisher = _publisher(pds)
    await publisher.publish(_reply("a" * 299 + FAMILY))
    assert len(pds.records) == 1
    with pytest.raises(PermanentError, match="301 graphemes"):
        await publisher.publish(_reply("a" * 300 + FAMILY, key="release-43"))
    assert len(pds.bodies()) == 1


async def test_the_utf8_size_limit_is_refused_before_sending() -> None:
    pds = FakePds()
    with pytest.raises(PermanentError, match="3750 bytes"):
        await _publisher(pds).publish(_reply(FAMILY * 150))  # 150 graphemes
    assert pds.requests == []


@pytest.mark.parametrize("text", ["", "   \n"])
async def test_an_empty_reply_is_refused(text: str) -> None:
    pds = FakePds()
    with pytest.raises(PermanentError):
        await _publisher(pds).publish(_reply(text))
    assert pds.requests == []


@pytest.mark.parametrize(
    "channel_data",
    [{}, {"uri": MENTION_URI}, {"uri": "https://bsky.app/x", "cid": MENTION_CID}],
)
async def test_a_reply_without_the_mentions_strong_ref_is_refused(
    channel_data: dict[str, Any],
) -> None:
    pds = FakePds()
    reply = _reply()
    bare = OutgoingReply(
        channel=reply.channel,
        idempotency_key=reply.idempotency_key,
        text=reply.text,
        in_reply_to=reply.in_reply_to,
        in_reply_to_url=reply.in_reply_to_url,
        recipient=reply.recipient,
        channel_data=channel_data,
    )
    with pytest.raises(PermanentError, match="uri and cid"):
        await _publisher(pds).publish(bare)
    assert pds.requests == []


async def test_rate_limit_is_transient_with_retry_after() -> None:
    pds = FakePds()
    reset = int(datetime.now(UTC).timestamp()) + 600
    pds.create_answer = _error(
        429, "RateLimitExceeded", "Rate Limit Exceeded", **{"ratelimit-reset": str(reset)}
    )
    with pytest.raises(TransientError) as caught:
        await _publisher(pds).publish(_reply())
    assert caught.value.retry_after is not None
    assert 590 <= caught.value.retry_after <= 600
    assert GET not in pds.names()


async def test_an_invalid_request_is_permanent() -> None:
    pds = FakePds()
    pds.create_answer = _error(400, "InvalidRequest", "Invalid app.bsky.feed.post record")
    with pytest.raises(PermanentError, match="InvalidRequest"):
        await _publisher(pds).publish(_reply())
    assert GET not in pds.names()


async def test_a_server_error_without_a_post_is_transient() -> None:
    pds = FakePds()
    pds.create_answer = httpx.Response(502, text="Bad Gateway")
    with pytest.raises(TransientError, match="502"):
        await _publisher(pds).publish(_reply())
    assert pds.names()[-2:] == [CREATE, GET]
    assert pds.records == {}


async def test_links_and_the_recipient_become_facets() -> None:
    pds = FakePds()
    text = "\U0001f44b @dana.example.net see https://acme.example.com/help."
    await _publisher(pds, langs=["en"]).publish(_reply(text))
    record = pds.bodies()[0]["record"]
    assert record["langs"] == ["en"]
    encoded = text.encode()
    spans = {
        f["features"][0]["$type"].rsplit("#", 1)[-1]: encoded[
            f["index"]["byteStart"] : f["index"]["byteEnd"]
        ].decode()
        for f in record["facets"]
    }
    assert spans == {"mention": "@dana.example.net", "link": "https://acme.example.com/help"}
    mention = next(f for f in record["facets"] if "mention" in f["features"][0]["$type"])
    assert mention["features"][0]["did"] == "did:plc:danaw2222222222222222222"


def test_limits_are_declared_in_graphemes() -> None:
    limits = _publisher(FakePds()).limits
    assert limits.max_length == 300
    assert limits.length_unit == "graphemes"
    assert limits.rate_budget == "5,000 points / hour"
