"""Opt-out requests written in a mention, end to end: ingest, store, policy (real Rego).

An unmistakable request registers an opt-out, so any reply to that customer is denied
``opted_out``; an ambiguous one ("don't reply to this, I'm talking to my friend") registers
nothing, is stored as a possible opt-out that the agent sees, and sends any reply to review
with ``possible_opt_out``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.domain.records import User
from gateway.http.views import mention_out
from gateway.runtime import Runtime
from gateway.store import audit, mentions, opt_outs
from tests.integration.support import GOOD_REPLY, ingest_one, raw

ERIN = "@erin@social.example"
COMPLAINT = "@acme why is my refund still not here?"


async def _active_opt_outs(rt: Runtime) -> list[tuple[str, str]]:
    async with rt.db.pool.acquire() as conn:
        return [(o.channel, o.handle) for o in await opt_outs.list_opt_outs(conn)]


async def test_quit_messaging_me_registers_an_opt_out_and_replies_are_denied(
    runtime: Runtime, agent: User
) -> None:
    result = await runtime.ingestor.ingest([raw("quit messaging me", handle=ERIN)], actor="test")
    assert result.opt_outs == 1
    assert len(await _active_opt_outs(runtime)) == 1
    async with runtime.db.pool.acquire() as conn:
        asked = await mentions.get_mention(conn, result.ids[0], now=datetime.now(UTC))
        events = await audit.list_events(conn, kind="opt_out_added")
    assert (asked.optout_requested, asked.optout_signal) == (True, "requested")
    assert len(events) == 1

    later = await ingest_one(runtime, COMPLAINT, handle=ERIN)
    proposal = await runtime.decider.propose(mention_id=later, text=GOOD_REPLY, user=agent)
    assert proposal.status == "denied"
    assert "opted_out" in [r["code"] for r in proposal.reasons]


async def test_requests_in_other_languages_register_opt_outs(runtime: Runtime) -> None:
    texts = [
        "@acme dejen de escribirme",
        "@acme bitte keine Nachrichten mehr",
        "@acme ne me contactez plus",
        "@acme parem de me mandar mensagens",
    ]
    batch = [raw(text, handle=f"@user{i}@social.example") for i, text in enumerate(texts)]
    result = await runtime.ingestor.ingest(batch, actor="test")
    assert result.opt_outs == len(texts)


async def test_dont_reply_to_this_is_no_opt_out_but_sends_replies_to_review(
    runtime: Runtime, agent: User
) -> None:
    text = "@acme don't reply to this, I'm talking to my friend about my refund that never arrived"
    result = await runtime.ingestor.ingest([raw(text, handle=ERIN)], actor="test")
    assert result.opt_outs == 0
    assert await _active_opt_outs(runtime) == []
    async with runtime.db.pool.acquire() as conn:
        mention = await mentions.get_mention(conn, result.ids[0], now=datetime.now(UTC))
    assert (mention.optout_requested, mention.optout_signal) == (False, "possible")
    assert mention.intent == "complaint"  # otherwise intent_not_eligible would deny it
    view = mention_out(mention)  # what GET /v1/mentions/{id} answers
    assert (view.optout_requested, view.optout_signal) == (False, "possible")

    proposal = await runtime.decider.propose(mention_id=mention.id, text=GOOD_REPLY, user=agent)
    assert proposal.status == "pending_review"
    assert [r["code"] for r in proposal.reasons] == ["possible_opt_out"]

    # the customer is not opted out: a reply to their other posts is decided as usual
    other = await ingest_one(runtime, COMPLAINT, handle=ERIN)
    allowed = await runtime.decider.propose(mention_id=other, text=GOOD_REPLY, user=agent)
    assert allowed.status == "approved", allowed.reasons


async def test_the_issue_false_positive_is_only_a_possible_opt_out(
    runtime: Runtime, agent: User
) -> None:
    mention_id = await ingest_one(
        runtime, "@acme don't reply to this, I'm talking to my friend", handle=ERIN
    )
    assert await _active_opt_outs(runtime) == []
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    codes = [r["code"] for r in proposal.reasons]
    assert "possible_opt_out" in codes and "opted_out" not in codes
