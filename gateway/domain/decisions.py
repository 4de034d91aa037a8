"""What a policy answers: outcome and reasons. Deny beats review beats allow."""

from __future__ import annotations

from typing import Literal

import msgspec

Outcome = Literal["allow", "review", "deny"]

SEVERITY: dict[str, int] = {"allow": 0, "review": 1, "deny": 2}


class Reason(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    message: str
    rule: str = ""


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    outcome: Outcome
    reasons: list[Reason]
    policy_revision: str = ""
    engine: str = ""
    error: str | None = None  # set when the engine failed and we denied (fail closed)
    decision_id: str | None = None  # the engine's own id for this decision (OPA decision logs)


def policy_error(revision: str, engine: str, detail: str) -> Decision:
    """The decision taken when the engine fails, times out or answers nonsense: deny."""
    return Decision(
        outcome="deny",
        reasons=[
            Reason(
                code="policy_error",
                message="The policy engine could not decide, so the reply is refused "
                "(fail closed). Ask a compliance officer to check the active policy.",
                rule="gateway.fail_closed",
            )
        ],
        policy_revision=revision,
        engine=engine,
        error=detail,
    )
