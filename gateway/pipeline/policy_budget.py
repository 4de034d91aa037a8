"""The activation budget: a revision becomes active only if it decides fast enough.

The active policy runs in the serving process, where a slow evaluation cannot be
interrupted (regorus holds the GIL). So before a revision may become active it is
timed, in the sandbox, on the most recent stored inputs and on worst-case inputs
(``gateway.policy.probes``); it is refused (``policy_timeout``, 422) when

- the whole timing run exceeds the sandbox wall-clock limit (or ``policy_memory``),
- the p99 over the stored inputs exceeds ``p99_ms``, or
- any worst-case input takes longer than ``worst_ms``.
"""

from __future__ import annotations

import math

import msgspec
import structlog

from gateway.policy._sandbox_jobs import ProbeJob, ProbeResult
from gateway.policy.bundle import PolicyBundle
from gateway.policy.errors import PolicyRunError, PolicyTimeout
from gateway.policy.probes import pathological_inputs
from gateway.policy.sandbox import Sandbox
from gateway.store import policies as store
from gateway.store.connection import Conn

log = structlog.get_logger(__name__)
_encode = msgspec.json.Encoder().encode


class ActivationBudget(msgspec.Struct, frozen=True, kw_only=True):
    inputs: int = 500  # most recent stored inputs timed
    p99_ms: float = 50.0  # over the stored inputs
    worst_ms: float = 1000.0  # each worst-case input (half the default policy timeout)


class BudgetReport(msgspec.Struct, frozen=True, kw_only=True):
    stored: int
    p99_ms: float
    worst_case_ms: float


async def check_activation_budget(
    conn: Conn, sandbox: Sandbox, bundle: PolicyBundle, budget: ActivationBudget
) -> BudgetReport:
    """Time ``bundle`` in the sandbox; raise :class:`PolicyRunError` when over budget."""
    stored: list[str] = []
    if budget.inputs > 0:
        async for batch in store.recent_inputs(conn, limit=budget.inputs, since=None, until=None):
            stored.extend(row[1] for row in batch)
    probes = [_encode(p).decode("utf-8") for p in pathological_inputs()]
    policy_only = PolicyBundle(
        files=bundle.policy_files, data=bundle.data, revision=bundle.revision
    )
    try:
        result = await sandbox.run(
            ProbeJob(bundle=policy_only, inputs=probes + stored),
            ProbeResult,
            revision=bundle.revision,
        )
    except PolicyRunError as exc:
        raise type(exc)(
            f"activation refused: timing revision {bundle.revision[:19]}… on "
            f"{len(probes) + len(stored)} inputs failed: {exc}"
        ) from None
    worst = max(result.durations_us[: len(probes)], default=0) / 1000
    p99 = _p99(result.durations_us[len(probes) :]) / 1000
    report = BudgetReport(stored=len(stored), p99_ms=round(p99, 3), worst_case_ms=round(worst, 3))
    log.info(
        "policy_budget_checked", policy_revision=bundle.revision, **msgspec.to_builtins(report)
    )
    if p99 > budget.p99_ms or worst > budget.worst_ms:
        log.warning(
            "policy_run_failed",
            code=PolicyTimeout.code,
            job="budget",
            policy_revision=bundle.revision,
        )
        raise PolicyTimeout(
            f"activation refused: revision {bundle.revision[:19]}… decides too slowly to "
            f"run live (p99 {p99:.1f} ms over {len(stored)} stored inputs, budget "
            f"{budget.p99_ms:g} ms; slowest worst-case input {worst:.1f} ms, budget "
            f"{budget.worst_ms:g} ms). A live decision cannot be interrupted, so a slow "
            "policy would delay every request; make the rules cheaper and draft again"
        )
    return report


def _p99(durations_us: list[int]) -> float:
    if not durations_us:
        return 0.0
    ordered = sorted(durations_us)
    return float(ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)])
