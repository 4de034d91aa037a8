"""What a sandbox worker can be asked to do, and what it answers (both sides import this).

Every job carries the whole bundle it evaluates: workers are replaced after any failure,
so they hold no state the parent would have to track. Frames on the pipe are
JSON (not MessagePack: policy data may hold integers beyond 64 bits); a job is a tagged
Struct, a reply says how the run ended and carries the result as raw JSON, decoded by
the parent into the type the job promises.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import msgspec

from gateway.policy import _regorus
from gateway.policy.bundle import PolicyBundle
from gateway.policy.embedded import _validate as validate_bundle
from gateway.policy.errors import PolicyLoadError
from gateway.policy.replay import Replayed, replay_against
from gateway.policy.testing import TestReport, run_policy_tests


class CheckJob(msgspec.Struct, frozen=True, kw_only=True, tag="check"):
    """Compile the policies and check their builtins (what loading an engine does)."""

    bundle: PolicyBundle


class TestJob(msgspec.Struct, frozen=True, kw_only=True, tag="test"):
    """Run the bundle's Rego unit tests. Answers a :class:`TestReport`."""

    __test__ = False  # not a pytest test class despite the name

    bundle: PolicyBundle
    coverage: bool


class ReplayJob(msgspec.Struct, frozen=True, kw_only=True, tag="replay"):
    """One impact-analysis batch (see ``replay.replay_against``). Answers a ReplayResult."""

    draft: PolicyBundle
    active: PolicyBundle
    inputs: list[str]
    recheck: list[bool]


class DecideJob(msgspec.Struct, frozen=True, kw_only=True, tag="decide"):
    """``data.engagement.decision`` for one input (a shadow decision). Answers a DecideResult."""

    bundle: PolicyBundle
    input_json: str


class ProbeJob(msgspec.Struct, frozen=True, kw_only=True, tag="probe"):
    """Time the decision of each input, as the live engine evaluates it. Answers a
    ProbeResult."""

    bundle: PolicyBundle
    inputs: list[str]


Job = CheckJob | TestJob | ReplayJob | DecideJob | ProbeJob


class ReplayResult(msgspec.Struct, frozen=True, kw_only=True):
    new: list[Replayed]
    old: list[Replayed | None]


class DecideResult(msgspec.Struct, frozen=True, kw_only=True):
    raw: str | None = None  # the JSON of the decision, as the embedded engine reads it
    error: str | None = None  # the engine failed on this input


class ProbeResult(msgspec.Struct, frozen=True, kw_only=True):
    durations_us: list[int]  # one per input, same order
    errors: int  # inputs whose evaluation failed (a live decision would be policy_error)


class LoadFailure(msgspec.Struct, frozen=True, kw_only=True):
    detail: str
    file: str | None = None
    line: int | None = None
    column: int | None = None


Status = Literal["ok", "load_error", "memory", "error"]


class Reply(msgspec.Struct, frozen=True, kw_only=True):
    status: Status
    detail: str = ""
    value: msgspec.Raw = msgspec.Raw(b"null")


encode = msgspec.json.Encoder().encode
decode_job = msgspec.json.Decoder(Job).decode
decode_reply = msgspec.json.Decoder(Reply).decode


def handle(frame: bytes) -> bytes:
    """Run one job (in the worker); every outcome is a Reply, never an exception."""
    try:
        job = decode_job(frame)
        return encode(Reply(status="ok", value=msgspec.Raw(encode(_run(job)))))
    except PolicyLoadError as exc:
        failure = LoadFailure(detail=exc.detail, file=exc.file, line=exc.line, column=exc.column)
        return encode(Reply(status="load_error", value=msgspec.Raw(encode(failure))))
    except MemoryError:
        return encode(Reply(status="memory", detail="the run ran out of memory"))
    except BaseException as exc:
        if not _regorus.is_engine_error(exc):
            raise
        return encode(Reply(status="error", detail=_regorus.describe(exc)))


def _run(job: Job) -> Any:
    if isinstance(job, CheckJob):
        validate_bundle(job.bundle)
        return None
    if isinstance(job, TestJob):
        report: TestReport = run_policy_tests(job.bundle, coverage=job.coverage)
        return report
    if isinstance(job, ReplayJob):
        new, old = replay_against(job.draft, job.active, job.inputs, job.recheck)
        return ReplayResult(new=new, old=old)
    if isinstance(job, DecideJob):
        return _decide(job)
    return _probe(job)


# Compiled engines of the revisions this worker decided for lately (shadow decisions
# come one by one, and compiling costs more than deciding). The worker has one thread.
_engines: dict[str, Any] = {}
_KEEP_ENGINES = 2


def _decide(job: DecideJob) -> DecideResult:
    revision = job.bundle.revision
    engine = _engines.pop(revision, None)
    if engine is None:
        engine = _regorus.compile_engine(job.bundle.policy_files, job.bundle.data)
    try:
        engine.set_input_json(job.input_json)
        raw: str = engine.eval_rule_as_json(_regorus.ENTRYPOINT)
        engine.take_prints()
    except BaseException as exc:
        if not _regorus.is_engine_error(exc):
            raise
        return DecideResult(error=_regorus.describe(exc))  # the engine is not kept
    _engines[revision] = engine
    while len(_engines) > _KEEP_ENGINES:
        _engines.pop(next(iter(_engines)))
    return DecideResult(raw=raw)


def _probe(job: ProbeJob) -> ProbeResult:
    engine = _regorus.compile_engine(job.bundle.policy_files, job.bundle.data)
    durations: list[int] = []
    errors = 0
    try:
        for text in job.inputs:
            started = time.perf_counter_ns()
            try:
                engine.set_input_json(text)
                raw = engine.eval_rule_as_json(_regorus.ENTRYPOINT)
                if raw == _regorus.UNDEFINED_JSON:
                    errors += 1
            except BaseException as exc:
                if not _regorus.is_engine_error(exc):
                    raise
                errors += 1
                engine = _regorus.compile_engine(job.bundle.policy_files, job.bundle.data)
            durations.append((time.perf_counter_ns() - started) // 1000)
    finally:
        del engine
    return ProbeResult(durations_us=durations, errors=errors)
