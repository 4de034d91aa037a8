"""Per-channel publish budgets for the release worker: a rate window and a concurrency cap.

A channel's publisher may declare a ``PublishBudget`` (Mastodon: 300 requests per 5
minutes; Bluesky: 1,666 posts per hour). ``reserve`` is asked before a reply is marked
``releasing``: it either takes a slot in the channel's window (0.0) or says how many
seconds until one frees up, and the reply waits in the outbox meanwhile (no attempt used,
nothing published). ``slot`` bounds the publishes in flight to one channel.

The budget is per process; the release worker runs once per deployment (a lease, see
docs/operations.md), so it is the deployment's budget.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping

from connectors.contract import PublishBudget, Publisher


def channel_budget(publisher: Publisher | None) -> PublishBudget:
    budget = getattr(publisher, "budget", None)
    return budget if isinstance(budget, PublishBudget) else PublishBudget()


class _Window:
    """At most ``requests`` reservations in any ``window_s`` seconds (a sliding log)."""

    def __init__(self, requests: int, window_s: float) -> None:
        self._requests = max(requests, 1)
        self._window = window_s
        self._times: deque[float] = deque()

    def reserve(self, now: float) -> float:
        while self._times and self._times[0] <= now - self._window:
            self._times.popleft()
        if len(self._times) < self._requests:
            self._times.append(now)
            return 0.0
        return self._times[0] + self._window - now


class PublishBudgets:
    """The budgets of every channel in ``publishers``; channels without one get
    ``default_concurrency`` and no rate window."""

    def __init__(
        self,
        publishers: Mapping[str, Publisher],
        *,
        default_concurrency: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}
        for channel, publisher in publishers.items():
            budget = channel_budget(publisher)
            if budget.requests is not None:
                self._windows[channel] = _Window(budget.requests, budget.window_s)
            self._slots[channel] = asyncio.Semaphore(
                max(budget.concurrency or default_concurrency, 1)
            )
        self._default = max(default_concurrency, 1)

    def reserve(self, channel: str) -> float:
        """0.0: a publish to ``channel`` may start now (its slot is taken); else the seconds
        to wait before asking again."""
        window = self._windows.get(channel)
        return 0.0 if window is None else window.reserve(self._clock())

    def slot(self, channel: str) -> asyncio.Semaphore:
        if channel not in self._slots:
            self._slots[channel] = asyncio.Semaphore(self._default)
        return self._slots[channel]
