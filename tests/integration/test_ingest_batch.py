"""Ingest writes a batch with one statement per kind: what a caller sees stays as it was
when each mention was inserted one after another (ids in input order, a duplicate gets the
stored mention's id, the first of a repeated post is the one stored, opt-outs registered
for new mentions only, one ``mentions_ingested`` event)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from gateway.runtime import Runtime
from gateway.store import audit, mentions, opt_outs
from tests.integration.support import COMPLAINT, raw


async def test_a_batch_with_repeats_stores_each_post_once_in_input_order(
    runtime: Runtime,
) -> None:
    stored = raw("@acme where is my order? it has been two weeks")
    first = await runtime.ingestor.ingest([stored], actor="test")

    fresh = raw(COMPLAINT)
    same_url = msgspec.structs.replace(raw("@acme the same post, from its url"), url=fresh.url)
    same_key = msgspec.structs.replace(raw("@acme again"), external_id=stored.external_id)
    question = raw("@acme does the X200 charge over USB-C?")
    batch = [fresh, same_url, stored, question, fresh, same_key]
    result = await runtime.ingestor.ingest(batch, actor="test")

    ids = result.ids
    assert result.duplicates == 4
    assert ids[0] == ids[1] == ids[4]  # in-batch repeats get the first one's id
    assert ids[2] == ids[5] == first.ids[0]  # repeats of a stored mention get its id
    assert first.ids[0] < ids[0] < ids[3]  # new mentions numbered in input order
    async with runtime.db.pool.acquire() as conn:
        kept = await mentions.get_mention(conn, ids[0], now=datetime.now(UTC))
        asked = await mentions.get_mention(conn, ids[3], now=datetime.now(UTC))
        events = await audit.list_events(conn, kind="mentions_ingested")
    assert kept.text == COMPLAINT and kept.intent == "complaint"
    assert asked.intent == "question" and asked.language == "en"
    assert events[-1].payload == {"count": 2, "duplicates": 4, "mention_ids": [ids[0], ids[3]]}


async def test_a_large_batch_keeps_every_mention_and_its_classification(
    runtime: Runtime,
) -> None:
    texts = [
        "@acme my parcel {n} never arrived, this is unacceptable",
        "@acme how do I change the delivery address for order {n}?",
        "@acme thank you, order {n} arrived early and it is lovely",
        "@acme mi pedido {n} no ha llegado y nadie me responde",
        "stop messaging me about order {n}",
    ]
    batch = [raw(texts[n % len(texts)].format(n=n), handle=f"@c{n}@x.example") for n in range(600)]
    expected = runtime.classifier.classify_many([m.text for m in batch])
    result = await runtime.ingestor.ingest(batch, actor="test")
    assert result.duplicates == 0 and len(set(result.ids)) == 600
    assert result.opt_outs == 120
    async with runtime.db.pool.acquire() as conn:
        got = [await mentions.get_mention(conn, i, now=datetime.now(UTC)) for i in result.ids]
        registered = await opt_outs.list_opt_outs(conn, limit=1000)
    for mention, cls, sent in zip(got, expected, batch, strict=True):
        assert mention.text == sent.text
        assert (mention.intent, mention.language) == (cls.intent.intent, cls.language)
        assert mention.sentiment.compound == cls.sentiment.compound
        assert mention.optout_requested == cls.opt_out.requested
    assert len(registered) == 120
