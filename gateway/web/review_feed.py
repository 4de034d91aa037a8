"""The review queue's live state (how many replies wait, the newest one's id), read once per
process and shared by every open event stream (``GET /ui/review/events``).

Replies enter the queue in the decide path and leave it through the ``Reviewer`` (or the
approval re-check); neither sends a NOTIFY the console could use (``outbox_queued`` fires
on approval only, not on arrival or rejection), so one task per process polls the queue
every ``every_s`` while at least one stream is open and stops when the last one closes:
two small queries per tick, whatever the number of open pages. Each subscriber waits on
an event set when the state changes, never on a timer of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator

import msgspec
import structlog

from gateway.pipeline.review_queue import ReviewQueue
from gateway.store.database import Database

log = structlog.get_logger(__name__)

POLL_EVERY_S = 1.0


class QueueState(msgspec.Struct, frozen=True, kw_only=True):
    """What the badge and the queue page show live."""

    waiting: int  # replies waiting for review
    newest: int  # the newest waiting reply's id (0: none)


class Subscription:
    """One open stream's view of the feed: ``await next(within)`` gives the state when it
    differs from the last one this subscription saw, or None when ``within`` seconds passed."""

    def __init__(self, feed: ReviewFeed) -> None:
        self._feed = feed
        self._seen: QueueState | None = None

    async def next(self, within: float) -> QueueState | None:
        feed = self._feed
        loop = asyncio.get_running_loop()
        until = loop.time() + within
        while feed.state is None or feed.state == self._seen:
            left = until - loop.time()
            if left <= 0:
                return None
            changed = feed.changed
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await changed.wait()
        self._seen = feed.state
        return feed.state


class ReviewFeed:
    """The shared poll of one process's review queue (see the module doc)."""

    def __init__(self, queue: ReviewQueue, *, every_s: float = POLL_EVERY_S) -> None:
        self._queue = queue
        self._every_s = every_s
        self._subscribers = 0
        self._task: asyncio.Task[None] | None = None
        self.state: QueueState | None = None
        self.changed = asyncio.Event()  # replaced by a fresh one after each change

    @property
    def subscribers(self) -> int:
        return self._subscribers

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        """A subscription for as long as the ``async with`` lasts (a stream's lifetime)."""
        self._subscribers += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="review-feed")
        try:
            yield Subscription(self)
        finally:
            self._subscribers -= 1
            if self._subscribers == 0 and self._task is not None:
                self._task.cancel()
                self._task = None
                self.state = None  # stale once nobody polls: the next stream reads afresh

    async def _poll(self) -> None:
        failing = False
        while True:
            try:
                state = QueueState(
                    waiting=await self._queue.waiting(), newest=await self._queue.newest_id()
                )
            except Exception as exc:  # database away or pool closing: keep the last state
                if not failing:
                    log.warning("review_feed_read_failed", error=str(exc))
                failing = True
            else:
                failing = False
                if state != self.state:
                    self.state = state
                    changed, self.changed = self.changed, asyncio.Event()
                    changed.set()
            await asyncio.sleep(self._every_s)


_FEEDS: weakref.WeakKeyDictionary[Database, ReviewFeed] = weakref.WeakKeyDictionary()


def feed_for(db: Database) -> ReviewFeed:
    """This process's feed for ``db`` (one per database handle, made on first use)."""
    feed = _FEEDS.get(db)
    if feed is None:
        feed = _FEEDS[db] = ReviewFeed(ReviewQueue(db.pool))
    return feed
