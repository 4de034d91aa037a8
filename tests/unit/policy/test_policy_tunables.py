"""The shipped Rego tests survive a compliance officer's tuning of data.json.

Every shipped test pins the tunables it depends on (``with data.engagement.X as ...``),
so raising a cap or a channel limit in ``policies/engagement/data.json`` must not fail a
test. This copies the shipped bundle, raises every number in its data by one and runs the
bundle's own tests with the project's runner (``gateway policy test`` runs the same).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from gateway.policy import build_bundle, load_bundle, run_policy_tests
from gateway.policy.bundle import DATA_FILE

POLICY_DIR = Path(__file__).resolve().parents[3] / "policies"


def _plus_one(value: Any, path: str, changed: list[str]) -> Any:
    """``value`` with every number (not a boolean) raised by 1; ``changed`` gets their paths."""
    if isinstance(value, dict):
        return {key: _plus_one(item, f"{path}/{key}", changed) for key, item in value.items()}
    if isinstance(value, list):
        return [_plus_one(item, f"{path}/{i}", changed) for i, item in enumerate(value)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        changed.append(path)
        return value + 1
    return value


def test_plus_one_walks_nested_numbers_and_skips_booleans() -> None:
    changed: list[str] = []
    data = {"a": 1, "b": {"c": [2, 2.5, True]}, "d": "3", "e": False}
    raised = _plus_one(data, "", changed)
    assert raised == {"a": 2, "b": {"c": [3, 3.5, True]}, "d": "3", "e": False}
    assert changed == ["/a", "/b/c/0", "/b/c/1"]


def test_shipped_rego_tests_pass_with_every_numeric_tunable_raised_by_one(tmp_path: Path) -> None:
    copy = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, copy)
    data_path = copy / DATA_FILE
    changed: list[str] = []
    tuned = _plus_one(json.loads(data_path.read_text(encoding="utf-8")), "", changed)
    data_path.write_text(json.dumps(tuned, indent=2) + "\n", encoding="utf-8")

    # The walk reached the tunables a compliance officer is most likely to change.
    assert {"/caps/per_customer_7d", "/caps/per_customer_24h", "/channel_limits/bluesky"} <= set(
        changed
    )
    shipped, bundle = load_bundle(POLICY_DIR), load_bundle(copy)
    assert bundle.data["caps"]["per_customer_7d"] == shipped.data["caps"]["per_customer_7d"] + 1
    assert bundle.files == shipped.files

    report = run_policy_tests(bundle)

    failed = {f"{r.package}.{r.name}": r.error for r in report.results if not r.passed}
    assert not failed, f"Rego tests that depend on unpinned tunables ({changed}): {failed}"
    assert report.ok and report.passed == run_policy_tests(shipped).passed


def _scrambled(value: Any) -> Any:
    """Every boolean flipped, every number changed, every list emptied."""
    if isinstance(value, dict):
        return {key: _scrambled(item) for key, item in value.items()}
    if isinstance(value, list):
        return []
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value * 10 + 7
    return value


def test_only_the_data_format_tests_read_the_shipped_tunables() -> None:
    """Beyond +1: with every tunable changed (lists emptied, flags flipped), the only
    tests that may fail are test_allow_data_*, which check data.json's own format."""
    shipped = load_bundle(POLICY_DIR)
    report = run_policy_tests(build_bundle(shipped.files, _scrambled(shipped.data)))
    failed = sorted(r.name for r in report.results if not r.passed)
    assert report.passed > 0
    assert all(name.startswith("test_allow_data_") for name in failed), failed
