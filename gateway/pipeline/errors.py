"""Errors of the pipeline steps, each with a message a person can act on.

    PipelineError
    ├── InvalidInput     the request is well-formed but makes no sense (empty text, ...)
    ├── Forbidden        the user may not do this to this item (self-approval, ...)
    └── StateConflict    the item is not in a state that allows this (claimed, decided)

``gateway.store.errors.NotFound`` and ``Conflict`` pass through unchanged.
"""


class PipelineError(Exception):
    pass


class InvalidInput(PipelineError):
    pass


class Forbidden(PipelineError):
    pass


class StateConflict(PipelineError):
    pass
