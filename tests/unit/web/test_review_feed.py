"""The review queue's shared poll: one read per tick for all open streams, each stream told
only of changes, the poll stopped when the last stream closes."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

from gateway.pipeline.review_queue import ReviewQueue
from gateway.web.review_feed import QueueState, ReviewFeed

TICK_S = 0.02


class FakeQueue:
    def __init__(self) -> None:
        self.count = 0
        self.newest = 0
        self.reads = 0

    async def waiting(self) -> int:
        self.reads += 1
        return self.count

    async def newest_id(self) -> int:
        return self.newest


def _feed(queue: FakeQueue) -> ReviewFeed:
    return ReviewFeed(cast(ReviewQueue, queue), every_s=TICK_S)


async def test_many_open_streams_share_one_read_per_tick() -> None:
    queue = FakeQueue()
    feed = _feed(queue)
    async with contextlib.AsyncExitStack() as stack:
        subs = [await stack.enter_async_context(feed.subscribe()) for _ in range(20)]
        assert feed.subscribers == 20
        for sub in subs:
            assert await sub.next(within=1) == QueueState(waiting=0, newest=0)
        queue.reads = 0
        await asyncio.sleep(TICK_S * 10)
        assert 5 <= queue.reads <= 15  # ~10 ticks: one read each, not one per stream
    await asyncio.sleep(TICK_S * 3)
    stopped = queue.reads
    await asyncio.sleep(TICK_S * 5)
    assert feed.subscribers == 0 and queue.reads == stopped  # nobody listens: no reads


async def test_a_stream_hears_of_changes_only() -> None:
    queue = FakeQueue()
    feed = _feed(queue)
    async with feed.subscribe() as sub:
        assert await sub.next(within=1) == QueueState(waiting=0, newest=0)
        assert await sub.next(within=TICK_S * 5) is None  # nothing changed: a heartbeat
        queue.count, queue.newest = 1, 42
        assert await sub.next(within=1) == QueueState(waiting=1, newest=42)
        queue.count = 0
        assert await sub.next(within=1) == QueueState(waiting=0, newest=42)


async def test_a_failing_read_keeps_the_last_state_and_the_poll_goes_on() -> None:
    queue = FakeQueue()
    feed = _feed(queue)
    broken = {"on": False}
    real = queue.waiting

    async def waiting() -> int:
        if broken["on"]:
            raise OSError("connection refused")
        return await real()

    cast(Any, queue).waiting = waiting
    async with feed.subscribe() as sub:
        assert await sub.next(within=1) == QueueState(waiting=0, newest=0)
        broken["on"] = True
        await asyncio.sleep(TICK_S * 3)
        assert feed.state == QueueState(waiting=0, newest=0)
        queue.count, queue.newest, broken["on"] = 2, 7, False
        assert await sub.next(within=1) == QueueState(waiting=2, newest=7)
