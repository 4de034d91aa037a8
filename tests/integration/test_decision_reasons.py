"""What an agent reads in a decision: reasons most final first, every channel limit checked.

Real PostgreSQL, the default bundle on the embedded regorus engine, the Decider the API
uses: the reasons stored on the proposal and in its audit event come in the order the
policy promises, and a Bluesky reply the channel would refuse at release for its size in
bytes is refused at decision time, with a message naming the unit.
"""

from __future__ import annotations

import pytest

from connectors.bluesky import BlueskyPublisher, grapheme_count
from connectors.bluesky.publisher import check_text
from connectors.contract import PermanentError
from gateway.domain.records import User
from gateway.pipeline.decide import Decider
from gateway.runtime import Runtime
from gateway.store import audit
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one

PRAISE = "@acme thanks, the new sofa is lovely! Great service"
# An emoji family (four people joined by ZWJ) is one grapheme and 25 UTF-8 bytes.
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
HEAVY_REPLY = "Yes " + FAMILY * 121  # 125 graphemes, 3,029 bytes


async def _decided_reasons(rt: Runtime, proposal_id: int) -> list[str]:
    async with rt.db.pool.acquire() as conn:
        events = await audit.list_events(conn, kind="proposal_decided")
    [event] = [e for e in events if e.payload["proposal_id"] == proposal_id]
    return [r["code"] for r in event.payload["decision"]["reasons"]]


async def test_opted_out_is_the_first_reason_before_intent_not_eligible(
    runtime: Runtime, agent: User, officer: User
) -> None:
    mention_id = await ingest_one(runtime, PRAISE, handle="@pat@social.example")
    await runtime.consent.add(
        channel="demo", handle="@pat@social.example", reason="asked by e-mail", user=officer
    )

    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)

    assert proposal.status == "denied"
    # Alphabetically intent_not_eligible came first and hid the opt-out.
    assert [r["code"] for r in proposal.reasons] == ["opted_out", "intent_not_eligible"]
    assert await _decided_reasons(runtime, proposal.id) == ["opted_out", "intent_not_eligible"]


def test_heavy_reply_is_within_bluesky_graphemes_but_over_its_bytes() -> None:
    assert (grapheme_count(HEAVY_REPLY), len(HEAVY_REPLY.encode())) == (125, 3029)
    with pytest.raises(PermanentError, match="3029 bytes"):
        check_text(HEAVY_REPLY)  # what the publisher does at release


async def test_bluesky_reply_over_3000_bytes_is_denied_at_decision_time(
    runtime: Runtime, agent: User
) -> None:
    # The Decider as the runtime builds it when a Bluesky account is configured.
    decider = Decider(runtime.db.pool, runtime.engine, limits={"bluesky": BlueskyPublisher.limits})
    mention_id = await ingest_one(runtime, COMPLAINT, channel="bluesky", handle="dana.bsky.social")

    proposal = await decider.propose(mention_id=mention_id, text=HEAVY_REPLY, user=agent)

    assert proposal.status == "denied"
    [reason] = proposal.reasons
    assert reason["code"] == "too_long"
    assert reason["rule"] == "engagement.content.too_long_bytes"
    assert "3029 bytes (limit 3000)" in reason["message"]
    async with runtime.db.pool.acquire() as conn:
        events = await audit.list_events(conn, kind="proposal_decided")
    [event] = [e for e in events if e.payload["proposal_id"] == proposal.id]
    recorded = event.payload["input"]
    assert recorded["reply"]["bytes"] == 3029 and recorded["reply"]["length"] == 125
    assert recorded["channel"]["max_bytes"] == 3000
    assert recorded["channel"]["length_unit"] == "graphemes"


async def test_bluesky_reply_just_under_both_limits_is_approved(
    runtime: Runtime, agent: User
) -> None:
    decider = Decider(runtime.db.pool, runtime.engine, limits={"bluesky": BlueskyPublisher.limits})
    mention_id = await ingest_one(runtime, COMPLAINT, channel="bluesky", handle="dana.bsky.social")
    text = "Yes " + FAMILY * 119 + "." * 21  # 144 graphemes, exactly 3,000 bytes
    assert len(text.encode()) == 3000
    check_text(text)

    proposal = await decider.propose(mention_id=mention_id, text=text, user=agent)

    assert proposal.status == "approved", proposal.reasons


async def test_bluesky_byte_limit_from_policy_data_without_a_publisher(
    runtime: Runtime, agent: User
) -> None:
    # No Bluesky publisher configured: the limit comes from data.json channel_byte_limits.
    assert "bluesky" not in runtime.publishers
    mention_id = await ingest_one(runtime, COMPLAINT, channel="bluesky", handle="dana.bsky.social")
    text = "Yes " + "\u00e9" * 150  # 154 characters, 304 bytes: fine
    approved = await runtime.decider.propose(mention_id=mention_id, text=text, user=agent)
    assert approved.status == "approved", approved.reasons

    other = await ingest_one(runtime, COMPLAINT, channel="bluesky", handle="eve.bsky.social")
    text = "Ok " + "\u6f22" * 1000  # 1,003 characters (over 300 too), 3,003 bytes
    denied = await runtime.decider.propose(mention_id=other, text=text, user=agent)
    messages = {r["rule"]: r["message"] for r in denied.reasons}
    assert "3003 bytes (limit 3000)" in messages["engagement.content.too_long_bytes"]
    assert "1003 characters (limit 300)" in messages["engagement.content.too_long"]
