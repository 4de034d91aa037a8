"""Errors of the pipeline steps, each with a message a person can act on.

    PipelineError
    ├── InvalidInput     the request is well-formed but makes no sense (empty text, ...)
    ├── Forbidden        the user may not do this to this item (self-approval, ...)
    └── StateConflict    the item is not in a state that allows this (claimed, decided)

``gateway.store.errors.NotFound`` and ``Conflict`` pass through unchanged.

An error may carry what to do next, once for API callers (``api_hint``: a route) and once
for CLI users (``cli_hint``: a command); ``str(error)`` is the message without either, and
each front end appends its own with :func:`with_hint`.
"""

from __future__ import annotations

from typing import Literal

CLI = "python -m gateway"  # how cli_hint texts name the command line


class PipelineError(Exception):
    def __init__(self, message: str, *, api_hint: str = "", cli_hint: str = "") -> None:
        super().__init__(message)
        self.api_hint = api_hint
        self.cli_hint = cli_hint


def with_hint(exc: BaseException, front: Literal["api", "cli"]) -> str:
    """The message of ``exc`` followed by what to do next on that front end, if known."""
    hint = getattr(exc, f"{front}_hint", "")
    return f"{exc}; {hint}" if hint else str(exc)


class InvalidInput(PipelineError):
    pass


class Forbidden(PipelineError):
    pass


class StateConflict(PipelineError):
    pass
