"""The embedded engine: Rego evaluated in-process by regorus, one engine per thread.

At construction the bundle's policies (not its tests) and data are compiled once to
refuse, with file and line, a bundle that does not parse, has no
``data.engagement.decision``, or calls a builtin that is non-deterministic or that
regorus lacks. Deciding runs in a small thread pool; each worker thread compiles its
own engine on first use, because a regorus engine cannot be used, cloned or even
dropped on another thread than its creator's (see ``_regorus``).

Fail closed: every failure (exception, Rust panic, timeout, undefined or malformed
answer, closed engine) is answered with ``policy_error``, a deny, never an exception.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Protocol

import msgspec
import structlog

from gateway.domain.decisions import Decision, Outcome, Reason, policy_error
from gateway.domain.policy_input import PolicyInput
from gateway.policy import _ast, _builtins, _regorus
from gateway.policy.bundle import PolicyBundle
from gateway.policy.errors import PolicyLoadError

ENGINE_NAME = "embedded"

_log = structlog.get_logger(__name__)
_encode_input = msgspec.json.Encoder().encode
# Worker threads belong to one EmbeddedEngine's pool, so one slot per thread suffices.
# Module level on purpose: a per-instance threading.local would drop each thread's
# regorus engine on whichever thread collects the instance; this one is cleared only
# when the worker thread itself exits, on that thread.
_thread_state = threading.local()


class Evaluator(Protocol):
    """What a worker thread needs: the JSON of ``data.engagement.decision`` for an input."""

    def evaluate(self, input_json: str) -> str: ...


class _Answer(msgspec.Struct, frozen=True, kw_only=True):
    # The policy contract. Unknown keys are ignored: they cannot change the outcome,
    # and the gateway's own fields (revision, engine, error) are never taken from here.
    outcome: Outcome
    reasons: list[Reason]


class _Failed(msgspec.Struct, frozen=True):
    detail: str


_decode_answer = msgspec.json.Decoder(_Answer).decode


class _RegorusEvaluator:
    """A regorus engine for one thread, built from the bundle on that thread."""

    def __init__(self, bundle: PolicyBundle, *, drain_prints: bool) -> None:
        self._engine = _regorus.compile_engine(bundle.policy_files, bundle.data)
        self._drain_prints = drain_prints

    def evaluate(self, input_json: str) -> str:
        self._engine.set_input_json(input_json)
        result: str = self._engine.eval_rule_as_json(_regorus.ENTRYPOINT)
        if self._drain_prints:
            # Gathered prints are dropped: they may quote input, and would pile up.
            self._engine.take_prints()
        return result


class EmbeddedEngine:
    """:class:`~gateway.policy.engine.PolicyEngine` backed by regorus, in-process.

    ``timeout_s`` bounds one decision, queueing included; ``threads`` is the pool size.
    regorus holds the GIL while evaluating, so threads add isolation, not parallelism,
    and a slow evaluation cannot be interrupted: it is allowed to finish, then denied.
    ``evaluator_factory`` is for tests only: it replaces the per-thread regorus engine.
    Raises :class:`PolicyLoadError` when the bundle is refused.
    """

    name: str = ENGINE_NAME

    def __init__(
        self,
        bundle: PolicyBundle,
        *,
        timeout_s: float = 2.0,
        threads: int = 2,
        evaluator_factory: Callable[[], Evaluator] | None = None,
    ) -> None:
        if timeout_s <= 0 or threads < 1:
            raise ValueError("timeout_s must be positive and threads at least 1")
        modules = _validate(bundle)
        drain_prints = bool(_builtins.called_names(modules) & _builtins.PRINTING)
        self.revision: str = bundle.revision
        self._timeout_s = timeout_s
        self._factory: Callable[[], Evaluator] = evaluator_factory or partial(
            _RegorusEvaluator, bundle, drain_prints=drain_prints
        )
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="policy")
        self._closed = False

    async def decide(self, policy_input: PolicyInput) -> Decision:
        """The bundle's decision for ``policy_input``; a ``policy_error`` deny on any failure."""
        started = time.perf_counter()
        if self._closed:
            return self._failed("the engine is closed", started)
        input_json = _encode_input(policy_input).decode("utf-8")
        loop = asyncio.get_running_loop()
        try:
            answer = await asyncio.wait_for(
                loop.run_in_executor(self._executor, self._evaluate, input_json),
                self._timeout_s,
            )
        except TimeoutError:
            return self._failed(f"no decision within {self._timeout_s:g} s", started)
        except Exception as exc:  # the pool refused the work (shut down): fail closed
            return self._failed(f"could not run the policy: {exc!r}", started)
        if isinstance(answer, _Failed):
            return self._failed(answer.detail, started)
        # Deny beats review beats allow is the policy's job; its outcome field is
        # authoritative even if a reason looks more severe.
        decision = Decision(
            outcome=answer.outcome,
            reasons=answer.reasons,
            policy_revision=self.revision,
            engine=ENGINE_NAME,
        )
        _log.debug(
            "policy_decided",
            engine=ENGINE_NAME,
            policy_revision=self.revision,
            outcome=decision.outcome,
            reasons=[reason.code for reason in decision.reasons],
            duration_us=_elapsed_us(started),
        )
        return decision

    async def close(self) -> None:
        """Stop the pool; evaluations under way finish, queued ones are dropped."""
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _evaluate(self, input_json: str) -> _Answer | _Failed:
        """Run in a worker thread. Returns failures as values and never raises,
        not even a Rust panic (a BaseException), so the worker thread survives."""
        try:
            evaluator: Evaluator | None = getattr(_thread_state, "evaluator", None)
            if evaluator is None:
                evaluator = self._factory()
                _thread_state.evaluator = evaluator
            started = time.perf_counter()
            raw = evaluator.evaluate(input_json)
            elapsed = time.perf_counter() - started
        except BaseException as exc:
            # A panicked engine may be left inconsistent: the next call builds a new one.
            _thread_state.evaluator = None
            if isinstance(exc, PolicyLoadError):
                return _Failed(f"could not load the policy in a worker thread: {exc}")
            return _Failed(_regorus.describe(exc))
        # Checked here as well as by wait_for: evaluation holds the GIL, so the event
        # loop cannot time out a slow evaluation while it runs and would accept its result.
        if elapsed > self._timeout_s:
            return _Failed(f"evaluation took {elapsed:.3f} s, over the {self._timeout_s:g} s limit")
        return _interpret(raw)

    def _failed(self, detail: str, started: float) -> Decision:
        _log.warning(
            "policy_failed",
            engine=ENGINE_NAME,
            policy_revision=self.revision,
            error=detail,
            duration_us=_elapsed_us(started),
        )
        return policy_error(self.revision, ENGINE_NAME, detail)


