"""Languages and intents end to end (issue 13): ingest records the language and every
intent on the mention, the policy input carries them, and the default policy (real Rego)
sends a reply to a post in a language the classifier does not read to review with
``language_unsupported`` instead of denying it."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from gateway.domain.classification import Classification
from gateway.domain.records import Mention, User
from gateway.pipeline.classify import ClassifyItem
from gateway.runtime import Runtime
from gateway.store import mentions
from tests.integration.support import GOOD_REPLY, ingest_one, raw


async def _mention(runtime: Runtime, mention_id: int) -> Mention:
    async with runtime.db.pool.acquire() as conn:
        return await mentions.get_mention(conn, mention_id, now=datetime.now(UTC))


async def test_an_unread_language_goes_to_review_not_deny(runtime: Runtime, agent: User) -> None:
    mention_id = await ingest_one(
        runtime, "@acme il mio ordine non è mai arrivato e nessuno risponde alle email"
    )
    mention = await _mention(runtime, mention_id)
    assert (mention.language, mention.intent) == ("it", "unknown")
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert proposal.status == "pending_review"
    assert [r["code"] for r in proposal.reasons] == ["language_unsupported"]
    assert "(it)" in proposal.reasons[0]["message"]


async def test_classified_languages_are_recorded_and_answered(
    runtime: Runtime, agent: User
) -> None:
    for text, language in (
        ("@acme mi pedido nunca llegó y nadie responde", "es"),
        ("@acme Ihr Kundenservice ist eine Katastrophe, seit drei Wochen keine Antwort", "de"),
        ("@acme ma commande n'est toujours pas arrivée", "fr"),
        ("@acme meu pedido ainda não chegou", "pt"),
    ):
        mention_id = await ingest_one(runtime, text, handle=f"@{language}@social.example")
        mention = await _mention(runtime, mention_id)
        assert (mention.language, mention.intent) == (language, "complaint"), text
        assert mention.intents[0].intent == "complaint"
        assert mention.intent_features
        proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
        assert proposal.status == "approved", (text, proposal.reasons)


async def test_every_intent_is_stored_and_reaches_the_policy_input(
    runtime: Runtime, agent: User
) -> None:
    mention_id = await ingest_one(runtime, "@acme why is my order STILL not here?")
    mention = await _mention(runtime, mention_id)
    assert [s.intent for s in mention.intents] == ["complaint", "question"]
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    async with runtime.db.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT payload FROM audit_events WHERE seq = $1", proposal.audit_seq
        )
    assert row is not None
    sent = row["payload"]["input"]["mention"]
    assert [s["intent"] for s in sent["intents"]] == ["complaint", "question"]
    assert sent["language"] == "en"
    assert sent["flagged_intent"] is None


async def test_a_reply_in_a_complaint_thread_continues_the_complaint(runtime: Runtime) -> None:
    first = raw("@acme my speaker died after two days and support never answered")
    await runtime.ingestor.ingest([first], actor="test")
    follow = raw("that's what you said last week", in_reply_to=first.external_id)
    alone = raw("that's what you said last week")
    result = await runtime.ingestor.ingest([follow, alone], actor="test")
    threaded = await _mention(runtime, result.ids[0])
    unthreaded = await _mention(runtime, result.ids[1])
    assert threaded.intent == "complaint"
    assert "thread:complaint" in threaded.intent_features
    assert unthreaded.intent == "other"


async def test_classification_runs_off_the_event_loop(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = runtime.classifier.classify_many

    def spy(items: Iterable[ClassifyItem | str]) -> list[Classification]:
        seen.append(threading.get_ident())
        return original(items)

    monkeypatch.setattr(runtime.classifier, "classify_many", spy)
    await runtime.ingestor.ingest([raw("@acme where is my parcel?")], actor="test")
    assert seen
    assert loop_thread not in seen
