"""A sandboxed policy run that did not finish answers problem+json naming why."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from gateway.http.problems import EXCEPTION_HANDLERS, PROBLEM
from gateway.policy.errors import (
    PolicyCrashed,
    PolicyMemory,
    PolicyRunError,
    PolicyTimeout,
    SandboxBusy,
)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (PolicyTimeout("did not finish within 1 s"), 422, "policy_timeout"),
        (PolicyMemory("needed more than its 256 MiB"), 422, "policy_memory"),
        (PolicyCrashed("the worker died"), 422, "policy_crashed"),
        (SandboxBusy("no worker was free"), 503, "policy_sandbox_busy"),
    ],
)
def test_each_run_failure_has_its_status_and_code(
    error: PolicyRunError, status: int, code: str
) -> None:
    handler = EXCEPTION_HANDLERS[PolicyRunError]
    response = handler(None, error)
    body: dict[str, Any] = msgspec.to_builtins(response.content)
    assert response.status_code == status and response.media_type == PROBLEM
    assert body["code"] == code and body["status"] == status and body["detail"] == str(error)
    assert ("Retry-After" in response.headers) is (status == 503)
