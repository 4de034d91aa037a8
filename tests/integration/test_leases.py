"""Deployment-wide leases (gateway/leases.py) on a real PostgreSQL: one holder runs the
job, the others wait; the holder's session ending hands the job over; a crashed job is
started again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg

from gateway.leases import run_with_lease
from gateway.store import leases

# Checks often, but gives a check a second to answer: on a loaded machine a round trip can
# take longer than 50 ms, and a holder would then give its lease up (fail-safe, but not
# what these tests are about; test_a_holder_whose_session_dies... covers losing it).
FAST = {"retry_s": 0.05, "check_s": 0.05, "check_timeout_s": 1.0}


class _Jobs:
    """Jobs that record which contender runs, and how many run at once."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.most_at_once = 0
        self.started: list[str] = []

    def job(self, who: str) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
        async def run(stop: asyncio.Event) -> None:
            self.running.add(who)
            self.started.append(who)
            self.most_at_once = max(self.most_at_once, len(self.running))
            try:
                await stop.wait()
            finally:
                self.running.discard(who)

        return run


async def _until(check: Callable[[], bool]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_one_holder_runs_the_job_and_the_other_takes_over_when_it_stops(
    database_url: str,
) -> None:
    jobs = _Jobs()
    stops = {"a": asyncio.Event(), "b": asyncio.Event()}
    tasks = {
        who: asyncio.create_task(
            run_with_lease(database_url, "t", jobs.job(who), stops[who], **FAST)
        )
        for who in ("a", "b")
    }
    try:
        await _until(lambda: len(jobs.running) == 1)
        await asyncio.sleep(0.3)  # many retries of the other contender meanwhile
        first = next(iter(jobs.running))
        assert jobs.started == [first]
        stops[first].set()  # the holder shuts down: its session ends, the lease is free
        second = "b" if first == "a" else "a"
        await _until(lambda: jobs.running == {second})
        assert jobs.most_at_once == 1
    finally:
        for stop in stops.values():
            stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks.values()), 10)


async def test_a_holder_whose_session_dies_stops_its_job_and_the_lease_moves(
    database_url: str,
) -> None:
    jobs = _Jobs()
    stop = asyncio.Event()
    holder = asyncio.create_task(run_with_lease(database_url, "t2", jobs.job("a"), stop, **FAST))
    await _until(lambda: jobs.running == {"a"})
    admin = await asyncpg.connect(database_url)
    try:
        pid = (await leases.holders(admin, ["t2"]))["t2"]
        other = asyncio.create_task(run_with_lease(database_url, "t2", jobs.job("b"), stop, **FAST))
        await asyncio.sleep(0.2)
        assert jobs.running == {"a"}
        await admin.execute("SELECT pg_terminate_backend($1)", pid)  # the holder's session dies
        await _until(lambda: jobs.started.count("b") == 1 and "a" not in jobs.running)
        holders = await leases.holders(admin, ["t2"])
        assert holders.get("t2") not in (None, pid)
    finally:
        stop.set()
        await admin.close()
        await asyncio.wait_for(asyncio.gather(holder, other), 10)


async def test_a_job_that_crashes_is_started_again(database_url: str) -> None:
    runs: list[int] = []
    stop = asyncio.Event()

    async def crashing(job_stop: asyncio.Event) -> None:
        runs.append(1)
        if len(runs) < 3:
            raise RuntimeError("boom")
        await job_stop.wait()

    task = asyncio.create_task(run_with_lease(database_url, "t3", crashing, stop, **FAST))
    try:
        await _until(lambda: len(runs) == 3)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
