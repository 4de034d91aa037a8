"""Errors raised by the policy package.

```
PolicyError             root: anything in gateway.policy that refuses to go on
├── BundleError         the directory cannot be read as a policy bundle
└── PolicyLoadError     an engine refused a bundle: file, line and why
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
