"""Running a bundle's Rego unit tests (``test_*`` rules in ``*_test`` packages).

The same rule as ``opa test``: a test passes when it evaluates to exactly ``true``;
undefined (a condition in its body was false), any other value or an error fails it.
A run that found no test is not a success: a bundle whose tests were all renamed
away must not look green.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import msgspec

from gateway.policy import _ast, _regorus
from gateway.policy.bundle import PolicyBundle

_TEST_PACKAGE_SUFFIX = "_test"
_TEST_PREFIX = "test_"


class TestResult(msgspec.Struct, frozen=True, kw_only=True):
    """One test: ``error`` says why it failed (None when it passed)."""

    __test__: ClassVar[bool] = False  # not a pytest test class despite the name

    package: str
    name: str
    passed: bool
    error: str | None = None
    duration_us: int
    output: list[str] = []  # what print() wrote while the test ran
    file: str = ""  # where the test is defined (its first definition)
    line: int = 0


class FileCoverage(msgspec.Struct, frozen=True, kw_only=True):
    """Which lines of one policy file (not a test file) the tests evaluated."""

    file: str
    covered: list[int]
    not_covered: list[int]

    @property
    def percent(self) -> float:
        total = len(self.covered) + len(self.not_covered)
        return 100.0 if total == 0 else round(100.0 * len(self.covered) / total, 1)


class TestReport(msgspec.Struct, frozen=True, kw_only=True):
    """All tests of a bundle, in file order, and (when asked) line coverage."""

    __test__: ClassVar[bool] = False

    passed: int
    failed: int
    results: list[TestResult]
    coverage: list[FileCoverage] = []

    @property
    def ok(self) -> bool:
        """True only when at least one test ran and none failed."""
        return self.passed > 0 and self.failed == 0


def run_policy_tests(bundle: PolicyBundle, *, coverage: bool = False) -> TestReport:
    """Load every file of ``bundle`` (tests included) and run each ``test_*`` rule.

    With ``coverage``, also report the lines of each policy file (test files excluded)
    that no test evaluated. Runs on the calling thread and is not time-limited. Raises
    :class:`~gateway.policy.errors.PolicyLoadError` when a file does not parse.
    """
    engine = _new_engine(bundle, coverage)
    results: list[TestResult] = []
    reports: list[dict[str, Any]] = []
    try:
        for package, name, where in _discover(_ast.read_modules(engine.get_ast_as_json())):
            result, engine_ok = _run_one(engine, package, name)
            result = msgspec.structs.replace(result, file=where[0], line=where[1])
            results.append(result)
            if not engine_ok:
                engine = _new_engine(bundle, coverage)
        if coverage:
            reports.append(msgspec.json.decode(engine.get_coverage_report_as_json()))
    finally:
        del engine  # on this thread, even when raising (see _regorus)
    passed = sum(result.passed for result in results)
    return TestReport(
        passed=passed,
        failed=len(results) - passed,
        results=results,
        coverage=_coverage(bundle, reports),
    )


def _new_engine(bundle: PolicyBundle, coverage: bool) -> Any:
    engine = _regorus.compile_engine(bundle.files, bundle.data)
    if coverage:
        engine.set_enable_coverage(True)
    return engine


def _coverage(bundle: PolicyBundle, reports: list[dict[str, Any]]) -> list[FileCoverage]:
    covered: dict[str, set[int]] = {}
    missed: dict[str, set[int]] = {}
    for report in reports:
        for entry in report.get("files", []):
            path = str(entry.get("path", ""))
            if path not in bundle.policy_files:
                continue
            covered.setdefault(path, set()).update(entry.get("covered", []))
            missed.setdefault(path, set()).update(entry.get("not_covered", []))
    return [
        FileCoverage(
            file=path,
            covered=sorted(covered[path]),
            not_covered=sorted(missed[path] - covered[path]),
        )
        for path in sorted(covered)
    ]


def _discover(modules: list[_ast.Module]) -> list[tuple[str, str, tuple[str, int]]]:
    """(package, rule, (file, line)) of each test, once even if defined by several bodies."""
    found: dict[tuple[str, str], tuple[str, int]] = {}
    for module in sorted(modules, key=lambda m: m.file):
        if not module.package.endswith(_TEST_PACKAGE_SUFFIX):
            continue
        for rule in module.rules:
            if rule.is_plain and rule.name.startswith(_TEST_PREFIX):
                found.setdefault((module.package, rule.name), (module.file, rule.line))
    return [(package, name, where) for (package, name), where in found.items()]


def _run_one(engine: Any, package: str, name: str) -> tuple[TestResult, bool]:
    """The result, and whether the engine is still fit to use (False after a panic)."""
    started = time.perf_counter_ns()
    error: str | None = None
    engine_ok = True
    try:
        raw: str = engine.eval_rule_as_json(f"data.{package}.{name}")
    except BaseException as exc:
        if not _regorus.is_engine_error(exc):
            raise
        error = _regorus.describe(exc)
        engine_ok = isinstance(exc, Exception)
    else:
        if raw == _regorus.UNDEFINED_JSON:
            error = "undefined: a condition in the test body was false"
        elif msgspec.json.decode(raw) is not True:
            error = f"evaluated to {_shorten(raw)}, expected true"
    duration_us = (time.perf_counter_ns() - started) // 1000
    output = list(engine.take_prints()) if engine_ok else []
    result = TestResult(
        package=package,
        name=name,
        passed=error is None,
        error=error,
        duration_us=duration_us,
        output=output,
    )
    return result, engine_ok


def _shorten(raw: str) -> str:
    compact = " ".join(raw.split())
    return compact if len(compact) <= 200 else compact[:199] + "…"
