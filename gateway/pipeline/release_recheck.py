"""The release worker's fresh re-check, for a whole claimed batch at once.

The same check as :func:`gateway.pipeline.recheck.recheck` (the mention, the proposer's
role and the customer's history as they are now; the proposal itself left out of the
history), with the reads of the batch in two round trips instead of three per reply:
the mentions and roles, then every customer's contact facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from connectors.contract import ChannelLimits
from gateway.audit.suppression import SuppressionKeys
from gateway.domain.records import Proposal
from gateway.pipeline.policy_input import build_policy_input
from gateway.pipeline.recheck import FreshCheck
from gateway.policy.engine import PolicyEngine
from gateway.store import proposals, release_reads
from gateway.store.connection import Conn


async def recheck_batch(
    conn: Conn,
    batch: list[Proposal],
    *,
    engine: PolicyEngine,
    keys: SuppressionKeys,
    limits: Mapping[str, ChannelLimits | None],
    now: datetime,
) -> list[FreshCheck]:
    """Each proposal of ``batch`` evaluated again against the active policy and the
    current state, in the order given."""
    read = await release_reads.mentions_and_roles(conn, batch, now=now)
    facts = await proposals.contact_facts(
        conn,
        [
            proposals.HistoryQuery(
                channel=mention.channel,
                handle=mention.customer,
                thread_id=mention.thread_id,
                suppression_key=keys.for_mention(mention),
                exclude_proposal=proposal.id,
            )
            for proposal, (mention, _role) in zip(batch, read, strict=True)
        ],
        now=now,
    )
    checks: list[FreshCheck] = []
    for proposal, (mention, role), stored in zip(batch, read, facts, strict=True):
        policy_input = build_policy_input(
            mention=mention,
            text=proposal.text,
            ai_generated=proposal.ai_generated,
            agent=proposal.agent,
            agent_role=role or "agent",
            history=stored.history(),
            now=now,
            limits=limits.get(mention.channel),
        )
        decision = await engine.decide(policy_input)
        checks.append(FreshCheck(mention=mention, input=policy_input, decision=decision))
    return checks
