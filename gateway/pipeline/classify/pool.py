"""Classification across cores: a large batch split between worker processes.

Classification is pure Python CPU work (about 100 µs a short mention), so one process
classifies on one core whatever its threads do. ``ClassifyPool.classify_many`` splits a
batch of at least ``min_batch`` mentions into one contiguous part per worker process,
classifies the parts at once and joins the results in input order; a smaller batch, or
``processes=0``, is classified in a worker thread of this process. Either way the event
loop is never blocked, and the results are the same ``Classification`` values
``Classifier.classify_many`` gives (the classifier is deterministic; items and results
cross the process boundary as msgpack, floats exactly).

The worker processes are started on the first large batch and live until ``close()``.
They are forked from multiprocessing's fork server (a fresh single-threaded interpreter,
so nothing of the serving process's threads, sockets or pools is inherited), which has
imported the classifier and loaded lingua's language models once (``preload.py``): the
workers share those pages instead of loading about 270 MB each. A worker exits within a
second of the serving process's death, however it died, and the fork server with it. A
worker that dies (killed, out of memory) fails only the batch in flight, which is then
classified in this process; the next large batch starts a fresh pool.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import msgspec
import structlog

from gateway.domain.classification import Classification
from gateway.pipeline.classify.classifier import Classifier, ClassifyItem

log = structlog.get_logger(__name__)

MIN_BATCH = 64
"""Batches smaller than this are classified in a thread: the hand-off would cost more than
the second core saves."""

MAX_AUTO_PROCESSES = 4

_ITEMS = msgspec.msgpack.Decoder(list[ClassifyItem])
_RESULTS = msgspec.msgpack.Decoder(list[Classification])
_ENCODER = msgspec.msgpack.Encoder()
_worker_classifier: Classifier | None = None

_PRELOAD = "gateway.pipeline.classify.preload"


def auto_processes() -> int:
    """Worker processes when not configured: one per core (at most 4), none on one core."""
    cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(cores, MAX_AUTO_PROCESSES)


def _start_worker(brand_handles: tuple[str, ...], server_pid: int) -> None:
    global _worker_classifier
    _worker_classifier = Classifier(brand_handles)
    threading.Thread(target=_exit_with, args=(server_pid,), daemon=True).start()
    # What exists now (modules, lexicons, models) lives as long as the worker: the
    # collector need not walk it again after every batch's garbage.
    gc.freeze()


def _exit_with(server_pid: int) -> None:
    """A worker holds both ends of its task queue, so it never sees the serving process die
    (SIGKILL, out of memory), and the fork server lives as long as its workers: without
    this, both would outlive the server for good."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # the pid was reused by another user's process
            os._exit(0)


def _classify_part(payload: bytes) -> bytes:
    """In a worker process: msgpack items in, msgpack classifications out."""
    assert _worker_classifier is not None, "the worker's initializer did not run"
    return _ENCODER.encode(_worker_classifier.classify_many(_ITEMS.decode(payload)))


class ClassifyPool:
    """Classifies batches with ``classifier`` in a thread, or in ``processes`` worker
    processes (each with a classifier for the same brand handles) for batches of
    ``min_batch`` or more. ``processes=None`` picks ``auto_processes()``."""

    def __init__(
        self,
        classifier: Classifier,
        *,
        processes: int | None = None,
        min_batch: int = MIN_BATCH,
    ) -> None:
        self._classifier = classifier
        self._handles = classifier.brand_handles
        self.processes = auto_processes() if processes is None else processes
        self._min_batch = max(2, min_batch)
        self._executor: ProcessPoolExecutor | None = None

    async def classify_many(self, items: Sequence[ClassifyItem]) -> list[Classification]:
        """Each item's classification, in order; never on the event loop."""
        if self.processes < 2 or len(items) < self._min_batch:
            return await asyncio.to_thread(self._classifier.classify_many, items)
        executor = self._started()
        loop = asyncio.get_running_loop()
        size = -(-len(items) // self.processes)
        try:
            parts = [
                loop.run_in_executor(executor, _classify_part, _ENCODER.encode(items[i : i + size]))
                for i in range(0, len(items), size)
            ]
            answers = await asyncio.gather(*parts)
        except BrokenProcessPool:
            log.warning("classify_workers_failed", processes=self.processes, batch=len(items))
            self._discard()
            return await asyncio.to_thread(self._classifier.classify_many, items)
        results: list[Classification] = []
        # Decoding builds a few thousand objects at once; the cyclic collector would walk
        # the serving process's whole heap several times meanwhile (3-4 x the decode).
        collecting = gc.isenabled()
        gc.disable()
        try:
            for answer in answers:
                results += _RESULTS.decode(answer)
        finally:
            if collecting:
                gc.enable()
        return results

    def _started(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([_PRELOAD])
            self._executor = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self._handles, os.getpid()),
            )
            log.info("classify_workers_started", processes=self.processes)
        return self._executor

    def _discard(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def close(self) -> None:
        """Stop the worker processes (waits for a batch in flight)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
