"""The per-channel publish budget: a sliding window of N publishes per window, and slots."""

from __future__ import annotations

from connectors.contract import OutgoingReply, PublishBudget, Receipt
from gateway.pipeline.publish_budget import PublishBudgets


class _Budgeted:
    channel = "masto"
    budget = PublishBudget(requests=3, window_s=10.0, concurrency=2)

    async def publish(self, reply: OutgoingReply) -> Receipt:
        raise AssertionError("not called")


def test_the_window_admits_n_then_says_when_the_oldest_frees_up() -> None:
    now = [100.0]
    budgets = PublishBudgets({"masto": _Budgeted()}, default_concurrency=8, clock=lambda: now[0])
    assert [budgets.reserve("masto") for _ in range(3)] == [0.0, 0.0, 0.0]
    now[0] = 104.0
    assert budgets.reserve("masto") == 6.0  # the first of the three leaves the window at 110
    now[0] = 110.0  # all three left the window; a refusal took no place in it
    assert [budgets.reserve("masto") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert budgets.reserve("masto") == 10.0


def test_channels_without_a_budget_are_never_deferred_and_get_the_default_slots() -> None:
    budgets = PublishBudgets({"masto": _Budgeted()}, default_concurrency=8)
    assert all(budgets.reserve("webhook") == 0.0 for _ in range(10_000))
    assert budgets.slot("masto")._value == 2
    assert budgets.slot("webhook")._value == 8
