"""Classification across worker processes gives what one process gives, in order, and
survives a worker that dies."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from gateway.pipeline.classify import Classifier, ClassifyItem, ClassifyPool

DATA = Path(__file__).resolve().parents[2] / "data" / "intent_eval.jsonl"
CLASSIFIER = Classifier(["@acme", "acme@social.example"])


def _items() -> list[ClassifyItem]:
    rows = [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line]
    items = [ClassifyItem(text=r["text"], context_intent=r.get("context_intent")) for r in rows]
    items += [
        ClassifyItem(text=r["text"], in_reply_to_handle="@acme", is_direct=True) for r in rows[:50]
    ]
    return items


async def test_worker_processes_classify_a_batch_exactly_as_one_process_does() -> None:
    items = _items()
    pool = ClassifyPool(CLASSIFIER, processes=2)
    try:
        assert await pool.classify_many(items) == CLASSIFIER.classify_many(items)
    finally:
        pool.close()


async def test_a_small_batch_stays_in_this_process() -> None:
    pool = ClassifyPool(CLASSIFIER, processes=2)
    items = _items()[:10]
    assert await pool.classify_many(items) == CLASSIFIER.classify_many(items)
    assert pool._executor is None  # no worker process was started
    pool.close()


async def test_a_dead_worker_costs_no_result_and_the_next_batch_gets_fresh_workers() -> None:
    items = _items()
    expected = CLASSIFIER.classify_many(items)
    pool = ClassifyPool(CLASSIFIER, processes=2)
    try:
        assert await pool.classify_many(items) == expected
        executor = pool._executor
        assert executor is not None
        for pid in list(executor._processes):  # type: ignore[attr-defined]
            os.kill(pid, signal.SIGKILL)
        assert await pool.classify_many(items) == expected  # classified in this process
        assert await pool.classify_many(items) == expected  # a new pool
        assert pool._executor is not None and pool._executor is not executor
    finally:
        pool.close()
