"""Evaluating policies nobody has approved yet, away from the serving process.

regorus holds the GIL while it evaluates and a Rust allocation failure aborts the whole
process, so a draft's tests, an impact analysis, a shadow decision or an activation's
budget check run here: in a small pool of worker processes (``_sandbox_worker``), each
run with a wall-clock limit (the worker is killed and replaced when it is exceeded) and
a memory limit (``RLIMIT_AS`` in the worker). A run that exceeds either raises
:class:`PolicyTimeout` / :class:`PolicyMemory` and logs ``policy_run_failed``; the
serving process only waits on a pipe, so other requests are not delayed.

Workers start on first use (or :meth:`Sandbox.warm`) with a scrubbed environment (no
database URL, no secrets), at a lower CPU priority than the server.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import struct
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import structlog

from gateway.policy import _sandbox_jobs as jobs
from gateway.policy._sandbox_worker import READY
from gateway.policy.errors import (
    PolicyCrashed,
    PolicyLoadError,
    PolicyMemory,
    PolicyRunError,
    PolicyTimeout,
    SandboxBusy,
)

T = TypeVar("T")
R = TypeVar("R")
_log = structlog.get_logger(__name__)
_HEADER = struct.Struct(">I")
_ROOT = str(Path(__file__).resolve().parent.parent.parent)
_START_TIMEOUT_S = 30.0
# Waiting for a free worker may include starting one (a second or more on a busy machine).
_START_GRACE_S = 10.0
# Lower the priority before importing anything: start-up is most of a worker's CPU.
_BOOT = (
    "import os, sys\n"
    "try:\n    os.nice(19)\nexcept OSError:\n    pass\n"
    "from gateway.policy._sandbox_worker import serve\n"
    "serve(int(sys.argv[1]))\n"
)
_ENV_KEPT = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
_MEMORY_SIGNS = ("memory allocation of", "MemoryError", "Cannot allocate memory")


class SandboxLimits(msgspec.Struct, frozen=True, kw_only=True):
    """``workers`` processes; each run gets ``timeout_s`` of wall-clock time and may add
    ``memory_mb`` MiB of address space to what a started worker uses (0: no cap)."""

    workers: int = 2
    timeout_s: float = 10.0
    memory_mb: int = 1024


class _WorkerDied(Exception):
    pass


class _Worker:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stderr: collections.deque[str] = collections.deque(maxlen=20)
        assert proc.stderr is not None
        self._drain = asyncio.ensure_future(self._keep(proc.stderr))

    async def _keep(self, stream: asyncio.StreamReader) -> None:
        # Drained all the time, or a chatty worker would block on a full pipe.
        while line := await stream.readline():
            self.stderr.append(line.decode("utf-8", "replace").rstrip()[:300])

    async def send(self, frame: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(_HEADER.pack(len(frame)) + frame)
            await self.proc.stdin.drain()
        except (ConnectionError, BrokenPipeError) as exc:
            raise _WorkerDied from exc

    async def receive(self) -> bytes:
        assert self.proc.stdout is not None
        try:
            header = await self.proc.stdout.readexactly(_HEADER.size)
            return await self.proc.stdout.readexactly(_HEADER.unpack(header)[0])
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise _WorkerDied from exc

    async def kill(self) -> str:
        """Stop the process; what it last wrote to stderr."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(self._drain, 1.0)
        return "\n".join(self.stderr)


