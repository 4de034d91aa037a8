"""Which regular expressions the policy engine refuses (the tunables forms check the
marketing patterns with it: Rego's regex syntax is RE2, not Python's ``re``).

Evaluates one fixed, trusted query on the calling thread, one pattern at a time (regorus
raises rather than answering false for a pattern over its compiled-size limit); no draft
policy runs here. Patterns are short (the schema caps them), so this is quick.
"""

from __future__ import annotations

from typing import Any

import msgspec

from gateway.policy import _regorus

_CHECK = """package pattern_check
import rego.v1
valid if regex.is_valid(input.pattern)
"""
_RULE = "data.pattern_check.valid"


def invalid_patterns(patterns: list[str]) -> dict[str, str]:
    """Each pattern regorus cannot compile, with why (in plain words)."""
    if not patterns:
        return {}
    invalid: dict[str, str] = {}
    engine = _regorus.compile_engine({"pattern_check.rego": _CHECK}, {})
    try:
        for pattern in patterns:
            why = _problem(engine, pattern)
            if why is not None:
                invalid[pattern] = why
                engine = _regorus.compile_engine({"pattern_check.rego": _CHECK}, {})
    finally:
        del engine
    return invalid


def _problem(engine: Any, pattern: str) -> str | None:
    try:
        engine.set_input_json(msgspec.json.encode({"pattern": pattern}).decode())
        raw: str = engine.eval_rule_as_json(_RULE)
    except BaseException as exc:
        if not _regorus.is_engine_error(exc):
            raise
        return _regorus.describe(exc)
    if raw == "true":
        return None
    return (
        "the policy engine cannot compile it as a regular expression (RE2 syntax: no "
        "look-ahead, look-behind or back-references)"
    )
