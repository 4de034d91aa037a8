"""Mapping Bluesky notifications and search results to RawMention (pure, golden payloads)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.bluesky.mapping import (
    MalformedPage,
    notifications_page,
    search_page,
)
from connectors.contract import RawMention

DATA = Path(__file__).parents[3] / "data" / "bluesky"
BRAND = "did:plc:acmebrand222222222222222"
REASONS = ("mention", "reply")


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text())
    return loaded


def _notifications(body: dict[str, Any], reasons: tuple[str, ...] = REASONS) -> list[RawMention]:
    page = notifications_page(json.dumps(body).encode(), brand_did=BRAND, reasons=reasons)
    return [e.mention for e in page.entries if e.mention is not None]


def _search(body: dict[str, Any]) -> list[RawMention]:
    page = search_page(json.dumps(body).encode(), brand_did=BRAND)
    return [e.mention for e in page.entries if e.mention is not None]


def test_real_search_post_maps_to_a_mention() -> None:
    first = _search(_load("searchPosts_latest.json"))[0]
    uri = "at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3kaheyt6vpc22"
    cid = "bafyreigb666sdjyyaczcahxmf5tzh7dec6bwr3nhdab7llebn7vhsxzgr4"
    assert first.channel == "bluesky"
    assert first.external_id == uri
    assert first.url == "https://bsky.app/profile/test.marshal.dev/post/3kaheyt6vpc22"
    assert first.author.handle == "@test.marshal.dev"
    assert first.author.display_name == "I love Python 3"
    assert first.author.bot is False
    assert first.text == ""
    assert first.created_at == "2023-09-28T12:49:36.735000Z"
    assert first.in_reply_to is None
    assert first.thread_id == uri  # a top-level post is its own thread
    assert first.addressed is None  # no facets: the gateway's text rules decide
    assert first.visibility == "public"
    assert first.is_direct is False
    assert first.channel_data == {
        "uri": uri,
        "cid": cid,
        "root_uri": uri,
        "root_cid": cid,
        "did": "did:plc:kvwvcn5iqfooopmyzvb4qzba",
    }


def test_page_keeps_the_api_cursor_and_every_entry() -> None:
    body = _load("searchPosts_latest.json")
    page = search_page(json.dumps(body).encode(), brand_did=BRAND)
    assert page.cursor == "2"
    assert page.skipped == 0
    assert [e.uri.rsplit("/", 1)[-1] for e in page.entries] == ["3kaheyt6vpc22", "3kahesw26il2z"]
    assert page.entries[1].mention is not None
    assert page.entries[1].mention.text == "test"


def test_only_the_wanted_reasons_become_mentions() -> None:
    body = _load("listNotifications.json")
    page = notifications_page(json.dumps(body).encode(), brand_did=BRAND, reasons=REASONS)
    assert len(page.entries) == 6  # likes and follows still move the source's mark
    reasons = [n["reason"] for n in body["notifications"]]
    mapped = [e.mention is not None for e in page.entries]
    assert mapped == [r in REASONS for r in reasons]
    assert page.skipped == 0
    with_quotes = _notifications(body, ("mention", "reply", "quote"))
    assert "This is why I love them" in [m.text for m in with_quotes]


def test_a_mention_notification_is_addressed_and_keeps_the_profile() -> None:
    mention = _notifications(_load("listNotifications.json"))[0]
    assert mention.text.startswith("@acme.example.com my order #4411")
    assert mention.addressed is True
    assert mention.author.handle == "@dana.example.net"
    assert mention.author.display_name == "Dana W."
    assert mention.author.description == "Coffee, trains and complaints."
    assert mention.created_at == "2025-03-14T09:29:58.120000Z"


def test_a_reply_keeps_parent_and_root_and_the_bot_label() -> None:
    mentions = _notifications(_load("listNotifications.json"))
    robot = mentions[1]
    assert robot.author.bot is True
    assert robot.author.description == "Automated status updates #nobot"
    thread = mentions[2]
    brand_reply = "at://did:plc:acmebrand222222222222222/app.bsky.feed.post/3lkc3t7qhhc2x"
    root = "at://did:plc:leekim222222222222222222/app.bsky.feed.post/3lkc3r6tmws2n"
    assert thread.in_reply_to == brand_reply
    assert thread.thread_id == root
    assert thread.channel_data["root_uri"] == root
    assert thread.channel_data["root_cid"].startswith("bafyrei")
    assert thread.channel_data["uri"] == thread.external_id
    assert thread.addressed is True


def test_a_negated_bot_label_is_not_a_bot() -> None:
    body = _load("listNotifications.json")
    body["notifications"][2]["author"]["labels"][0]["neg"] = True
    assert _notifications(body)[1].author.bot is False


def test_a_bot_self_label_in_the_post_record_marks_a_bot() -> None:
    body = _load("listNotifications.json")
    body["notifications"][0]["record"]["labels"] = {
        "$type": "com.atproto.label.defs#selfLabels",
        "values": [{"val": "bot"}],
    }
    assert _notifications(body)[0].author.bot is True


def test_a_bot_label_on_the_post_marks_a_bot_unless_negated() -> None:
    body = _load("listNotifications.json")
    body["notifications"][0]["labels"] = [{"src": "did:plc:x", "uri": "at://x", "val": "bot"}]
    assert _notifications(body)[0].author.bot is True
    body["notifications"][0]["labels"][0]["neg"] = True
    assert _notifications(body)[0].author.bot is False


def test_other_self_labels_do_not_mark_a_bot() -> None:
    body = _load("listNotifications.json")
    body["notifications"][0]["record"]["labels"] = {"values": [{"val": "graphic-media"}]}
    assert _notifications(body)[0].author.bot is False


def _search_post(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    post = _load("searchPosts_latest.json")["posts"][1]
    post["record"] = {**post["record"], **record}
    post.update(changes)
    return {"posts": [post]}


def _mention_facet(did: str) -> dict[str, Any]:
    return {
        "$type": "app.bsky.richtext.facet",
        "index": {"byteStart": 0, "byteEnd": 5},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
    }


def test_search_post_mentioning_the_brand_did_is_addressed() -> None:
    [post] = _search(_search_post({"facets": [_mention_facet(BRAND)]}))
    assert post.addressed is True


def test_search_post_whose_facets_mention_others_is_not_addressed() -> None:
    [post] = _search(_search_post({"facets": [_mention_facet("did:plc:someoneelse22222222222")]}))
    assert post.addressed is False


def test_search_post_replying_to_a_brand_post_is_addressed() -> None:
    brand_post = {"uri": f"at://{BRAND}/app.bsky.feed.post/3lkc3t7qhhc2x", "cid": "bafyreib"}
    [post] = _search(_search_post({"reply": {"root": brand_post, "parent": brand_post}}))
    assert post.addressed is True
    assert post.in_reply_to == brand_post["uri"]


def test_created_at_falls_back_to_indexed_at() -> None:
    body = _search_post({}, indexedAt="2023-09-28T12:46:19.5+00:00")
    del body["posts"][0]["record"]["createdAt"]
    assert _search(body)[0].created_at == "2023-09-28T12:46:19.500000Z"


def test_a_future_created_at_is_clamped_to_indexed_at() -> None:
    body = _search_post({"createdAt": "2099-01-01T00:00:00Z"})
    assert _search(body)[0].created_at == "2023-09-28T12:46:18.414000Z"


def test_created_at_with_an_offset_is_converted_to_utc() -> None:
    body = _search_post({"createdAt": "2023-09-28T14:40:00+02:00"})
    assert _search(body)[0].created_at == "2023-09-28T12:40:00.000000Z"


def test_an_invalid_handle_falls_back_to_the_did() -> None:
    post = _search_post({})["posts"][0]
    post["author"]["handle"] = "handle.invalid"
    [mention] = _search({"posts": [post]})
    assert mention.author.handle == "@did:plc:kvwvcn5iqfooopmyzvb4qzba"
    assert mention.url == (
        "https://bsky.app/profile/did:plc:kvwvcn5iqfooopmyzvb4qzba/post/3kahesw26il2z"
    )


def test_nul_characters_are_removed_from_texts() -> None:
    body = _search_post({"text": "broken\x00 again"})
    assert _search(body)[0].text == "broken again"


def test_the_brands_own_posts_are_not_mentions_nor_malformed() -> None:
    post = _search_post({})["posts"][0]
    post["author"]["did"] = BRAND
    post["uri"] = post["uri"].replace("did:plc:kvwvcn5iqfooopmyzvb4qzba", BRAND)
    page = search_page(json.dumps({"posts": [post]}).encode(), brand_did=BRAND)
    assert [e.mention for e in page.entries] == [None]
    assert page.skipped == 0


def _broken_items() -> list[Any]:
    good = _load("searchPosts_latest.json")["posts"][1]
    no_author = {k: v for k, v in good.items() if k != "author"}
    bad_time = {**good, "indexedAt": "yesterday"}
    not_a_post = {**good, "record": {"$type": "app.bsky.feed.like", "createdAt": "x"}}
    no_text = {**good, "record": {"$type": "app.bsky.feed.post"}}
    other_author = {**good, "uri": good["uri"].replace("kvwvcn5iqfooopmyzvb4qzba", "x" * 24)}
    wrong_collection = {**good, "uri": good["uri"].replace("feed.post", "feed.like")}
    return [42, "post", no_author, bad_time, not_a_post, no_text, other_author, wrong_collection]


def test_malformed_items_are_skipped_and_counted() -> None:
    good = _load("searchPosts_latest.json")["posts"][1]
    body = {"posts": [*_broken_items(), good]}
    page = search_page(json.dumps(body).encode(), brand_did=BRAND)
    assert page.skipped == 8
    assert [e.mention.text for e in page.entries if e.mention is not None] == ["test"]


def test_malformed_notifications_are_skipped_and_counted() -> None:
    body = _load("listNotifications.json")
    del body["notifications"][0]["author"]["handle"]
    body["notifications"][2]["record"]["reply"] = {"root": {"uri": "at://x"}}
    page = notifications_page(json.dumps(body).encode(), brand_did=BRAND, reasons=REASONS)
    assert page.skipped == 2
    assert [e.mention.text for e in page.entries if e.mention is not None] == [
        "Thanks, but the replacement is broken too."
    ]


@pytest.mark.parametrize(
    "body",
    [b"<html>502 Bad Gateway</html>", b"{}", b'{"notifications": 3}', b"[]", b""],
)
def test_a_body_that_is_not_a_page_raises(body: bytes) -> None:
    with pytest.raises(MalformedPage):
        notifications_page(body, brand_did=BRAND, reasons=REASONS)
