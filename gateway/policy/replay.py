"""Replaying stored policy inputs through bundles, in bulk (impact analysis, audit replay).

One call evaluates a batch of inputs (JSON text, as stored) through one or more bundles
on the calling thread: the regorus engines are built, used and dropped on that thread
(see ``_regorus``). Callers run it in a worker thread, batch by batch. An input whose
evaluation fails gives ``Replayed(outcome="deny", codes=["policy_error"])``, as the live
engine would decide (fail closed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from gateway.domain.decisions import Outcome, Reason
from gateway.policy import _regorus
from gateway.policy.bundle import PolicyBundle


class Replayed(msgspec.Struct, frozen=True, kw_only=True):
    outcome: Outcome
    codes: list[str]
    error: str | None = None


class _Answer(msgspec.Struct, frozen=True, kw_only=True):
    outcome: Outcome
    reasons: list[Reason]


_decode = msgspec.json.Decoder(_Answer).decode


def replay_batch(bundles: Sequence[PolicyBundle], inputs: Sequence[str]) -> list[list[Replayed]]:
    """For each bundle, the result of every input (same order as ``inputs``)."""
    results: list[list[Replayed]] = []
    for bundle in bundles:
        engine = _regorus.compile_engine(bundle.policy_files, bundle.data)
        try:
            results.append([_evaluate(engine, text) for text in inputs])
        finally:
            del engine  # dropped on the thread that built it, even when raising
    return results


def replay_against(
    draft: PolicyBundle, active: PolicyBundle, inputs: Sequence[str], recheck: Sequence[bool]
) -> tuple[list[Replayed], list[Replayed | None]]:
    """Impact analysis of one batch: every input through ``draft``, and through ``active``
    only where ``recheck`` says so (elsewhere the recorded decision is the active one's:
    same input, same revision, same result). A top-level function, so it can run in a
    worker process."""
    [new] = replay_batch([draft], inputs)
    wanted = [text for text, again in zip(inputs, recheck, strict=True) if again]
    [old_subset] = replay_batch([active], wanted) if wanted else [[]]
    replayed = iter(old_subset)
    old: list[Replayed | None] = [next(replayed) if again else None for again in recheck]
    return new, old


def _evaluate(engine: Any, input_json: str) -> Replayed:
    try:
        engine.set_input_json(input_json)
        raw: str = engine.eval_rule_as_json(_regorus.ENTRYPOINT)
        if raw == _regorus.UNDEFINED_JSON:
            return _failed("data.engagement.decision is undefined for this input")
        answer = _decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return _failed(f"malformed decision: {exc}")
    except BaseException as exc:
        if not _regorus.is_engine_error(exc):
            raise
        return _failed(_regorus.describe(exc))
    return Replayed(outcome=answer.outcome, codes=sorted({r.code for r in answer.reasons}))


def _failed(detail: str) -> Replayed:
    return Replayed(outcome="deny", codes=["policy_error"], error=detail)
