"""The dashboard's and the auditors' reports' figures, from real decisions, reviews and
releases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.audit.reports import audit_reports
from gateway.domain.records import User
from gateway.pipeline.dashboard import dashboard, window
from gateway.pipeline.errors import InvalidInput
from gateway.runtime import Runtime
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user
from tests.integration.test_decide_release import worker

DENIED_REPLY = "Only an idiot would think that, Dana."


async def test_figures_follow_what_happened(runtime: Runtime, agent: User, officer: User) -> None:
    posted = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    ids = [
        await ingest_one(runtime, COMPLAINT, handle=f"@{n}@social.example", created_at=posted)
        for n in ("ann", "ben", "cy", "dee")
    ]
    await ingest_one(runtime, "@acme I love the new app, thanks!", handle="@fan@social.example")
    allowed = await runtime.decider.propose(mention_id=ids[0], text=GOOD_REPLY, user=agent)
    await runtime.decider.propose(mention_id=ids[1], text=DENIED_REPLY, user=agent)
    held = await runtime.decider.propose(
        mention_id=ids[2], text=GOOD_REPLY, user=agent, ai_generated=True
    )
    waiting = await runtime.decider.propose(
        mention_id=ids[3], text=GOOD_REPLY, user=agent, ai_generated=True
    )
    assert (allowed.outcome, held.outcome, waiting.outcome) == ("allow", "review", "review")
    await runtime.reviewer.reject(held.id, user=officer, note="not in our voice")
    assert await worker(runtime).release_one() is True

    span = window(None, None)
    seen = await dashboard(runtime.db.pool, officer, span)
    intents = {(c.key, c.count) for c in seen.mentions_by_intent}
    assert ("complaint", 4) in intents and ("praise", 1) in intents
    sentiments = {c.key: c.count for c in seen.mentions_by_sentiment}
    assert sentiments["negative"] == 4 and sentiments["positive"] == 1
    assert seen.decisions_by_outcome == {"allow": 1, "deny": 1, "review": 2}
    assert seen.waiting_for_review.count == 1
    assert seen.median_release_seconds is not None
    assert 600 <= seen.median_release_seconds < 3600  # posted ten minutes ago
    assert seen.top_reasons is not None
    codes = {(r.outcome, r.code) for r in seen.top_reasons}
    assert ("deny", "blocked_term") in codes and ("review", "ai_generated") in codes
    assert seen.my_waiting_for_review is None

    # By role: an agent sees their own waiting replies, not the reasons.
    as_agent = await dashboard(runtime.db.pool, agent, span)
    assert as_agent.top_reasons is None
    assert as_agent.my_waiting_for_review is not None
    assert as_agent.my_waiting_for_review.count == 1
    other = await make_user(runtime, "bob", "agent")
    mine = (await dashboard(runtime.db.pool, other, span)).my_waiting_for_review
    assert mine is not None and mine.count == 0

    reports = await audit_reports(runtime.db.pool, span)
    [today] = reports.decisions_per_day
    assert today.by_outcome == {"allow": 1, "deny": 1, "review": 2}
    assert today.by_reason["ai_generated"] == 2
    assert [(r.reviewer, r.approved, r.rejected) for r in reports.overrides_by_reviewer] == [
        ("carol", 0, 1)
    ]
    assert [(r.key, r.count) for r in reports.released_per_day] == [("demo", 1)]


def test_a_window_is_checked() -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    assert window(None, None, days=7, now=now).since == now - timedelta(days=7)
    with pytest.raises(InvalidInput, match="must be before until"):
        window(now, now - timedelta(days=1))
    with pytest.raises(InvalidInput, match="at most 366 days"):
        window(now - timedelta(days=400), now)
