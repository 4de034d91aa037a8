"""The Mastodon channel: mentions read from an account's notifications (and optionally a
hashtag or a search), replies posted as that account."""

from connectors.mastodon.html import html_to_text
from connectors.mastodon.mapping import (
    CHANNEL,
    Account,
    MentionedAccount,
    Notification,
    Page,
    PayloadError,
    Status,
    decode_notifications,
    decode_search,
    decode_statuses,
    status_to_mention,
)
from connectors.mastodon.publisher import (
    VISIBILITIES,
    MastodonPublisher,
    instance_limits,
    reply_visibility,
    with_mention,
)
from connectors.mastodon.source import FetchStats, MastodonSource

__all__ = [
    "CHANNEL",
    "VISIBILITIES",
    "Account",
    "FetchStats",
    "MastodonPublisher",
    "MastodonSource",
    "MentionedAccount",
    "Notification",
    "Page",
    "PayloadError",
    "Status",
    "decode_notifications",
    "decode_search",
    "decode_statuses",
    "html_to_text",
    "instance_limits",
    "reply_visibility",
    "status_to_mention",
    "with_mention",
]
