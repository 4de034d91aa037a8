"""Hostile policy probes for the sandbox tests (unit, integration, e2e): one definition.

Issue 10's probes: a loop over two ranges (slow) and a 300,000,000-element range (a 7.2 GB
allocation). ``SLOW`` runs 25 million iterations in constant memory, so only the time limit
can end it; the issue's own form (``ISSUE_SLOW``, a comprehension) also builds a
25-million-element array, so which limit ends it first depends on the machine's speed.
"""

from __future__ import annotations

SLOW = "some x in numbers.range(1, 5000); some y in numbers.range(1, 5000); x + y < 0"
ISSUE_SLOW = "count([1 | some x in numbers.range(1, 5000); some y in numbers.range(1, 5000)]) > 0"
HUGE = "count(numbers.range(1, 300000000)) > 0"
QUICK_TEST = "package engagement_test\n\nimport rego.v1\n\ntest_ok if {\n\ttrue\n}\n"


def with_test(condition: str) -> dict[str, str]:
    """A draft whose decision is trivial and whose one test runs ``condition``."""
    return {
        "engagement/decision.rego": (
            'package engagement\n\nimport rego.v1\n\ndecision := {"outcome": "deny", '
            '"reasons": []}\n'
        ),
        "engagement/decision_test.rego": (
            f"package engagement_test\n\nimport rego.v1\n\ntest_hostile if {{\n\t{condition}\n}}\n"
        ),
    }


def with_decision(condition: str) -> dict[str, str]:
    """A draft whose tests pass at once and whose every decision runs ``condition``."""
    return {
        "engagement/decision.rego": (
            'package engagement\n\nimport rego.v1\n\ndecision := {"outcome": "allow", '
            f'"reasons": []}} if {{\n\t{condition}\n}}\n'
        ),
        "engagement/decision_test.rego": QUICK_TEST,
    }
