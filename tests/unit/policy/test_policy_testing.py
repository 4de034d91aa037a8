from __future__ import annotations

import pytest

from gateway.policy import PolicyBundle, PolicyLoadError, build_bundle, run_policy_tests

POLICY = """package engagement

decision := {"outcome": "deny", "reasons": []} if input.customer.opted_out
else := {"outcome": "allow", "reasons": []}

test_not_a_test_here := false
"""

TESTS = """package engagement_test

import data.engagement

test_allow_by_default if {
\tengagement.decision.outcome == "allow" with input as {"customer": {"opted_out": false}}
}

test_fails_on_false := false

test_undefined if {
\tengagement.decision.outcome == "review" with input as {"customer": {"opted_out": true}}
}

test_not_true := 2

test_runtime_error if {
\tto_number("not a number") > 0
}

test_prints if {
\tprint("checking consent")
\ttrue
}

helper := true
"""


def _bundle(**files: str) -> PolicyBundle:
    return build_bundle({"engagement/decision.rego": POLICY, **files}, {})


def test_fixture_bundle_passes(ok_bundle: PolicyBundle) -> None:
    report = run_policy_tests(ok_bundle)

    assert report.ok
    assert (report.passed, report.failed) == (4, 0)
    assert {result.name for result in report.results} == {
        "test_allow_addressed_complaint",
        "test_deny_opted_out",
        "test_review_ai_generated",
        "test_deny_beats_review",
    }
    assert all(result.package == "engagement_test" for result in report.results)


def test_each_outcome_is_reported_with_its_reason() -> None:
    report = run_policy_tests(_bundle(**{"engagement/decision_test.rego": TESTS}))
    by_name = {result.name: result for result in report.results}

    assert not report.ok
    assert (report.passed, report.failed) == (2, 4)
    assert list(by_name) == [
        "test_allow_by_default",
        "test_fails_on_false",
        "test_undefined",
        "test_not_true",
        "test_runtime_error",
        "test_prints",
    ]
    assert by_name["test_allow_by_default"].passed
    assert by_name["test_allow_by_default"].error is None
    assert by_name["test_fails_on_false"].error == "evaluated to false, expected true"
    assert by_name["test_undefined"].error is not None
    assert "undefined" in by_name["test_undefined"].error
    assert by_name["test_not_true"].error == "evaluated to 2, expected true"
    runtime_error = by_name["test_runtime_error"].error
    assert runtime_error is not None
    assert runtime_error.startswith("engagement/decision_test.rego:")
    assert "Stack backtrace" not in runtime_error
    assert by_name["test_prints"].passed
    assert by_name["test_prints"].output == ["engagement/decision_test.rego:22: checking consent"]
    assert all(result.duration_us >= 0 for result in report.results)


def test_zero_tests_is_not_ok() -> None:
    report = run_policy_tests(_bundle())

    assert (report.passed, report.failed, report.results) == (0, 0, [])
    assert not report.ok


def test_only_test_rules_in_test_packages_count() -> None:
    # test_not_a_test_here lives in package engagement (not *_test): ignored.
    tests = "package engagement.consent_test\n\ntest_one := true\n\nnot_a_test := false\n"
    report = run_policy_tests(_bundle(**{"engagement/consent_test.rego": tests}))

    assert [(r.package, r.name) for r in report.results] == [
        ("engagement.consent_test", "test_one")
    ]
    assert report.ok


def test_a_test_defined_by_several_bodies_runs_once() -> None:
    tests = "package engagement_test\n\ntest_either if 1 == 2\n\ntest_either if 1 == 1\n"
    report = run_policy_tests(_bundle(**{"engagement/decision_test.rego": tests}))

    assert [r.name for r in report.results] == ["test_either"]
    assert report.ok


def test_parse_error_in_a_test_file_names_the_file() -> None:
    tests = "package engagement_test\n\ntest_x if {\n"

    with pytest.raises(PolicyLoadError) as caught:
        run_policy_tests(_bundle(**{"engagement/decision_test.rego": tests}))

    assert caught.value.file == "engagement/decision_test.rego"
