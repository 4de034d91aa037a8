"""The canonical customer identity: every reasonable spelling of one customer gives one
identity per channel; what cannot be an identity is refused, naming the field."""

from __future__ import annotations

import pytest

from gateway.domain.identity import (
    ANY_CHANNEL,
    InvalidIdentity,
    Scheme,
    canonical_id,
    clean,
    is_did,
    mention_identity,
    scheme_for,
    suppression_key,
)

MASTODON = Scheme(kind="mastodon", local_instance="social.example")
BLUESKY = Scheme(kind="bluesky")
RSS = Scheme(kind="rss")
WEBHOOK = Scheme(kind="webhook")

ZOE_SPELLINGS = [
    "zoe@social.example",
    "@zoe@social.example",
    "@Zoe@Social.Example",
    "ZOE@SOCIAL.EXAMPLE",
    "\uff20zoe\uff20social.example",  # full-width at signs
    "zoe@social.example\u200b",  # trailing zero-width space
    "\u200bzoe@social.example",
    "zo\u200de@social.example",  # zero-width joiner inside
    "\ufeff@zoe@social.example",  # BOM
    "zo\u00ade@social.example",  # soft hyphen
    "zoe@social.example\u2060",  # word joiner
    "\u200ezoe@social.example\u200f",  # bidi marks
    "  @zoe@social.example \n",
    "\uff5a\uff4f\uff45@social.example",  # full-width letters
    "zoe",  # a local account: the channel's instance is appended
    "@zoe",
]


@pytest.mark.parametrize("spelling", ZOE_SPELLINGS)
def test_every_spelling_of_a_mastodon_handle_is_one_identity(spelling: str) -> None:
    assert canonical_id(MASTODON, spelling) == "zoe@social.example"


def test_the_serving_instance_wins_for_local_accounts() -> None:
    assert canonical_id(MASTODON, "@zoe", instance="Other.Example") == "zoe@other.example"
    with pytest.raises(InvalidIdentity, match="user@instance"):
        canonical_id(Scheme(kind="mastodon"), "zoe")


@pytest.mark.parametrize(
    "spelling", ["bob.bsky.social", "@bob.bsky.social", "\uff20Bob.Bsky.Social\u200b"]
)
def test_bluesky_handles_clean_to_one_handle(spelling: str) -> None:
    assert canonical_id(BLUESKY, spelling) == "bob.bsky.social"


def test_a_bluesky_did_is_the_identity() -> None:
    did = canonical_id(BLUESKY, "@did:plc:ewvi7nxzyoun6zhxrhs64oiz")
    assert did == "did:plc:ewvi7nxzyoun6zhxrhs64oiz" and is_did(did)
    assert not is_did(canonical_id(BLUESKY, "bob.bsky.social"))


def test_a_mention_keeps_the_did_and_the_account_id() -> None:
    bluesky = mention_identity(
        BLUESKY, "bluesky", "@bob.bsky.social", {"did": "did:plc:abc234", "uri": "at://x"}
    )
    assert (bluesky.id, bluesky.handle) == ("did:plc:abc234", "@bob.bsky.social")
    mastodon = mention_identity(
        Scheme(kind="mastodon"),
        "mastodon",
        "@Zoe",
        {"instance": "social.example", "account_id": "10923"},
    )
    assert (mastodon.id, mastodon.account_id) == ("zoe@social.example", "10923")


def test_rss_names_keep_single_spaces() -> None:
    assert canonical_id(RSS, "  Jane \u00a0  Doe\u200b ") == "jane doe"
    assert canonical_id(RSS, "Jane@Example.COM") == "jane@example.com"
    assert canonical_id(ANY_CHANNEL, "@Zoe@social.example") == "zoe@social.example"


@pytest.mark.parametrize(
    ("scheme", "value", "message"),
    [
        (WEBHOOK, "", "empty"),
        (WEBHOOK, "   ", "empty"),
        (WEBHOOK, "@", "empty"),
        (WEBHOOK, "\u200b\u200d\ufeff", "empty"),
        (WEBHOOK, "a\x00b", "control character"),
        (WEBHOOK, "a\x1bb", "control character"),
        (WEBHOOK, "zoe smith", "white space"),
        (MASTODON, "zoe @social.example", "white space"),
        (MASTODON, "a@b@c", "not a Mastodon handle"),
        (MASTODON, "zoe@", "not a Mastodon handle"),
        (MASTODON, "@@social.example", "not a Mastodon handle"),
        (MASTODON, "zoe@social.example/x", "not a Mastodon handle"),
        (BLUESKY, "bob", "neither"),
        (BLUESKY, "bob_.bsky.social", "neither"),
        (WEBHOOK, "x" * 321, "at most 320"),
        (RSS, "x" * 321, "at most 320"),
    ],
)
def test_what_cannot_be_an_identity_is_refused_naming_the_field(
    scheme: Scheme, value: str, message: str
) -> None:
    with pytest.raises(InvalidIdentity, match=message) as caught:
        canonical_id(scheme, value, field="handle")
    assert str(caught.value).startswith("handle")


@pytest.mark.parametrize("scheme", [MASTODON, BLUESKY, RSS, WEBHOOK, Scheme()])
@pytest.mark.parametrize(
    "value",
    [
        *ZOE_SPELLINGS,
        "bob.bsky.social",
        "did:plc:abc234",
        "Jane Doe",
        "\u00c5se@n\u00f8rd.example",
        "\u2126mega@x.example",  # ohm sign: NFKC makes it omega
    ],
)
def test_canonical_identities_are_fixed_points(scheme: Scheme, value: str) -> None:
    try:
        once = canonical_id(scheme, value)
    except InvalidIdentity:
        return
    assert canonical_id(scheme, once) == once
    assert clean(once) == once


def test_the_scheme_comes_from_the_channels_sources() -> None:
    assert scheme_for("fedi", [("mastodon", "Social.Example")]) == Scheme(
        kind="mastodon", local_instance="social.example"
    )
    assert scheme_for("fedi", [("mastodon", "a.example"), ("mastodon", "b.example")]) == Scheme(
        kind="mastodon"
    )
    assert scheme_for("bluesky", []) == Scheme(kind="bluesky")
    assert scheme_for("blogs", [("rss", None)]) == Scheme(kind="rss")
    assert scheme_for("partner", []) == Scheme(kind="other")


def test_the_suppression_key_depends_on_key_channel_and_identity() -> None:
    a = suppression_key(b"k" * 32, channel="mastodon", customer_id="zoe@social.example")
    assert len(a) == 64 and "zoe" not in a
    assert a == suppression_key(b"k" * 32, channel="mastodon", customer_id="zoe@social.example")
    assert a != suppression_key(b"j" * 32, channel="mastodon", customer_id="zoe@social.example")
    assert a != suppression_key(b"k" * 32, channel="demo", customer_id="zoe@social.example")
