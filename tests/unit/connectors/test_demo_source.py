"""The demo source: a deterministic, endless stream that a stored cursor resumes exactly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.contract import PermanentError, RawMention, Source
from connectors.demo import DemoSource
from connectors.demo.catalogue import CATALOGUE

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def _source(**kwargs: object) -> DemoSource:
    return DemoSource(clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


async def _drain(source: DemoSource, batches: int) -> list[RawMention]:
    mentions: list[RawMention] = []
    cursor = None
    for _ in range(batches):
        batch = await source.fetch(cursor)
        mentions.extend(batch.mentions)
        cursor = batch.cursor
    return mentions


async def test_same_seed_and_cursor_give_the_same_batch() -> None:
    for cursor in (None, "5", "38", "120"):
        first = await _source(seed=7).fetch(cursor)
        second = await _source(seed=7).fetch(cursor)
        assert first == second


async def test_generated_posts_depend_on_the_seed() -> None:
    cursor = str(len(CATALOGUE) + 10)
    one = await _source(seed=1, batch_size=20).fetch(cursor)
    two = await _source(seed=2, batch_size=20).fetch(cursor)
    assert [m.text for m in one.mentions] != [m.text for m in two.mentions]


async def test_cursor_pages_without_repeats_or_gaps() -> None:
    paged = await _drain(_source(batch_size=7), batches=20)
    at_once = (await _source(batch_size=140).fetch(None)).mentions
    assert [m.external_id for m in paged] == [m.external_id for m in at_once]
    assert len({m.external_id for m in paged}) == 140


async def test_first_batch_starts_with_the_catalogue() -> None:
    batch = await _source().fetch(None)
    assert batch.mentions[0].text == "@acme my order #4411 still hasn't arrived, 3 weeks now"
    assert batch.cursor == "5"
    assert len(batch.mentions) == 5


async def test_continues_after_the_catalogue_with_unique_ids_and_urls() -> None:
    mentions = await _drain(_source(batch_size=25), batches=8)
    generated = mentions[len(CATALOGUE) :]
    assert len(generated) == 200 - len(CATALOGUE)
    assert all(m.text for m in generated)
    assert len({m.external_id for m in mentions}) == len(mentions)
    assert len({m.url for m in mentions}) == len(mentions)
    for mention in mentions:
        handle = mention.author.handle.removeprefix("@")
        assert mention.url == f"https://demo.example/@{handle}/{mention.external_id}"


async def test_generated_follow_ups_answer_an_earlier_post_by_the_same_author() -> None:
    mentions = await _drain(_source(seed=3, batch_size=50), batches=6)
    by_id = {m.external_id: m for m in mentions}
    follow_ups = [m for m in mentions[len(CATALOGUE) :] if m.in_reply_to is not None]
    assert follow_ups
    for reply in follow_ups:
        parent = by_id[reply.in_reply_to]  # type: ignore[index]
        assert parent.in_reply_to is None
        assert reply.thread_id == parent.external_id
        assert reply.author == parent.author
        assert mentions.index(parent) < mentions.index(reply)


async def test_catalogue_threads_point_at_earlier_posts_and_their_root() -> None:
    mentions = (await _source(batch_size=len(CATALOGUE)).fetch(None)).mentions
    by_id = {m.external_id: m for m in mentions}
    replies = [m for m in mentions if m.in_reply_to in by_id]
    assert len(replies) >= 4
    for reply in replies:
        root = by_id[reply.in_reply_to]  # type: ignore[index]
        while root.in_reply_to is not None:
            root = by_id[root.in_reply_to]
        assert reply.thread_id == root.external_id
        assert reply.created_at > by_id[reply.in_reply_to].created_at  # type: ignore[index]


async def test_catalogue_covers_the_cases_policies_act_on() -> None:
    mentions = (await _source(batch_size=len(CATALOGUE)).fetch(None)).mentions
    texts = [m.text.lower() for m in mentions]
    assert any("stop replying to me" in t for t in texts)
    assert any("lawsuit" in t for t in texts)
    assert any("doctor" in t for t in texts)
    assert any(not t.startswith("@acme") and "acme" in t for t in texts)
    assert any("#nobot" in m.author.display_name for m in mentions)
    assert any(m.addressed for m in mentions)


async def test_created_at_is_rfc3339_utc_from_the_clock_and_in_order() -> None:
    mentions = await _drain(_source(batch_size=60), batches=1)
    stamps = [m.created_at for m in mentions]
    assert all(s.endswith("Z") for s in stamps)
    parsed = [datetime.fromisoformat(s) for s in stamps]
    assert parsed == sorted(parsed)
    assert all(p <= NOW for p in parsed)
    assert parsed[-1] == NOW


async def test_brand_handle_and_channel_are_used() -> None:
    source = DemoSource("demo-eu", brand_handle="@acme_eu", clock=lambda: NOW)
    batch = await source.fetch(None)
    assert batch.mentions[0].text.startswith("@acme_eu my order")
    assert {m.channel for m in batch.mentions} == {"demo-eu"}


@pytest.mark.parametrize("cursor", ["", "-1", "abc", "1.5", "١٢"])
async def test_foreign_cursor_is_a_permanent_error(cursor: str) -> None:
    with pytest.raises(PermanentError):
        await _source().fetch(cursor)


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        DemoSource(batch_size=0)


def test_is_a_source() -> None:
    source: Source = DemoSource()  # mypy checks the protocol
    assert source.channel == "demo"
