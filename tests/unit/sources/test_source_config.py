"""Source configuration is checked per kind, with messages that say what to fix."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.source_errors import InvalidSource
from gateway.settings import load_settings
from gateway.sources.config import (
    check_channel,
    check_interval,
    check_name,
    check_secret,
    config_json,
    parse_config,
    publishes,
    urls_of,
)
from gateway.sources.scheduler import next_delay


@pytest.mark.parametrize(
    ("kind", "config", "message"),
    [
        ("rss", {}, "missing required field `url`; it takes: url"),
        ("rss", {"url": "https://x.example/", "urll": 1}, "unknown field `urll`"),
        ("rss", {"url": "ftp://x.example/feed"}, "absolute http:// or https:// URL"),
        ("rss", {"url": "https://user:pw@x.example/"}, "must not carry a user name"),
        ("mastodon", {"base_url": "https://m.example/?a=1"}, "without ?query"),
        ("mastodon", {"base_url": "https://m.example", "hashtag": "#"}, "must name a tag"),
        ("mastodon", {"base_url": "https://m.example", "hashtag": "a b"}, "without spaces"),
        (
            "mastodon",
            {"base_url": "https://m.example", "brand_account_id": "@acme@m.example"},
            "numeric id",
        ),
        ("mastodon", {"base_url": "https://m.example", "max_visibility": "x"}, "max_visibility"),
        ("bluesky", {}, "missing required field `identifier`"),
        ("bluesky", {"identifier": "@"}, "account's handle"),
        ("webhook", {"reply_url": "not a url"}, "config.reply_url"),
        ("telegram", {}, "kind 'telegram' is not one of rss, mastodon, bluesky, webhook"),
    ],
)
def test_bad_configurations_say_what_is_wrong(
    kind: str, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidSource) as refused:
        parse_config(kind, config)
    assert message in str(refused.value)


def test_good_configurations_are_stored_with_defaults_filled_in() -> None:
    mastodon = parse_config("mastodon", {"base_url": "https://m.example", "hashtag": "acme"})
    assert config_json(mastodon) == {
        "base_url": "https://m.example",
        "hashtag": "acme",
        "publish": True,
        "max_visibility": "unlisted",
    }
    assert publishes(mastodon)
    bluesky = parse_config("bluesky", {"identifier": "acme.bsky.social", "publish": False})
    assert urls_of(bluesky) == [("config.service", "https://bsky.social")]
    assert not publishes(bluesky)
    assert not publishes(parse_config("webhook", {}))
    assert publishes(parse_config("webhook", {"reply_url": "https://crm.example/replies"}))


def test_secrets_are_required_or_refused_by_kind() -> None:
    check_secret("rss", None)
    with pytest.raises(InvalidSource, match="an RSS source takes no secret"):
        check_secret("rss", "x")
    with pytest.raises(InvalidSource, match=r"needs its token in 'secret'.*env:VARIABLE"):
        check_secret("mastodon", None)
    with pytest.raises(InvalidSource, match="needs its app password"):
        check_secret("bluesky", "")


@pytest.mark.parametrize("secret", ["two\nlines", "nul\x00", "x" * 4_097])
def test_a_secret_with_control_characters_or_too_long_is_refused(secret: str) -> None:
    """The API refuses these at the boundary; a console form reaches the service as is."""
    with pytest.raises(InvalidSource, match="without line breaks"):
        check_secret("webhook", secret)
    check_secret("webhook", "a good secret, with spaces & symbols: ünïcode")


@pytest.mark.parametrize("name", ["", "Upper", "-x", "a/b", "x" * 64, "demo"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidSource):
        check_name(name)
    check_name("acme-blog.2")
    check_channel("mastodon-support")


def test_intervals_are_bounded() -> None:
    assert check_interval(60, minimum=30) == 60
    with pytest.raises(InvalidSource, match="between 30 and 604800 seconds, not 5"):
        check_interval(5, minimum=30)


def test_backoff_doubles_is_capped_and_honours_retry_after() -> None:
    middle = lambda low, high: 1.0  # noqa: E731 - no jitter
    assert next_delay(60, rng=middle) == 60
    assert next_delay(60, failures=1, rng=middle) == 120
    assert next_delay(60, failures=3, rng=middle) == 480
    assert next_delay(60, failures=30, max_backoff_s=3600, rng=middle) == 3600
    assert next_delay(7200, failures=2, max_backoff_s=3600, rng=middle) == 7200  # >= interval
    assert next_delay(60, failures=1, retry_after=900, rng=middle) == 900
    assert next_delay(60, failures=1, retry_after=10, rng=middle) == 120
    assert next_delay(60, failures=1, retry_after=10**9, rng=middle) == 86400
    jittered = {round(next_delay(100), 3) for _ in range(50)}
    assert len(jittered) > 1 and all(90 <= d <= 110 for d in jittered)


def test_source_settings_come_from_the_environment() -> None:
    settings = load_settings(
        {
            "GATEWAY_ALLOW_PRIVATE_URLS": "true",
            "GATEWAY_SOURCE_REFRESH_S": "2",
            "GATEWAY_WEBHOOK_TOLERANCE_S": "60",
            "GATEWAY_OUTBOUND_MAX_BYTES": "1000",
        }
    )
    assert settings.allow_private_urls
    assert settings.source_refresh_s == 2.0
    assert settings.webhook_tolerance_s == 60.0
    assert settings.outbound_max_bytes == 1000