def _validate(bundle: PolicyBundle) -> list[_ast.Module]:
    """Compile the policies on this thread, check them, and drop the engine here."""
    engine = _regorus.compile_engine(bundle.policy_files, bundle.data)
    try:
        modules = _ast.read_modules(engine.get_ast_as_json())
    finally:
        del engine  # even when raising: a traceback must not carry it to another thread
    if not any(_defines_decision(module) for module in modules):
        raise PolicyLoadError(
            "no rule `decision` in package `engagement`: the gateway evaluates "
            "data.engagement.decision"
        )
    _builtins.check_calls(modules)
    return modules


def _defines_decision(module: _ast.Module) -> bool:
    return module.package == "engagement" and any(
        rule.name == "decision" and rule.is_plain for rule in module.rules
    )


def _interpret(raw: str) -> _Answer | _Failed:
    if raw == _regorus.UNDEFINED_JSON:
        return _Failed("data.engagement.decision is undefined for this input")
    try:
        return _decode_answer(raw)
    except msgspec.ValidationError as exc:
        return _Failed(f"malformed decision: {exc}")
    except msgspec.DecodeError as exc:
        return _Failed(f"unreadable decision: {exc}")


def _elapsed_us(started: float) -> int:
    return round((time.perf_counter() - started) * 1e6)
