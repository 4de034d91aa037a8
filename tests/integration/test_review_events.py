"""The review queue's event stream (``GET /ui/review/events``) on a real server and database:
a reply held for review shows up on it, an approval takes it off; only compliance officers
(and admins) get a stream; every open stream shares one poll and lets go of it when the
page goes; a quiet stream carries heartbeats and ends by itself (a shutdown never waits
long for it)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from gateway.domain.records import Proposal
from gateway.runtime import Runtime
from gateway.store import users
from gateway.web import review
from gateway.web.review_feed import feed_for
from tests.integration.console_support import add_person, console_app, sign_in
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user

STREAM = {"Accept": "text/event-stream"}
BOUND_S = 5.0  # the shared poll runs every second: an event comes well within this


class Event(msgspec.Struct, frozen=True):
    event: str | None
    data: str | None
    comment: str | None


async def _events(response: httpx.Response) -> AsyncIterator[Event]:
    """The stream's events and comments, one at a time."""
    event: str | None = None
    data: list[str] = []
    comment: str | None = None
    async for line in response.aiter_lines():
        if line == "":
            if event or data or comment:
                yield Event(event, "\n".join(data) if data else None, comment)
            event, data, comment = None, [], None
        elif line.startswith(":"):
            comment = line[1:].strip()
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


async def _queue_state(events: AsyncIterator[Event], until: Any) -> dict[str, int]:
    """The next ``queue`` event whose state satisfies ``until``, within ``BOUND_S``."""
    async with asyncio.timeout(BOUND_S):
        async for event in events:
            if event.event == "queue" and event.data:
                state: dict[str, int] = msgspec.json.decode(event.data)
                if until(state):
                    return state
    raise AssertionError("the stream ended before the expected state")


async def _held(runtime: Runtime, thread: str) -> Proposal:
    agent = await make_user(runtime, f"agent-{thread}", "agent")
    mention_id = await ingest_one(runtime, COMPLAINT, thread_id=thread)
    held = await runtime.decider.propose(
        mention_id=mention_id, text=GOOD_REPLY, user=agent, ai_generated=True
    )
    assert held.status == "pending_review", held.reasons
    return held


@pytest.fixture
async def console(runtime: Runtime) -> AsyncIterator[str]:
    for name, role in (("carol", "compliance"), ("alice", "agent"), ("root", "admin")):
        await add_person(runtime, name, role)
    async with console_app(runtime) as base:
        yield base


async def test_a_held_reply_appears_on_the_stream_and_its_approval_takes_it_off(
    runtime: Runtime, console: str
) -> None:
    async with httpx.AsyncClient(base_url=console, timeout=10) as client:
        assert (await sign_in(client, "carol")).status_code == 303
        async with client.stream("GET", "/ui/review/events", headers=STREAM) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = _events(response)
            first = await _queue_state(events, lambda s: True)  # at once: what waits now
            assert first == {"waiting": 0, "newest": 0}

            held = await _held(runtime, "t-live")
            started = time.monotonic()
            arrived = await _queue_state(events, lambda s: s["newest"] == held.id)
            assert arrived == {"waiting": 1, "newest": held.id}
            assert time.monotonic() - started < BOUND_S

            async with runtime.db.pool.acquire() as conn:
                carol = await users.user_by_name(conn, "carol")
            assert carol is not None
            await runtime.reviewer.approve(held.id, user=carol, note="fine")
            gone = await _queue_state(events, lambda s: s["waiting"] == 0)
            assert gone == {"waiting": 0, "newest": 0}


