"""The fresh re-check of a stored proposal: the policy again, on today's state.

A reply can wait between its decision and its release (in review, in the outbox). Meanwhile
the customer may opt out, be erased, or reach a cap. Whoever lets such a reply go on (a
reviewer approving it, the release worker publishing it) re-evaluates it first, with the
mention, the proposer's role and the customer's contact history as they are now.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec

from connectors.contract import ChannelLimits
from gateway.audit.subjects import sealed_for
from gateway.audit.suppression import SuppressionKeys
from gateway.domain.decisions import Decision
from gateway.domain.policy_input import PolicyInput
from gateway.domain.records import Mention, Proposal
from gateway.pipeline.decide import decision_payload
from gateway.pipeline.policy_input import build_policy_input
from gateway.policy.engine import PolicyEngine
from gateway.store import audit, mentions, proposals, users
from gateway.store.connection import Conn


class FreshCheck(msgspec.Struct, frozen=True, kw_only=True):
    mention: Mention
    input: PolicyInput
    decision: Decision


async def recheck(
    conn: Conn,
    proposal: Proposal,
    *,
    engine: PolicyEngine,
    keys: SuppressionKeys,
    limits: Mapping[str, ChannelLimits | None],
    now: datetime,
) -> FreshCheck:
    """Evaluate ``proposal`` again against the active policy and the current state.

    The proposal itself is left out of the customer's history (it is not a contact yet, or
    is the contact being re-checked).
    """
    mention = await mentions.get_mention(conn, proposal.mention_id, now=now)
    proposer = await users.user_by_name(conn, proposal.agent)  # fresh state, role included
    history = await proposals.customer_history(
        conn,
        channel=mention.channel,
        handle=mention.customer,
        thread_id=mention.thread_id,
        now=now,
        exclude_proposal=proposal.id,
        suppression_key=keys.for_mention(mention),
    )
    policy_input = build_policy_input(
        mention=mention,
        text=proposal.text,
        ai_generated=proposal.ai_generated,
        agent=proposal.agent,
        agent_role=proposer.role if proposer else "agent",
        history=history,
        now=now,
        limits=limits.get(mention.channel),
    )
    decision = await engine.decide(policy_input)
    return FreshCheck(mention=mention, input=policy_input, decision=decision)


async def record_withdrawal(
    conn: Conn, proposal_id: int, fresh: FreshCheck, *, actor: str, status: str, stage: str
) -> None:
    """The ``release_withdrawn`` event: the fresh input and the decision that stopped the
    reply (at ``stage``: "approval" or "release"), sealed like every personal payload."""
    await audit.append(
        conn,
        kind="release_withdrawn",
        actor=actor,
        subject=f"proposal:{proposal_id}",
        payload=await sealed_for(
            conn,
            {
                "proposal_id": proposal_id,
                "status": status,
                "stage": stage,
                "input": msgspec.to_builtins(fresh.input),
                "decision": decision_payload(fresh.decision),
            },
            channel=fresh.mention.channel,
            customer=fresh.mention.customer,
        ),
        policy_revision=fresh.decision.policy_revision,
    )
