"""Errors raised by the policy package.

```
PolicyError             root: anything in gateway.policy that refuses to go on
├── BundleError         the directory cannot be read as a policy bundle
├── PolicyLoadError     an engine refused a bundle: file, line and why
└── PolicyRunError      a sandboxed run did not finish (``code`` says why)
    ├── PolicyTimeout   over the wall-clock limit (policy_timeout)
    ├── PolicyMemory    over the memory limit (policy_memory)
    ├── PolicyCrashed   the worker process died otherwise (policy_crashed)
    └── SandboxBusy     no worker free in time (policy_sandbox_busy)
```

Deciding never raises: an engine that fails while deciding answers a deny
(``gateway.domain.decisions.policy_error``). These errors are for loading, when a
person is there to fix the bundle.
"""

from __future__ import annotations


class PolicyError(Exception):
    """Root of the errors of ``gateway.policy``."""


class BundleError(PolicyError):
    """The bundle directory is missing, unreadable, or holds no usable policy."""


class PolicyLoadError(PolicyError):
    """An engine refused the bundle: a parse error, a forbidden or unknown builtin.

    ``file`` is relative to the bundle directory; ``file`` and ``line`` are None when
    the problem is not in one place (for example, no ``decision`` rule at all).
    ``detail`` is the engine's message without its source excerpt and backtrace.
    """

    def __init__(
        self,
        detail: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.detail = detail
        self.file = file
        self.line = line
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        where = [str(part) for part in (self.file, self.line, self.column) if part is not None]
        return f"{':'.join(where)}: {self.detail}" if where else self.detail


class PolicyRunError(PolicyError):
    """A run of a policy in the sandbox (tests, impact, a shadow or budget decision)
    ended without a result. ``code`` is the machine-readable reason."""

    code = "policy_run_failed"


class PolicyTimeout(PolicyRunError):
    """The run exceeded its wall-clock limit (or the activation budget); it was stopped."""

    code = "policy_timeout"


class PolicyMemory(PolicyRunError):
    """The run needed more memory than the per-run limit; it was stopped."""

    code = "policy_memory"


class PolicyCrashed(PolicyRunError):
    """The worker process running the policy died for another reason."""

    code = "policy_crashed"


class SandboxBusy(PolicyRunError):
    """Every sandbox worker stayed busy (or could not start) for the whole wait."""

    code = "policy_sandbox_busy"