async def test_only_compliance_officers_and_admins_get_a_stream(console: str) -> None:
    async with httpx.AsyncClient(base_url=console, timeout=10) as client:
        signed_out = await client.get("/ui/review/events", headers=STREAM)
        assert signed_out.status_code == 401
        assert not signed_out.headers.get("content-type", "").startswith("text/event-stream")

        assert (await sign_in(client, "alice")).status_code == 303
        agent = await client.get("/ui/review/events", headers=STREAM)
        assert agent.status_code == 403
        assert not agent.headers["content-type"].startswith("text/event-stream")

    async with httpx.AsyncClient(base_url=console, timeout=10) as client:
        assert (await sign_in(client, "root")).status_code == 303
        async with client.stream("GET", "/ui/review/events", headers=STREAM) as admin:
            assert admin.status_code == 200
            state = await _queue_state(_events(admin), lambda s: True)
            assert state["waiting"] == 0


async def test_open_streams_share_one_poll_and_release_it_when_pages_close(
    runtime: Runtime, console: str
) -> None:
    feed = feed_for(runtime.db)
    async with httpx.AsyncClient(base_url=console, timeout=10) as client:
        assert (await sign_in(client, "carol")).status_code == 303
        streams = [client.stream("GET", "/ui/review/events", headers=STREAM) for _ in range(3)]
        pages = [_events(await s.__aenter__()) for s in streams]
        for events in pages:
            await _queue_state(events, lambda s: True)
        assert feed.subscribers == 3
        held = await _held(runtime, "t-shared")
        for events in pages:  # every page hears of the arrival from the one poll
            await _queue_state(events, lambda s: s["newest"] == held.id)
        for s in streams:  # the browser tabs close
            await s.__aexit__(None, None, None)
    for _ in range(int(BOUND_S / 0.05)):  # the server notices the disconnects
        if not feed.subscribers:
            break
        await asyncio.sleep(0.05)
    assert feed.subscribers == 0  # the poll stopped with the last page


async def test_a_quiet_stream_carries_heartbeats_and_ends_by_itself(
    runtime: Runtime, console: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review, "HEARTBEAT_S", 0.2)
    monkeypatch.setattr(review, "STREAM_FOR_S", 1.5)
    seen: list[Event] = []
    async with httpx.AsyncClient(base_url=console, timeout=10) as client:
        assert (await sign_in(client, "carol")).status_code == 303
        started = time.monotonic()
        async with client.stream("GET", "/ui/review/events", headers=STREAM) as response:
            async with asyncio.timeout(BOUND_S):
                seen = [e async for e in _events(response)]  # to the end of the stream
    took = time.monotonic() - started
    assert 1.4 < took < BOUND_S, took  # ends by itself, so a shutdown never waits long
    assert seen[0].event == "queue"
    assert sum(1 for e in seen if e.comment) >= 3  # heartbeats while nothing changed
    assert feed_for(runtime.db).subscribers == 0


async def test_rows_give_a_live_page_the_arrivals_and_the_replies_decided_elsewhere(
    runtime: Runtime, console: str
) -> None:
    shown = await _held(runtime, "t-shown")
    decided = await _held(runtime, "t-decided")
    async with runtime.db.pool.acquire() as conn:
        carol = await users.user_by_name(conn, "carol")
    assert carol is not None
    await runtime.reviewer.reject(decided.id, user=carol, note="no")
    arrived = await _held(runtime, "t-arrived")
    async with httpx.AsyncClient(base_url=console, timeout=10) as client:
        assert (await sign_in(client, "carol")).status_code == 303
        ids = f"{shown.id},{decided.id},999999"  # 999999: erased meanwhile, skipped
        answer = await client.get(f"/ui/review/rows?after={decided.id}&ids={ids}")
        assert answer.status_code == 200, answer.text
        articles = re.findall(r'<article class="review-item" id="proposal-(\d+)"', answer.text)
        assert articles == [str(decided.id), str(arrived.id)]  # not the one still waiting
        assert 'data-status="rejected"' in answer.text

        too_many = ",".join(str(i) for i in range(1, review.MAX_SHOWN + 2))
        refused = await client.get(f"/ui/review/rows?ids={too_many}")
        assert refused.status_code == 400
        assert "at most" in refused.text
