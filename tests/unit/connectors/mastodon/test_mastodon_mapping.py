"""Mastodon statuses and notifications to RawMention, on recorded Mastodon answers."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from connectors.contract import RawAuthor, RawMention
from connectors.mastodon import (
    PayloadError,
    Status,
    decode_notifications,
    decode_search,
    decode_statuses,
    status_to_mention,
)

DATA = Path(__file__).resolve().parents[3] / "data" / "mastodon"
SOCIAL = "mastodon.social"
BRAND_ID = "43"  # halcy@mastodon.social, whose token recorded notifications_page.json


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def _status(raw: dict[str, Any]) -> Status:
    return msgspec.convert(raw, Status)


def _direct_notification() -> dict[str, Any]:
    found: dict[str, Any] = _load("notifications_page.json")["body"][1]
    return found


def test_a_direct_mention_maps_every_field() -> None:
    page = decode_notifications(json.dumps([_direct_notification()]).encode())
    [notification] = page.items
    assert notification.status is not None
    mention = status_to_mention(
        notification.status, instance=SOCIAL, brand_account_id=BRAND_ID, notified=True
    )
    assert mention == RawMention(
        channel="mastodon",
        external_id="116275331587890092",
        url="https://icosahedron.website/@latencyobs/116275331526178516",
        author=RawAuthor(
            handle="@latencyobs@icosahedron.website",
            display_name="Latency Observer",
            bot=False,
            description="",
        ),
        text="@halcy @halcy@glitch.social @halcy@hachyderm.io"
        " ____________LATENCYPING____________1774220754.2367332____________LATENCYPING____________",
        created_at="2026-03-22T23:05:57.000Z",
        in_reply_to=None,
        thread_id="116275331587890092",
        addressed=True,
        is_direct=True,
        visibility="direct",
        channel_data={
            "status_id": "116275331587890092",
            "account_id": "109446733121874654",
            "visibility": "direct",
            "instance": SOCIAL,
        },
    )


def test_a_reply_maps_in_reply_to_thread_and_link_text() -> None:
    raw = _load("search_v2.json")["body"]["statuses"][0]
    mention = status_to_mention(_status(raw), instance=SOCIAL)
    assert mention.external_id == "116388149027005349"
    assert mention.in_reply_to == "116387888508422624"
    assert mention.thread_id == "116387888508422624"  # the parent: the root is not known
    assert mention.author == RawAuthor(
        handle="@greg@icosahedron.website",
        display_name="Greg",
        bot=False,
        description="Vell, Greg\u2019s just zis guy, you know?",
    )
    assert mention.text.startswith("@cancel@merveilles.town @halcy@icosahedron.website not only")
    assert mention.text.endswith("https://www.youtube.com/watch?v=MWCSw_cNxKc")
    assert mention.is_direct is False
    assert mention.visibility == "public"
    assert mention.created_at == "2026-04-11T21:16:53.000Z"


def test_local_authors_get_the_instance_domain() -> None:
    [entry] = _load("notification_local.json")["body"]
    mention = status_to_mention(_status(entry["status"]), instance="localhost:3000")
    assert mention.author.handle == "@admin@localhost:3000"
    assert mention.author.display_name == "admin"  # empty display_name: the username
    assert mention.text == "@mastodonpy_test hello!"
    raw = _load("status_local_poll.json")
    assert (
        status_to_mention(_status(raw), instance=SOCIAL).author.handle == "@halcy@mastodon.social"
    )


@pytest.mark.parametrize(
    ("brand", "notified", "expected"),
    [
        (None, False, None),  # nobody told us who the brand is
        (None, True, True),  # a mention notification is addressed by definition
        ("23972", False, True),  # in mentions
        ("650393", False, True),  # in_reply_to_account_id (and in mentions)
        ("999", False, False),  # resolved: not the brand
    ],
)
def test_addressed(brand: str | None, notified: bool, expected: bool | None) -> None:
    raw = _load("search_v2.json")["body"]["statuses"][0]
    mention = status_to_mention(
        _status(raw), instance=SOCIAL, brand_account_id=brand, notified=notified
    )
    assert mention.addressed is expected


def test_addressed_by_a_reply_to_the_brand_without_mentioning_it() -> None:
    raw = copy.deepcopy(_load("search_v2.json")["body"]["statuses"][0])
    raw["mentions"] = []
    assert status_to_mention(_status(raw), instance=SOCIAL, brand_account_id="650393").addressed


def test_a_content_warning_leads_the_text() -> None:
    mention = status_to_mention(_status(_load("status_content_warning.json")), instance=SOCIAL)
    assert mention.text == (
        "test post for mastodon.py stuff\n\n@halcy@icosahedron.website you're a doo-doo head\n\n"
        "edit: editing this to have the maximum amount of fields filled :trans_heart:"
        " #ThisIsAHashtag"
    )


def test_bot_flag_and_profile_note() -> None:
    raw = copy.deepcopy(_load("status_local_poll.json"))
    raw["account"] = _load("account_bot.json")
    author = status_to_mention(_status(raw), instance=SOCIAL).author
    assert author.handle == "@quasi_crystals@mastodon.social"
    assert author.bot is True
    assert author.description.startswith("Bot by @halcy . Mention me")


def test_nobot_in_the_note_reaches_the_description() -> None:
    raw = copy.deepcopy(_load("status_local_poll.json"))
    raw["account"] = _load("account_nobot.json")
    author = status_to_mention(_status(raw), instance=SOCIAL).author
    assert author.handle == "@halcy@glitch.social"
    assert author.description == "test account for Mastodon.py development #nobot"
    assert "#nobot" in author.description


def test_url_falls_back_to_uri_and_times_become_utc() -> None:
    raw = copy.deepcopy(_load("status_local_poll.json"))
    raw["url"] = None
    raw["created_at"] = "2023-05-28T13:57:00.378+02:00"
    mention = status_to_mention(_status(raw), instance=SOCIAL)
    assert mention.url == "https://mastodon.social/users/halcy/statuses/110446183735368325"
    assert mention.created_at == "2023-05-28T11:57:00.378Z"


def test_an_unreadable_time_is_a_value_error() -> None:
    raw = copy.deepcopy(_load("status_local_poll.json"))
    raw["created_at"] = "yesterday"
    with pytest.raises(ValueError):
        status_to_mention(_status(raw), instance=SOCIAL)


def test_deleted_statuses_and_broken_entries_are_skipped_and_counted() -> None:
    deleted, direct = _load("notifications_page.json")["body"]
    broken = copy.deepcopy(direct)
    broken["id"] = "541644046"
    broken["status"]["visibility"] = 7  # wrong type
    favourite = copy.deepcopy(direct)
    favourite["id"] = "541644047"
    favourite["type"] = "favourite"
    body = json.dumps([deleted, direct, broken, favourite, {"no": "id"}, 12]).encode()
    page = decode_notifications(body)
    assert [n.id for n in page.items] == ["541644045"]
    assert page.skipped == 5
    # ids of skipped entries are kept so a cursor can move past them
    assert set(page.ids) == {"550622655", "541644045", "541644046", "541644047"}


def test_unknown_fields_are_ignored() -> None:
    raw = copy.deepcopy(_load("status_local_poll.json"))
    raw["a_field_from_mastodon_9"] = {"nested": [1, 2]}
    raw["account"]["another_new_field"] = True
    page = decode_statuses(json.dumps([raw]).encode())
    assert [s.id for s in page.items] == ["110446183735368325"]
    assert page.skipped == 0


def test_search_results_decode() -> None:
    page = decode_search(json.dumps(_load("search_v2.json")["body"]).encode())
    assert [s.id for s in page.items] == ["116388149027005349", "116388107849695302"]


@pytest.mark.parametrize("body", [b"<html>maintenance</html>", b'{"error": "x"}', b""])
def test_a_body_that_is_not_a_list_is_a_payload_error(body: bytes) -> None:
    with pytest.raises(PayloadError):
        decode_statuses(body)
    with pytest.raises(PayloadError):
        decode_notifications(body)


def test_a_search_body_that_is_not_an_object_is_a_payload_error() -> None:
    with pytest.raises(PayloadError):
        decode_search(b"[]")