class Sandbox:
    """A pool of worker processes running :mod:`_sandbox_jobs` under limits."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits()
        if self.limits.workers < 1 or self.limits.timeout_s <= 0 or self.limits.memory_mb < 0:
            raise ValueError("a sandbox needs at least one worker and a positive timeout")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._live = 0  # starting, idle or busy
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def warm(self) -> None:
        """Start the workers now rather than on the first run."""
        while not self._closed and self._live < self.limits.workers:
            self._live += 1
            self._background(self._start())

    def busy(self) -> bool:
        """True when a run would have to wait for a worker."""
        return self._idle.empty()

    async def run(
        self,
        job: jobs.Job,
        result_type: type[T],
        *,
        timeout_s: float | None = None,
        wait: bool = True,
        revision: str | None = None,
    ) -> T:
        """Run ``job`` in a worker and decode its result as ``result_type``.

        ``timeout_s`` (default: the limit) bounds the run itself; waiting for a free
        worker is bounded by the limit plus the time to start one. With ``wait=False``
        a run that would have to wait is refused at once (:class:`SandboxBusy`).
        Cancelling the caller does not cut the run short: it finishes (or is killed at
        its limit) in the background.
        Raises :class:`PolicyLoadError` for a bundle the engine refuses and
        :class:`PolicyRunError` subclasses for a run that did not finish.
        """
        if self._closed:
            raise SandboxBusy("the policy sandbox is shut down")
        self.warm()
        limit = timeout_s or self.limits.timeout_s
        kind = type(job).__name__.removesuffix("Job").lower()
        worker = await self._acquire(wait, kind)
        task = self._background(self._execute(worker, jobs.encode(job), limit, kind, revision))
        reply = await asyncio.shield(task)
        if reply.status == "load_error":
            failure = msgspec.json.decode(reply.value, type=jobs.LoadFailure)
            raise PolicyLoadError(
                failure.detail, file=failure.file, line=failure.line, column=failure.column
            )
        if reply.status != "ok":
            raise PolicyCrashed(f"the policy engine failed: {reply.detail}")
        return msgspec.json.decode(reply.value, type=result_type)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        while not self._idle.empty():
            await self._idle.get_nowait().kill()

    # ---- internals ----------------------------------------------------------------

    def _background(self, coro: Coroutine[Any, Any, R]) -> asyncio.Task[R]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _acquire(self, wait: bool, kind: str) -> _Worker:
        if not wait:
            try:
                return self._idle.get_nowait()
            except asyncio.QueueEmpty:
                raise SandboxBusy("every policy sandbox worker is busy") from None
        # A busy worker is free again within one time limit (it is killed at the limit),
        # plus the start of its replacement.
        wait_s = self.limits.timeout_s + _START_GRACE_S
        try:
            return await asyncio.wait_for(self._idle.get(), wait_s)
        except TimeoutError:
            _log.warning("policy_run_failed", code=SandboxBusy.code, job=kind)
            raise SandboxBusy(
                f"no policy sandbox worker was free within {wait_s:g} s; try again shortly"
            ) from None

    async def _start(self) -> None:
        worker: _Worker | None = None
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _BOOT,
                str(self.limits.memory_mb),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=_worker_env(),
                cwd=_ROOT,
            )
            worker = _Worker(proc)
            ready = await asyncio.wait_for(worker.receive(), _START_TIMEOUT_S)
            if ready != READY:
                raise _WorkerDied(f"unexpected first frame {ready[:40]!r}")
        except (OSError, TimeoutError, _WorkerDied) as exc:
            self._live -= 1
            tail = await worker.kill() if worker is not None else ""
            _log.error("sandbox_worker_failed_to_start", error=repr(exc), stderr=tail[-500:])
            return
        except BaseException:
            self._live -= 1
            if worker is not None:
                await worker.kill()
            raise
        if self._closed:
            self._live -= 1
            await worker.kill()
            return
        self._idle.put_nowait(worker)

    async def _execute(
        self, worker: _Worker, frame: bytes, limit: float, kind: str, revision: str | None
    ) -> jobs.Reply:
        started = time.perf_counter()
        try:
            await worker.send(frame)
            reply = jobs.decode_reply(await asyncio.wait_for(worker.receive(), limit))
        except TimeoutError:
            await self._replace(worker)
            raise self._failed(
                PolicyTimeout(
                    f"the policy run ({kind}) did not finish within {limit:g} s and was "
                    "stopped; look for unbounded iteration (numbers.range, nested "
                    "comprehensions) over large collections"
                ),
                kind,
                revision,
                started,
                limit,
            ) from None
        except _WorkerDied:
            tail = await self._replace(worker)
            if any(sign in tail for sign in _MEMORY_SIGNS):
                error: PolicyRunError = self._memory_error(kind)
            else:
                error = PolicyCrashed(
                    f"the policy run ({kind}) ended the worker process "
                    f"(exit {worker.proc.returncode})"
                )
            raise self._failed(error, kind, revision, started, limit) from None
        except BaseException:
            await self._replace(worker)  # cancelled half-way: the pipe is out of step
            raise
        if reply.status == "memory":
            await self._replace(worker)
            raise self._failed(self._memory_error(kind), kind, revision, started, limit)
        self._idle.put_nowait(worker)
        return reply

    def _memory_error(self, kind: str) -> PolicyMemory:
        return PolicyMemory(
            f"the policy run ({kind}) needed more than its {self.limits.memory_mb} MiB "
            "memory limit and was stopped; look for huge collections (numbers.range, "
            "array.concat in a loop)"
        )

    async def _replace(self, worker: _Worker) -> str:
        tail = await worker.kill()
        self._live -= 1
        if not self._closed:
            self.warm()
        return tail

    def _failed(
        self,
        error: PolicyRunError,
        kind: str,
        revision: str | None,
        started: float,
        limit: float,
    ) -> PolicyRunError:
        _log.warning(
            "policy_run_failed",
            code=error.code,
            job=kind,
            policy_revision=revision,
            timeout_s=limit,
            memory_mb=self.limits.memory_mb,
            duration_ms=round((time.perf_counter() - started) * 1000),
        )
        return error


def _worker_env() -> dict[str, str]:
    """Only what Python needs: no DATABASE_URL, no GATEWAY_* secret reaches a worker."""
    env = {name: os.environ[name] for name in _ENV_KEPT if name in os.environ}
    env["PYTHONPATH"] = _ROOT
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
