"""The one interface every policy engine offers the gateway."""

from __future__ import annotations

from typing import Protocol

from gateway.domain.decisions import Decision
from gateway.domain.policy_input import PolicyInput


class PolicyEngine(Protocol):
    """Evaluates ``data.engagement.decision`` of one bundle for one input.

    ``name`` identifies the engine kind (``"embedded"``, ``"opa"``) and ``revision``
    the bundle it enforces; both are recorded in every decision.
    """

    @property
    def name(self) -> str: ...

    @property
    def revision(self) -> str: ...

    async def decide(self, policy_input: PolicyInput) -> Decision:
        """The policy's decision, with ``policy_revision`` and ``engine`` set.

        Never raises for an engine failure: a failure, a timeout, an undefined or
        malformed answer is a deny (``policy_error``), fail closed. Cancellation of
        the caller still propagates.
        """
        ...

    async def close(self) -> None:
        """Release threads, sockets or processes; ``decide`` afterwards denies."""
        ...
