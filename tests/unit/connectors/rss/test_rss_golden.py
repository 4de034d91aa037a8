"""Realistic feeds in tests/data/feeds/ parsed and compared with their reviewed expectations.

Each ``<feed>.expected.json`` holds the inputs (feed url, Content-Type, now) and the
expected ``ParsedFeed``. After a deliberate change to the mapping, rewrite them with
``EGW_UPDATE_GOLDEN=1 pytest tests/unit/connectors/rss/test_rss_golden.py`` and review the
diff line by line: a golden file is only as good as its review.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from connectors.rss import ParsedFeed, parse_feed

FEEDS = Path(__file__).resolve().parents[3] / "data" / "feeds"
GOLDEN = sorted(FEEDS.glob("*.expected.json"))


def _golden(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _parse(path: Path) -> ParsedFeed:
    case = _golden(path)
    feed = path.with_name(path.name.removesuffix(".expected.json"))
    return parse_feed(
        feed.read_bytes(),
        url=case["url"],
        content_type=case["content_type"],
        now=datetime.fromisoformat(case["now"]),
    )


def test_the_golden_feeds_are_there() -> None:
    names = {path.name.removesuffix(".expected.json") for path in GOLDEN}
    assert names == {"blog.rss", "blog-comments.rss", "forum-thread.atom", "reviews.rss"}


@pytest.mark.parametrize("path", GOLDEN, ids=lambda path: path.name.split(".expected")[0])
def test_parsed_feed_matches_the_golden_file(path: Path) -> None:
    parsed = msgspec.to_builtins(_parse(path))
    if os.environ.get("EGW_UPDATE_GOLDEN") == "1":
        case = _golden(path) | {"expected": parsed}
        text = json.dumps(case, indent=2, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
    assert parsed == _golden(path)["expected"]


def test_a_blog_post_and_its_comments_feed_share_one_thread() -> None:
    posts = _parse(FEEDS / "blog.rss.expected.json").mentions
    comments = _parse(FEEDS / "blog-comments.rss.expected.json").mentions
    post = posts[0]
    assert post.thread_id == "https://gadgetgrumbles.example/2024/05/acme-x200-six-weeks/"
    assert {comment.thread_id for comment in comments} == {post.thread_id}


def test_every_post_of_a_forum_thread_is_in_the_thread() -> None:
    opening, reply, answer = _parse(FEEDS / "forum-thread.atom.expected.json").mentions
    assert opening.thread_id == reply.thread_id == answer.thread_id
    assert reply.in_reply_to == opening.external_id
    assert answer.in_reply_to == reply.external_id


def test_review_site_entries_without_guid_or_link_still_get_stable_ids() -> None:
    first = _parse(FEEDS / "reviews.rss.expected.json")
    again = _parse(FEEDS / "reviews.rss.expected.json")
    ids = [mention.external_id for mention in first.mentions]
    assert ids == [mention.external_id for mention in again.mentions]
    assert len(set(ids)) == len(ids) == 3
    assert first.skipped == 1  # the entry with neither title nor text
