"""A reply to an automated account is denied (author_is_bot) and never released.

The mention comes from a recorded Mastodon status whose account is marked ``bot: true``;
the same status from a person's account is allowed, so only the bot flag decides.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from connectors.contract import OutgoingReply, Receipt
from connectors.mastodon import Status, status_to_mention
from gateway.domain.records import User
from gateway.pipeline.release import ReleaseWorker
from gateway.runtime import Runtime
from gateway.store import audit
from tests.integration.support import GOOD_REPLY

DATA = Path(__file__).resolve().parents[1] / "data" / "mastodon"
BRAND_ID = "1"  # the brand account the status mentions


class _Recorder:
    channel = "mastodon"

    def __init__(self) -> None:
        self.published: list[OutgoingReply] = []

    async def publish(self, reply: OutgoingReply) -> Receipt:
        self.published.append(reply)
        return Receipt(channel="mastodon", external_id="m1", delivered_at="2026-01-01T00:00:00Z")


def _status(account: dict[str, Any]) -> Status:
    raw = copy.deepcopy(json.loads((DATA / "status_local_poll.json").read_text()))
    raw.update(
        account=account,
        content="<p>@acme my order #4411 still hasn't arrived after three weeks, terrible</p>",
        created_at=datetime.now(UTC).isoformat(),
        mentions=[{"id": BRAND_ID, "acct": "acme", "username": "acme"}],
        poll=None,
    )
    return msgspec.convert(raw, Status)


async def _propose_from(runtime: Runtime, agent: User, account: dict[str, Any]) -> Any:
    raw = status_to_mention(
        _status(account), instance="mastodon.social", brand_account_id=BRAND_ID, notified=True
    )
    [mention_id] = (await runtime.ingestor.ingest([raw], actor="test")).ids
    return await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)


async def test_reply_to_a_mastodon_bot_is_denied_and_never_released(
    runtime: Runtime, agent: User
) -> None:
    bot = json.loads((DATA / "account_bot.json").read_text())
    assert bot["bot"] is True
    proposal = await _propose_from(runtime, agent, bot)

    assert proposal.status == "denied"
    assert [r["code"] for r in proposal.reasons] == ["author_is_bot"]
    assert proposal.reasons[0]["rule"] == "engagement.bots.author_is_bot"
    async with runtime.db.pool.acquire() as conn:
        [event] = [
            e
            for e in await audit.list_events(conn, limit=100)
            if e.kind == "proposal_decided" and e.payload["proposal_id"] == proposal.id
        ]
    assert event.payload["decision"]["outcome"] == "deny"
    assert event.payload["input"]["mention"]["author"]["bot"] is True

    recorder = _Recorder()
    worker = ReleaseWorker(
        runtime.db.pool, runtime.engine, {"mastodon": recorder}, runtime.settings
    )
    assert await worker.release_one() is False  # nothing was queued
    assert recorder.published == []


async def test_the_same_status_from_a_person_is_allowed(runtime: Runtime, agent: User) -> None:
    person = {**json.loads((DATA / "account_bot.json").read_text()), "bot": False}
    proposal = await _propose_from(runtime, agent, person)
    assert proposal.status == "approved", proposal.reasons
