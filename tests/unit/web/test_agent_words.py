"""The plain words of the agent pages: the path a reply takes, step by step."""

from __future__ import annotations

import pytest

from gateway.web.agent_words import reason_title, steps


@pytest.mark.parametrize(
    ("status", "outcome", "reviewed", "expected"),
    [
        ("approved", "allow", False, ["skipped", "current", "todo"]),
        ("released", "allow", False, ["skipped", "done", "done"]),
        ("pending_review", "review", False, ["current", "todo", "todo"]),
        ("approved", "review", True, ["done", "current", "todo"]),
        ("released", "review", True, ["done", "done", "done"]),
        ("rejected", "review", True, ["stopped", "todo", "todo"]),
        ("withdrawn", "review", True, ["stopped", "todo", "todo"]),
        ("withdrawn", "allow", False, ["skipped", "stopped", "todo"]),
        ("failed", "allow", False, ["skipped", "done", "stopped"]),
        ("denied", "deny", False, ["stopped", "todo", "todo"]),
    ],
)
def test_each_step_of_the_reply_path(
    status: str, outcome: str, reviewed: bool, expected: list[str]
) -> None:
    got = steps(status=status, outcome=outcome, reviewed=reviewed)
    assert [name for name, _ in got] == ["Review", "Approved", "Released"]
    assert [state for _, state in got] == expected


def test_reason_titles_fall_back_to_the_code_in_words() -> None:
    assert reason_title("opted_out") == "The customer opted out of contact"
    assert reason_title("some_new_code") == "Some new code"
