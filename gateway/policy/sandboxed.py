"""A :class:`PolicyEngine` that decides in the sandbox: for the shadow policy.

A shadow revision has not been approved, yet it runs on every proposal; here each of
its decisions is a sandbox run (a worker process, the policy timeout as wall-clock
limit, the sandbox's memory limit). It never waits for a busy sandbox: the shadow
decision is then a ``policy_error`` saying so, which is recorded and never enforced.
"""

from __future__ import annotations

import msgspec
import structlog

from gateway.domain.decisions import Decision, policy_error
from gateway.domain.policy_input import PolicyInput
from gateway.policy._sandbox_jobs import DecideJob, DecideResult
from gateway.policy.bundle import PolicyBundle
from gateway.policy.embedded import ENGINE_NAME, _Failed, _interpret
from gateway.policy.errors import PolicyRunError
from gateway.policy.sandbox import Sandbox

_log = structlog.get_logger(__name__)
_encode_input = msgspec.json.Encoder().encode


class SandboxedEngine:
    name: str = ENGINE_NAME

    def __init__(self, bundle: PolicyBundle, sandbox: Sandbox, *, timeout_s: float) -> None:
        self.revision: str = bundle.revision
        # Only what deciding needs travels to the worker with each decision.
        self._bundle = PolicyBundle(
            files=bundle.policy_files, data=bundle.data, revision=bundle.revision
        )
        self._sandbox = sandbox
        self._timeout_s = timeout_s
        self._closed = False
        sandbox.warm()

    async def decide(self, policy_input: PolicyInput) -> Decision:
        if self._closed:
            return self._failed("the engine is closed")
        job = DecideJob(bundle=self._bundle, input_json=_encode_input(policy_input).decode())
        try:
            result = await self._sandbox.run(
                job, DecideResult, timeout_s=self._timeout_s, wait=False, revision=self.revision
            )
        except PolicyRunError as exc:
            return self._failed(f"{exc.code}: {exc}")
        if result.raw is None:
            return self._failed(result.error or "the engine gave no answer")
        answer = _interpret(result.raw)
        if isinstance(answer, _Failed):
            return self._failed(answer.detail)
        return Decision(
            outcome=answer.outcome,
            reasons=answer.reasons,
            policy_revision=self.revision,
            engine=ENGINE_NAME,
        )

    async def close(self) -> None:
        """The sandbox belongs to the policy service; nothing of its own to release."""
        self._closed = True

    def _failed(self, detail: str) -> Decision:
        _log.info("shadow_decision_failed", policy_revision=self.revision, error=detail)
        return policy_error(self.revision, ENGINE_NAME, detail)
