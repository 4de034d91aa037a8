"""Invariant 2: an engine that fails, times out or answers nonsense means deny, audited."""

from __future__ import annotations

import pytest

from gateway.domain.records import User
from gateway.policy import EmbeddedEngine, build_bundle
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.store import audit, outbox
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user

BROKEN = {
    # Two definitions of a complete rule that both apply: a conflict at evaluation time.
    "conflict": """package engagement
decision := {"outcome": "allow", "reasons": []} if input.reply.length > 0
decision := {"outcome": "deny", "reasons": []} if input.reply.length > 1
""",
    "malformed": """package engagement
decision := {"outcome": "perhaps", "reasons": "none"}
""",
    "undefined": """package engagement
decision := {"outcome": "allow", "reasons": []} if input.no_such_field
""",
    "slow": """package engagement
decision := {"outcome": "allow", "reasons": []} if {
    count([x | some x in numbers.range(1, 3000000); x % 7 == 0]) > 0
}
""",
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
async def test_engine_failure_denies_and_is_audited(settings: Settings, kind: str) -> None:
    bundle = build_bundle({"engagement/decision.rego": BROKEN[kind]}, {})
    engine = EmbeddedEngine(bundle, timeout_s=0.05)
    rt = await Runtime.start(settings, engine=engine)
    try:
        agent: User = await make_user(rt, "alice", "agent")
        mention_id = await ingest_one(rt, COMPLAINT)
        proposal = await rt.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
        assert proposal.status == "denied"
        assert [r["code"] for r in proposal.reasons] == ["policy_error"]
        async with rt.db.pool.acquire() as conn:
            [event] = await audit.list_events(conn, kind="proposal_decided")
            assert await outbox.pending_count(conn) == 0
        assert event.payload["decision"]["outcome"] == "deny"
        assert event.payload["decision"]["error"]
        assert event.policy_revision == bundle.revision
    finally:
        await rt.close()
