"""The auditors' audit log: every filter, newest-first pages, and clear errors for bad
filters (against the real database and policy engine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain.records import User
from gateway.pipeline.errors import InvalidInput
from gateway.pipeline.log_search import LogFilter, search_log
from gateway.runtime import Runtime
from gateway.store.audit_search import AuditQuery, search_sql
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one

DENIED_REPLY = "Only an idiot would think that, Dana."


async def _three_decisions(rt: Runtime, agent: User) -> dict[str, int]:
    """allow for @ann, deny (blocked_term) for @ben, review (ai_generated) for @cy on rss."""
    seqs = {}
    for handle, text, ai, channel, outcome in (
        ("@ann@social.example", GOOD_REPLY, False, "demo", "allow"),
        ("@ben@social.example", DENIED_REPLY, False, "demo", "deny"),
        ("@cy@social.example", GOOD_REPLY, True, "rss", "review"),
    ):
        mention_id = await ingest_one(rt, COMPLAINT, handle=handle, channel=channel)
        proposal = await rt.decider.propose(
            mention_id=mention_id, text=text, user=agent, ai_generated=ai
        )
        assert proposal.outcome == outcome, proposal
        assert proposal.audit_seq is not None
        seqs[outcome] = proposal.audit_seq
    return seqs


async def _seqs(rt: Runtime, **where: object) -> list[int]:
    page = await search_log(rt.db.pool, LogFilter(**where), limit=200)  # type: ignore[arg-type]
    return [e.seq for e in page.items]


async def test_each_filter_picks_what_it_names(runtime: Runtime, agent: User) -> None:
    seqs = await _three_decisions(runtime, agent)
    decided = sorted(seqs.values(), reverse=True)
    assert await _seqs(runtime, kind="proposal_decided") == decided
    assert await _seqs(runtime, outcome="deny") == [seqs["deny"]]
    assert await _seqs(runtime, reason="blocked_term") == [seqs["deny"]]
    assert await _seqs(runtime, reason="ai_generated") == [seqs["review"]]
    assert await _seqs(runtime, channel="rss") == [seqs["review"]]
    assert await _seqs(runtime, actor="alice", kind="proposal_decided") == decided
    assert await _seqs(runtime, actor="nobody") == []
    # Any spelling of the customer's handle finds their events (not the others').
    ben = await _seqs(runtime, customer="BEN@social.example", kind="proposal_decided")
    assert ben == [seqs["deny"]]
    assert await _seqs(runtime, customer="@never@social.example") == []
    page = await search_log(runtime.db.pool, LogFilter(outcome="deny"))
    [event] = page.items
    revision = event.policy_revision
    assert revision
    assert await _seqs(runtime, revision=revision, kind="proposal_decided") == decided
    assert await _seqs(runtime, revision="not-a-revision") == []
    # The page is opened for reading: the reply text is there, not its sealed form.
    assert event.payload["input"]["reply"]["text"] == DENIED_REPLY
    now = datetime.now(UTC)
    assert await _seqs(runtime, since=now + timedelta(minutes=1)) == []
    assert await _seqs(runtime, until=now - timedelta(days=1)) == []
    everything = await _seqs(runtime, since=now - timedelta(hours=1))
    assert set(decided) <= set(everything)


async def test_pages_are_newest_first_bounded_and_complete(runtime: Runtime, agent: User) -> None:
    await _three_decisions(runtime, agent)
    everything = await _seqs(runtime)
    assert everything == sorted(everything, reverse=True) and len(everything) >= 6
    seen: list[int] = []
    before = None
    while True:
        page = await search_log(runtime.db.pool, LogFilter(), before=before, limit=2)
        assert len(page.items) <= 2
        seen += [e.seq for e in page.items]
        if page.next_before is None:
            break
        before = page.next_before
    assert seen == everything


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (LogFilter(outcome="maybe"), "outcome must be one of allow, review, deny"),
        (LogFilter(kind="a\x00b"), "kind contains a control character"),
        (LogFilter(reason="x" * 201), "reason is 201 characters long"),
        (LogFilter(customer="@"), "customer is empty"),
        (
            LogFilter(
                since=datetime(2026, 1, 2, tzinfo=UTC), until=datetime(2026, 1, 1, tzinfo=UTC)
            ),
            "must be before until",
        ),
    ],
)
async def test_a_filter_that_makes_no_sense_says_why(
    runtime: Runtime, where: LogFilter, message: str
) -> None:
    with pytest.raises(Exception, match=message) as caught:
        await search_log(runtime.db.pool, where)
    assert caught.type.__name__ in ("InvalidInput", "InvalidIdentity")


async def test_page_bounds_are_checked(runtime: Runtime) -> None:
    with pytest.raises(InvalidInput, match="limit must be 1 to 200"):
        await search_log(runtime.db.pool, LogFilter(), limit=201)
    with pytest.raises(InvalidInput, match="before must be a positive"):
        await search_log(runtime.db.pool, LogFilter(), before=0)


_VARIED_EVENTS = """
INSERT INTO audit_events (seq, occurred_at, kind, actor, subject, payload, policy_revision,
                          prev_hash, hash)
SELECT g, now(), 'kind' || (g % 20), 'actor' || (g % 50), 's',
       jsonb_build_object(
           'decision', jsonb_build_object(
               'outcome', (ARRAY['allow', 'review', 'deny'])[g % 3 + 1],
               'reasons', jsonb_build_array(jsonb_build_object('code', 'code' || (g % 40)))),
           'input', jsonb_build_object('mention', jsonb_build_object('channel', 'ch' || (g % 10))),
           'subject_id', (g % 500)::text),
       'rev' || (g % 30), 'x', md5(g::text)
FROM generate_series(1000001, 1008000) g
"""


_FILTER_INDEXES = [
    (AuditQuery(outcome="deny"), "audit_events_outcome_idx"),
    (AuditQuery(reason="code7"), "audit_events_reasons_idx"),
    (AuditQuery(subject_ids=["17"]), "audit_events_subject_id_idx"),
    (AuditQuery(policy_revision="rev3"), "audit_events_revision_idx"),
    (AuditQuery(channel="ch3"), "audit_events_channel_idx"),
    (AuditQuery(kind="kind3"), "audit_events_kind_idx"),
    (AuditQuery(actor="actor3"), "audit_events_actor_idx"),
]


async def test_each_filter_uses_its_index(runtime: Runtime) -> None:
    """The partial indexes apply only when the query repeats their predicate: on a log
    of some size, the plan of each filter must name that filter's index."""
    async with runtime.db.pool.acquire() as conn, conn.transaction():
        await conn.execute(_VARIED_EVENTS)  # rolled back at the end
        await conn.execute("ANALYZE audit_events")
        for query, index in _FILTER_INDEXES:
            sql, args = search_sql(query, before_seq=None, limit=51)
            plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {sql}", *args))
            assert index in plan, (query, plan)
