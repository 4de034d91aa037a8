"""Facets of a reply: byte ranges of links and of the recipient's @-mention."""

from __future__ import annotations

from connectors.bluesky.facets import reply_facets

DID = "did:plc:danaw2222222222222222222"


def _spans(text: str, mentions: dict[str, str]) -> list[tuple[str, str]]:
    encoded = text.encode()
    return [
        (
            f["features"][0]["$type"].rsplit("#", 1)[-1],
            encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(),
        )
        for f in reply_facets(text, mentions)
    ]


def test_byte_ranges_count_utf8_bytes() -> None:
    text = "Bonjour \u00e9t\u00e9 \U0001f44b @dana.example.net!"
    assert _spans(text, {"@dana.example.net": DID}) == [("mention", "@dana.example.net")]


def test_links_drop_trailing_punctuation() -> None:
    text = "See (https://acme.example.com/help?x=1). Or http://a.example."
    assert _spans(text, {}) == [
        ("link", "https://acme.example.com/help?x=1"),
        ("link", "http://a.example"),
    ]


def test_a_longer_handle_is_not_the_recipient() -> None:
    text = "@dana.example.network and @dana.example.net-fan and @Dana.Example.Net"
    assert _spans(text, {"@dana.example.net": DID}) == [("mention", "@Dana.Example.Net")]


def test_a_handle_inside_a_link_is_not_a_mention() -> None:
    text = "https://bsky.app/profile/@dana.example.net"
    assert _spans(text, {"@dana.example.net": DID}) == [("link", text)]


def test_plain_text_has_no_facets() -> None:
    assert reply_facets("Thanks, we are on it.", {"@dana.example.net": DID}) == []
