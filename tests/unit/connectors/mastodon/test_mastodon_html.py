"""Mastodon HTML to plain text, on content as Mastodon renders it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connectors.mastodon import html_to_text

DATA = Path(__file__).resolve().parents[3] / "data" / "mastodon"


def _status(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def test_paragraphs_become_blank_lines_and_br_a_newline() -> None:
    text = html_to_text("<p>first line<br />second line<br>third</p><p>next paragraph</p>")
    assert text == "first line\nsecond line\nthird\n\nnext paragraph"


def test_entities_are_unescaped() -> None:
    html = "<p>horrible online woman thing i create little things i hope u will enjoy &lt;3</p>"
    assert html_to_text(html).endswith("enjoy <3")
    assert html_to_text("<p>Tom &amp; Jerry&#39;s &quot;deal&quot;</p>") == 'Tom & Jerry\'s "deal"'


def test_shortened_links_come_back_whole() -> None:
    statuses = _status("search_v2.json")["body"]["statuses"]
    text = html_to_text(statuses[0]["content"])
    assert text.endswith("Come On My Selector https://www.youtube.com/watch?v=MWCSw_cNxKc")


def test_link_becomes_its_text() -> None:
    html = '<p>see <a href="https://example.com/x?a=1" rel="nofollow">the docs</a> now</p>'
    assert html_to_text(html) == "see the docs now"


def test_mentions_become_acct_from_the_mentions_list() -> None:
    status = _status("status_content_warning.json")
    mentions = {m["url"]: m["acct"] for m in status["mentions"]}
    text = html_to_text(status["content"], mentions)
    # rendered as "@halcy" in the HTML, the account is remote to the reading instance
    assert text.startswith("@halcy@icosahedron.website you're a doo-doo head")


def test_a_mention_written_in_full_maps_to_the_local_acct() -> None:
    page = _status("notifications_page.json")["body"]
    status = page[1]["status"]
    mentions = {m["url"]: m["acct"] for m in status["mentions"]}
    text = html_to_text(status["content"], mentions)
    assert text.startswith("@halcy @halcy@glitch.social @halcy@hachyderm.io ____")


def test_unknown_mention_href_falls_back_to_a_unique_username() -> None:
    html = (
        '<p><a href="https://other.example/users/dana" class="u-url mention">'
        "@<span>dana</span></a> hi</p>"
    )
    assert html_to_text(html, {"https://other.example/@dana": "dana@other.example"}) == (
        "@dana@other.example hi"
    )
    ambiguous = {
        "https://a.example/@dana": "dana@a.example",
        "https://b.example/@dana": "dana@b.example",
    }
    assert html_to_text(html, ambiguous) == "@dana hi"


def test_hashtags_keep_their_hash() -> None:
    status = _status("status_content_warning.json")
    assert html_to_text(status["content"]).endswith(":trans_heart: #ThisIsAHashtag")


def test_whitespace_collapses_and_scripts_are_dropped() -> None:
    html = "<p>  lots   of\n\n space </p>\n<script>alert(1)</script><p>end</p>"
    assert html_to_text(html) == "lots of space\n\nend"


def test_lists_and_quotes_from_other_servers() -> None:
    html = "<p>steps:</p><ol><li>unplug</li><li>wait</li></ol><blockquote><p>q</p></blockquote>"
    assert html_to_text(html) == "steps:\n\nunplug\nwait\n\nq"


def test_unclosed_link_and_plain_text_are_kept() -> None:
    assert html_to_text('<p>go <a href="https://x.example">here') == "go here"
    assert html_to_text("no markup at all") == "no markup at all"
    assert html_to_text("") == ""
