"""The agent's desk on a real database and the default Rego policy: the inbox filters and
their counts, opted-out customers marked, contact history against the active caps, the
live verdict (writes nothing) with the words behind each reason, giving a claim up, and
why a proposal was withdrawn."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.domain.records import User
from gateway.pipeline.errors import StateConflict
from gateway.runtime import Runtime
from gateway.store.errors import Conflict
from gateway.store.inbox import InboxFilter
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user

PRAISE = "@acme you are wonderful, the new app is fantastic and I love it"
QUESTION = "@acme what time does the store on Main Street open on Sundays?"


def where(user: User, **kw: object) -> InboxFilter:
    return InboxFilter(agent=user.name, now=datetime.now(UTC), **kw)  # type: ignore[arg-type]


async def writes(runtime: Runtime) -> tuple[int, int]:
    async with runtime.db.pool.acquire() as conn:
        proposals = await conn.fetchval("SELECT count(*) FROM proposals")
        events = await conn.fetchval("SELECT count(*) FROM audit_events")
    return int(proposals), int(events)


async def test_inbox_filters_counts_claims_and_opted_out_marks(
    runtime: Runtime, agent: User, officer: User
) -> None:
    bob = await make_user(runtime, "bob", "agent")
    complaint = await ingest_one(runtime, COMPLAINT, handle="@dana@social.example")
    praise = await ingest_one(runtime, PRAISE, handle="@erin@social.example")
    question = await ingest_one(runtime, QUESTION, handle="@finn@social.example")
    await runtime.claims.claim(complaint, user=agent)
    await runtime.claims.claim(praise, user=bob)
    await runtime.consent.add(
        channel="demo", handle="@Finn@Social.Example", reason="asked", user=officer
    )

    everything = await runtime.desk.inbox(where(agent))
    assert [i.mention.id for i in everything.items] == [question, praise, complaint]
    marks = {i.mention.id: i.opted_out for i in everything.items}
    assert marks == {question: True, praise: False, complaint: False}
    holders = {
        i.mention.id: i.mention.claim.agent if i.mention.claim else None for i in everything.items
    }
    assert holders == {question: None, praise: "bob", complaint: "alice"}
    counts = everything.counts
    assert counts.total == 3
    assert counts.claim == {"mine": 1, "others": 1, "free": 1}
    assert counts.intent["complaint"] == 1 and counts.intent["praise"] == 1
    assert counts.sentiment["negative"] == 1 and counts.sentiment["positive"] == 1
    assert counts.channel == {"demo": 3}

    mine = await runtime.desk.inbox(where(agent, claim="mine"))
    assert [i.mention.id for i in mine.items] == [complaint]
    # Each facet's counts keep the other filters: with "mine", one complaint and no praise.
    assert mine.counts.total == 1
    assert mine.counts.intent == {"complaint": 1, "question": 0, "praise": 0, "other": 0}
    assert mine.counts.claim == {"mine": 1, "others": 1, "free": 1}  # its own facet: all
    assert [
        i.mention.id for i in (await runtime.desk.inbox(where(agent, claim="others"))).items
    ] == [praise]
    assert [i.mention.id for i in (await runtime.desk.inbox(where(bob, claim="others"))).items] == [
        complaint
    ]
    free = await runtime.desk.inbox(where(agent, claim="free"))
    assert [i.mention.id for i in free.items] == [question]
    negative = await runtime.desk.inbox(where(agent, sentiment_below=-0.05))
    assert [i.mention.id for i in negative.items] == [complaint]
    assert negative.counts.sentiment == {"negative": 1, "neutral": 1, "positive": 1}
    bucket = await runtime.desk.inbox(where(agent, sentiment_bucket="negative"))
    assert [i.mention.id for i in bucket.items] == [complaint]
    assert bucket.counts.total == 1 and bucket.counts.sentiment == negative.counts.sentiment
    praise_only = await runtime.desk.inbox(where(agent, intent="praise", status="new"))
    assert [i.mention.id for i in praise_only.items] == [praise]
    assert (await runtime.desk.inbox(where(agent, channel="mastodon"))).items == []


async def test_inbox_pages_newest_first_and_never_more_than_the_bound(
    runtime: Runtime, agent: User
) -> None:
    ids = [await ingest_one(runtime, f"{COMPLAINT} ({n})") for n in range(5)]
    first = await runtime.desk.inbox(where(agent, limit=2))
    assert [i.mention.id for i in first.items] == ids[:-3:-1]
    assert first.next_cursor == ids[3]
    second = await runtime.desk.inbox(where(agent, limit=2, before_id=first.next_cursor))
    assert [i.mention.id for i in second.items] == [ids[2], ids[1]]
    last = await runtime.desk.inbox(where(agent, limit=2, before_id=ids[1]))
    assert [i.mention.id for i in last.items] == [ids[0]] and last.next_cursor is None
    assert len((await runtime.desk.inbox(where(agent, limit=10_000))).items) == 5


async def test_contact_history_counts_replies_against_the_active_caps(
    runtime: Runtime, agent: User, officer: User
) -> None:
    first = await ingest_one(runtime, COMPLAINT, thread_id="t-1")
    proposal = await runtime.decider.propose(mention_id=first, text=GOOD_REPLY, user=agent)
    assert proposal.status == "approved"
    second = await ingest_one(runtime, COMPLAINT + " again", thread_id="t-2")
    history = await runtime.desk.contact_history(second)
    assert [(w.window, w.replies, w.cap) for w in history.windows] == [
        ("24h", 1, 3),
        ("7d", 1, 6),
        ("30d", 1, 15),
    ]
    assert history.customer == "dana@social.example" and not history.opted_out
    assert history.thread_replies == 0 and history.thread_cap == 1
    assert history.last_contact_at is not None
    assert history.policy_revision == runtime.engine.revision
    await runtime.consent.add(
        channel="demo", handle="dana@social.example", reason="no", user=officer
    )
    after = await runtime.desk.contact_history(second)
    assert after.opted_out and after.opt_out is not None and after.opt_out.reason == "no"


async def test_verdict_is_the_proposal_decision_with_the_words_and_writes_nothing(
    runtime: Runtime, agent: User
) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    before = await writes(runtime)
    text = "Calm down, this is not our problem. Take our lawsuit-free 20% off coupon!"
    verdict = await runtime.desk.verdict(mention_id=mention_id, text=text, user=agent)
    assert verdict.outcome == "deny"
    spans = {r.code: [s.text for s in r.spans] for r in verdict.reasons}
    assert spans["blocked_term"] == ["Calm down", "not our problem"]
    assert set(spans["marketing_offer"]) == {"20% off", "coupon"}
    assert spans["legal_language"] == ["lawsuit"]
    assert verdict.claimed_by is None
    assert await writes(runtime) == before  # nothing proposed, nothing audited
    real = await runtime.decider.propose(mention_id=mention_id, text=text, user=agent)
    assert real.outcome == verdict.outcome
    assert sorted(r["code"] for r in real.reasons) == sorted(r.code for r in verdict.reasons)


async def test_verdict_for_an_opted_out_customer_and_a_mention_another_agent_holds(
    runtime: Runtime, agent: User, officer: User
) -> None:
    bob = await make_user(runtime, "bob", "agent")
    mention_id = await ingest_one(runtime, COMPLAINT)
    await runtime.consent.add(channel="demo", handle="dana@social.example", reason="", user=officer)
    await runtime.claims.claim(mention_id, user=bob)
    verdict = await runtime.desk.verdict(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert verdict.outcome == "deny" and verdict.reasons[0].code == "opted_out"
    assert verdict.reasons[0].spans == []
    assert verdict.claimed_by == "bob"
    with pytest.raises(StateConflict):  # the verdict reports the claim; propose enforces it
        await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)


async def test_a_claim_is_given_up_by_its_holder_only(runtime: Runtime, agent: User) -> None:
    bob = await make_user(runtime, "bob", "agent")
    mention_id = await ingest_one(runtime, COMPLAINT)
    await runtime.claims.claim(mention_id, user=agent)
    with pytest.raises(Conflict, match="claimed by alice"):
        await runtime.claims.release(mention_id, user=bob)
    released = await runtime.claims.release(mention_id, user=agent)
    assert released.claim is None
    assert (await runtime.claims.claim(mention_id, user=bob)).claim is not None


async def test_a_withdrawn_proposal_shows_the_reasons_that_stopped_it(
    runtime: Runtime, agent: User, officer: User
) -> None:
    mention_id = await ingest_one(runtime, COMPLAINT)
    held = await runtime.decider.propose(
        mention_id=mention_id, text=GOOD_REPLY + " Our lawyer will call.", user=agent
    )
    assert held.status == "pending_review"
    view = await runtime.desk.proposal(held.id, user=agent)
    assert not view.final and view.withdrawn_reasons == []
    await runtime.consent.add(channel="demo", handle="dana@social.example", reason="", user=officer)
    dave = await make_user(runtime, "dave", "compliance")
    with pytest.raises(StateConflict):
        await runtime.reviewer.approve(held.id, user=dave, note="ok")
    view = await runtime.desk.proposal(held.id, user=agent)
    assert view.proposal.status == "withdrawn" and view.final
    assert view.withdrawn_reasons[0].code == "opted_out"
    mine = await runtime.desk.my_proposals(agent)
    assert [p.id for p in mine] == [held.id]
    bob = await make_user(runtime, "bob", "agent")
    assert await runtime.desk.my_proposals(bob) == []
    from gateway.domain.access import RoleRefused

    with pytest.raises(RoleRefused):
        await runtime.desk.proposal(held.id, user=bob)
