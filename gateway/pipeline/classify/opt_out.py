"""Opt-out request: the signal of ``gateway.pipeline.opt_out_detect`` as a classification.

The detector (normalisation, per-language patterns, negation) lives in its own module;
its signal is ``requested`` (ingest registers an opt-out), ``possible`` (an ambiguous wish
not to be answered: replies go to review) or ``none``. ``#nobot`` is not reported here;
policy reads that marker itself.
"""

from __future__ import annotations

from gateway.domain.classification import OptOutRequest
from gateway.pipeline.opt_out_detect import detect_opt_out


def opt_out_request(text: str) -> OptOutRequest:
    """The opt-out signal of the original (unprepared) text."""
    found = detect_opt_out(text)
    return OptOutRequest(
        requested=found.signal == "requested",
        signal=found.signal,
        phrase=found.phrase,
        rule=found.rule,
    )
