"""parse_feed: what a feed entry becomes, and how unusable documents are reported."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.contract import PermanentError
from connectors.rss import FeedError, ParsedFeed, parse_feed, plain_text

URL = "https://blog.example/feed.xml"
NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def _rss(
    items: str, channel: str = "<title>Blog</title><link>https://blog.example/</link>"
) -> bytes:
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
    return f"{head}{channel}{items}</channel></rss>".encode()


def _atom(entries: str, head: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0">'
        f"<title>Atom</title><id>urn:feed</id><updated>2024-05-01T00:00:00Z</updated>{head}"
        f"{entries}</feed>"
    ).encode()


def _item(guid: str, title: str, description: str) -> str:
    body = f"<title>{title}</title><description>{description}</description>"
    return f"<item><guid>{guid}</guid>{body}</item>"


def _parse(content: bytes, content_type: str | None = "application/rss+xml") -> ParsedFeed:
    return parse_feed(content, url=URL, content_type=content_type, now=NOW)


def _one(item: str) -> ParsedFeed:
    feed = _parse(_rss(f"<item>{item}</item>"))
    assert len(feed.mentions) == 1, feed
    return feed


# --- text ---------------------------------------------------------------------------------


def test_html_becomes_plain_text_with_entities_unescaped_and_whitespace_collapsed() -> None:
    description = (
        "&lt;p&gt;Order&amp;nbsp;#4411   is &lt;b&gt;late&lt;/b&gt; &amp;amp; "
        "&lt;a href='https://x.example'&gt;support&lt;/a&gt; is silent.&lt;/p&gt;"
        "&lt;p&gt;Second&lt;br/&gt;line&lt;/p&gt;"
    )
    [mention] = _one(f"<guid>a</guid><description>{description}</description>").mentions
    assert mention.text == "Order #4411 is late & support is silent.\nSecond\nline"


def test_scripts_styles_and_tag_like_leftovers_never_reach_the_text() -> None:
    content = (
        "<![CDATA[<style>p{color:red}</style><p>Hi</p><script>steal()</script>"
        "<p>&lt;blink&gt;old&lt;/blink&gt; and 3 &lt; 5</p>]]>"
    )
    [mention] = _one(f"<guid>a</guid><description>{content}</description>").mentions
    assert mention.text == "Hi\nold and 3 < 5"


def test_title_and_body_are_joined_and_a_repeated_title_is_dropped() -> None:
    feed = _parse(
        _rss(
            _item("1", "Broken charger", "It whines.")
            + _item("2", "It whines when…", "It whines when plugged in.")
            + _item("3", "Re", "Really annoying.")
        )
    )
    assert [m.text for m in feed.mentions] == [
        "Broken charger\nIt whines.",
        "It whines when plugged in.",
        "Re\nReally annoying.",
    ]


def test_full_content_is_preferred_to_the_summary() -> None:
    rss = (
        b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        b"<item><guid>1</guid><description>Short.</description>"
        b"<content:encoded>&lt;p&gt;The long version.&lt;/p&gt;</content:encoded></item>"
        b"</channel></rss>"
    )
    assert _parse(rss).mentions[0].text == "The long version."


def test_text_is_capped() -> None:
    body = "word " * 5000
    feed = parse_feed(
        _rss(f"<item><guid>1</guid><description>{body}</description></item>"),
        url=URL,
        content_type=None,
        now=NOW,
        max_text_chars=100,
    )
    text = feed.mentions[0].text
    assert len(text) == 100
    assert text.endswith("…")


def test_control_characters_are_removed() -> None:
    # XML forbids most C0 characters, but the lenient parser lets a character reference through.
    [mention] = _one("<guid>1</guid><description>bell&#x7;here\u0085</description>").mentions
    assert mention.text == "bellhere"


def test_entries_without_text_are_skipped_and_counted() -> None:
    feed = _parse(
        _rss(
            "<item><guid>1</guid><title> </title></item><item><guid>2</guid><title>x</title></item>"
        )
    )
    assert [m.text for m in feed.mentions] == ["x"]
    assert feed.skipped == 1


def test_plain_text_keeps_a_lone_less_than_sign() -> None:
    assert plain_text("a &lt; b, <i>c</i> &gt; d &amp; e") == "a < b, c > d & e"


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ('<p title="a > b">x</p>y', "x\ny"),  # ">" inside a quoted attribute
        ("<![CDATA[<p>Hi &amp; bye</p>]]>", "Hi & bye"),  # double-wrapped HTML
        ("<SCRIPT type=x>if (a<b) go()</SCRIPT >after", "after"),
        ("<style>p{}</style><noscript>enable JS</noscript>kept", "kept"),
        ("unclosed <script>evil()", "unclosed"),
        ("<!-- a --><p>a<br/>b</p><!-- unclosed", "a\nb"),
        ("<a href='x'>link</a> &amp;amp; &#8212; &hellip;", "link &amp; — …"),
    ],
)
def test_plain_text_of_awkward_markup(markup: str, text: str) -> None:
    assert plain_text(markup) == text


@pytest.mark.parametrize("unit", ["<a", '<a "', "<!--", "<![CDATA[", "<?", "<!", "&lt;a"])
def test_hostile_markup_takes_linear_time(unit: str) -> None:
    # html.parser took 33 s for 100 KB of "<a"; feedparser's sanitizer 26 s for 200 KB of "<!--".
    markup = unit * (200_000 // len(unit))
    started = time.perf_counter()
    plain_text(markup)
    entry = f"<item><guid>1</guid><description><![CDATA[{markup}]]></description></item>"
    _parse(_rss(entry))
    assert time.perf_counter() - started < 5


# --- ids ----------------------------------------------------------------------------------


def test_external_id_is_the_guid_when_it_is_a_uri() -> None:
    [mention] = _one("<guid>https://blog.example/?p=12</guid><title>x</title>").mentions
    assert mention.external_id == "https://blog.example/?p=12"


def test_a_guid_that_is_not_a_uri_is_qualified_by_the_feed() -> None:
    [mention] = _one('<guid isPermaLink="false">12</guid><title>x</title>').mentions
    assert mention.external_id == "https://blog.example/feed.xml#12"
    other = parse_feed(
        _rss('<item><guid isPermaLink="false">12</guid><title>x</title></item>'),
        url="https://other.example/rss",
        content_type=None,
        now=NOW,
    )
    assert other.mentions[0].external_id != mention.external_id


def test_without_guid_the_link_is_the_id() -> None:
    [mention] = _one("<link>https://blog.example/p/1</link><title>x</title>").mentions
    assert mention.external_id == "https://blog.example/p/1"
    assert mention.url == "https://blog.example/p/1"


def test_without_guid_or_link_the_id_is_a_stable_digest() -> None:
    item = "<title>Charger whines</title><pubDate>Wed, 01 May 2024 10:00:00 GMT</pubDate>"
    first = _one(item).mentions[0].external_id
    assert first.startswith("sha256:")
    assert len(first) == len("sha256:") + 64
    assert _one(item).mentions[0].external_id == first
    other = "<title>Charger hums</title><pubDate>Wed, 01 May 2024 10:00:00 GMT</pubDate>"
    assert _one(other).mentions[0].external_id != first


def test_non_http_links_are_not_kept_as_urls() -> None:
    [mention] = _one("<guid>g1</guid><link>javascript:alert(1)</link><title>x</title>").mentions
    assert mention.url is None


# --- authors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("author", "handle", "display_name"),
    [
        ("lena@shop.example (Lena  K.)", "lena k.", "Lena K."),
        ("Lena K. &lt;lena@shop.example&gt;", "lena k.", "Lena K."),
        ("lena@shop.example", "lena@shop.example", "lena@shop.example"),
        ("noreply@blogger.com", "blog", "Blog"),  # a no-reply address falls back to the feed
    ],
)
def test_rss_author_strings_give_a_name(author: str, handle: str, display_name: str) -> None:
    [mention] = _one(f"<guid>1</guid><title>x</title><author>{author}</author>").mentions
    assert (mention.author.handle, mention.author.display_name) == (handle, display_name)


def test_dc_creator_is_the_author() -> None:
    rss = (
        b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>B</title>'
        b"<item><guid>1</guid><title>x</title><dc:creator>Tom  H.</dc:creator></item>"
        b"</channel></rss>"
    )
    author = _parse(rss).mentions[0].author
    assert (author.handle, author.display_name) == ("tom h.", "Tom H.")


def test_without_any_author_the_feed_title_then_the_host_stands_in() -> None:
    assert _one("<guid>1</guid><title>x</title>").mentions[0].author.display_name == "Blog"
    untitled = _parse(_rss("<item><guid>1</guid><title>x</title></item>", channel=""))
    assert untitled.mentions[0].author.handle == "blog.example"


def test_atom_author_name() -> None:
    feed = _parse(
        _atom(
            "<entry><id>urn:1</id><title>x</title><updated>2024-05-02T00:00:00Z</updated>"
            "<author><name>Jane Doe</name><email>jane@x.example</email></author></entry>"
        ),
        "application/atom+xml",
    )
    assert feed.mentions[0].author.display_name == "Jane Doe"


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Thu, 02 May 2024 17:30:00 +0100", "2024-05-02T16:30:00Z"),
        ("Fri, 03 May 2024 14:05:00 EST", "2024-05-03T19:05:00Z"),
        ("2024-05-04T06:48:30.250-07:00", "2024-05-04T13:48:30Z"),
    ],
)
def test_dates_become_rfc3339_utc(date: str, expected: str) -> None:
    [mention] = _one(f"<guid>1</guid><title>x</title><pubDate>{date}</pubDate>").mentions
    assert mention.created_at == expected


def test_atom_published_is_preferred_to_updated() -> None:
    feed = _parse(
        _atom(
            "<entry><id>urn:1</id><title>x</title><published>2024-05-01T10:00:00Z</published>"
            "<updated>2024-05-03T10:00:00Z</updated></entry>"
            "<entry><id>urn:2</id><title>y</title><updated>2024-05-03T11:00:00+01:00</updated></entry>"
        ),
        "application/atom+xml",
    )
    assert [m.created_at for m in feed.mentions] == ["2024-05-01T10:00:00Z", "2024-05-03T10:00:00Z"]


def test_undated_entries_take_the_feed_date_then_now() -> None:
    dated_feed = _rss(
        "<item><guid>1</guid><title>x</title><pubDate>not a date</pubDate></item>",
        channel="<title>B</title><lastBuildDate>Sat, 04 May 2024 10:00:00 +0000</lastBuildDate>",
    )
    assert _parse(dated_feed).mentions[0].created_at == "2024-05-04T10:00:00Z"
    assert _one("<guid>1</guid><title>x</title>").mentions[0].created_at == "2024-06-01T12:00:00Z"


# --- threads ------------------------------------------------------------------------------


def test_thread_id_is_the_comments_page_without_its_fragment() -> None:
    [mention] = _one(
        "<guid>1</guid><title>x</title><link>https://blog.example/p/1/</link>"
        "<comments>https://blog.example/p/1/#comments</comments>"
    ).mentions
    assert mention.thread_id == "https://blog.example/p/1/"
    assert mention.in_reply_to is None


def test_entries_of_a_comments_feed_share_the_page_they_are_anchors_on() -> None:
    feed = _parse(
        _rss(
            "<item><guid>c1</guid><title>By: A</title><link>https://blog.example/p/1/#comment-1</link></item>"
            "<item><guid>c2</guid><title>By: B</title><link>https://blog.example/p/1/#comment-2</link></item>",
            channel="<title>Comments on: P</title><link>https://blog.example/p/1/</link>",
        )
    )
    assert {m.thread_id for m in feed.mentions} == {"https://blog.example/p/1/"}


def test_atom_replies_carry_in_reply_to_and_the_parent_page_as_thread() -> None:
    feed = _parse(
        _atom(
            "<entry><id>tag:x,2024:c9</id><title>Re</title><updated>2024-05-02T00:00:00Z</updated>"
            '<thr:in-reply-to ref="tag:x,2024:post-1" href="https://blog.example/2024/post.html#c3"/>'
            "</entry>"
            "<entry><id>tag:x,2024:c10</id><title>Re2</title><updated>2024-05-02T00:00:00Z</updated>"
            '<thr:in-reply-to ref="local-7"/></entry>'
        ),
        "application/atom+xml",
    )
    first, second = feed.mentions
    assert first.in_reply_to == "tag:x,2024:post-1"
    assert first.thread_id == "https://blog.example/2024/post.html"
    assert second.in_reply_to == f"{URL}#local-7"  # qualified like the ids it refers to
    assert second.thread_id is None


def test_atom_replies_link_gives_the_thread_of_a_post() -> None:
    feed = _parse(
        _atom(
            "<entry><id>tag:x,2024:post-1</id><title>Post</title><updated>2024-05-02T00:00:00Z</updated>"
            '<link rel="alternate" href="https://blog.example/2024/post.html"/>'
            '<link rel="replies" type="text/html" href="https://blog.example/2024/post.html#comment-form"/>'
            "</entry>"
        ),
        "application/atom+xml",
    )
    assert feed.mentions[0].thread_id == "https://blog.example/2024/post.html"


def test_an_entry_without_thread_information_has_no_thread() -> None:
    [mention] = _one("<guid>1</guid><title>x</title><link>https://blog.example/p/1</link>").mentions
    assert mention.thread_id is None


# --- documents ----------------------------------------------------------------------------


def test_relative_links_resolve_against_where_the_feed_was_fetched() -> None:
    feed = parse_feed(
        _rss("<item><guid>1</guid><title>x</title><link>/p/1</link></item>"),
        url=URL,
        base_url="https://www.blog.example/feeds/all.xml",
        content_type=None,
        now=NOW,
    )
    assert feed.mentions[0].url == "https://www.blog.example/p/1"


def test_channel_and_feed_metadata() -> None:
    feed = parse_feed(
        _rss("<item><guid>1</guid><title>x</title></item>"),
        url=URL,
        content_type=None,
        channel="blogs",
        now=NOW,
    )
    assert (feed.title, feed.link, feed.version) == ("Blog", "https://blog.example/", "rss20")
    assert feed.mentions[0].channel == "blogs"
    assert feed.mentions[0].channel_data == {"feed_url": URL}
    assert feed.warnings == []


def test_a_valid_feed_with_no_entries_is_empty_not_an_error() -> None:
    feed = _parse(_rss(""))
    assert feed.mentions == []
    assert feed.warnings == []


def test_an_ill_formed_feed_with_entries_is_used_with_a_warning() -> None:
    # An HTML entity XML does not know, and a missing end: the lenient parser copes.
    content = _rss("<item><guid>1</guid><title>Caf&eacute; &nbsp;review</title></item>")
    feed = _parse(content[: -len("</rss>")])
    assert [m.text for m in feed.mentions] == ["Café review"]
    assert feed.warnings and feed.warnings[0].startswith("feed is not well-formed, used anyway")


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"", "application/xml", "the response was empty"),
        (b"  \n ", None, "the response was empty"),
        (
            b"<!DOCTYPE html>\n<html><head><title>Blog</title></head><body><p>Hi</p></body></html>",
            "text/html; charset=utf-8",
            "serves an HTML page, not a feed",
        ),
        (b'{"items": []}', "application/json", "not well-formed XML"),
        (b"<config><item>1</item></config>", "application/xml", "not RSS or Atom"),
        (
            b'<rss version="2.0"><channel><title>cut off',
            "application/rss+xml",
            "not well-formed XML",
        ),
        (b"\x00\x01\x02\xff garbage", None, "not well-formed XML"),
    ],
)
def test_unusable_documents_raise_a_clear_feed_error(
    content: bytes, content_type: str | None, message: str
) -> None:
    with pytest.raises(FeedError) as caught:
        _parse(content, content_type)
    assert str(caught.value).startswith(f"feed {URL}: ")
    assert message in str(caught.value)
    assert isinstance(caught.value, PermanentError)


def test_html_after_comments_is_recognised_and_many_comments_take_no_time() -> None:
    with pytest.raises(FeedError, match="HTML page"):
        _parse(b"<!-- cms -->\n<!-- v2 -->\n<HTML><body>hi</body></html>", "text/html")
    started = time.perf_counter()
    with pytest.raises(FeedError):
        _parse(b"<!--a-->" * 5000 + b"x", "text/html")
    assert time.perf_counter() - started < 2


def test_malformed_xml_error_says_what_and_where() -> None:
    with pytest.raises(FeedError, match=r"not well-formed XML .*\d+:\d+: mismatched tag"):
        _parse(b'<rss version="2.0"><channel><title>a</titel></channel></rss>')


def test_content_is_never_taken_for_a_file_name(tmp_path: Path) -> None:
    # feedparser.parse(bytes) opens a file of that name if there is one; parse_feed must not.
    local = tmp_path / "local-feed.xml"
    local.write_bytes(_rss("<item><guid>1</guid><title>read from disk</title></item>"))
    with pytest.raises(FeedError):
        _parse(str(local).encode(), None)
