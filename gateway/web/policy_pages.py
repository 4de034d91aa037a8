"""What the Policies pages show, computed from the lifecycle service's answers (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from gateway.domain.records import AuditEvent, PolicyState, PolicyVersion
from gateway.pipeline.errors import StateConflict
from gateway.pipeline.policies import ImpactReport, PolicyService
from gateway.policy.bundle import is_test_file
from gateway.policy.testing import TestReport
from gateway.runtime import Runtime
from gateway.store.errors import NotFound

ENFORCED_KINDS = ("policy_activated", "policy_rolled_back")


def service_of(runtime: Runtime) -> PolicyService:
    if runtime.policies is None:
        raise StateConflict("this gateway runs a pinned engine; the policy lifecycle is off")
    return runtime.policies


def short(revision: str | None) -> str:
    if not revision:
        return "none"
    return revision[:19] + "…" if len(revision) > 19 else revision


class RevisionRow(msgspec.Struct, frozen=True, kw_only=True):
    revision: str
    short: str
    state: str  # active, shadow, draft, retired
    author: str
    description: str
    parent: str | None
    created_at: datetime
    tests_passed: bool | None
    activated_at: datetime | None
    activated_by: str | None  # who last made it the enforced revision (from the audit)


def state_of(version: PolicyVersion, state: PolicyState) -> str:
    if version.revision == state.active_revision:
        return "active"
    if version.revision == state.shadow_revision:
        return "shadow"
    return "retired" if version.activated_at is not None else "draft"


def revision_rows(
    versions: list[PolicyVersion], state: PolicyState, history: list[AuditEvent]
) -> list[RevisionRow]:
    enforced_by: dict[str, str] = {}
    for event in reversed(history):  # oldest first: the latest activation wins
        if event.kind in ENFORCED_KINDS:
            enforced_by[event.subject.removeprefix("policy:")] = event.actor
    if state.active_revision and state.activated_by:
        enforced_by[state.active_revision] = state.activated_by
    return [
        RevisionRow(
            revision=v.revision,
            short=short(v.revision),
            state=state_of(v, state),
            author=v.author,
            description=v.description,
            parent=v.parent,
            created_at=v.created_at,
            tests_passed=v.tests_passed,
            activated_at=v.activated_at,
            activated_by=enforced_by.get(v.revision),
        )
        for v in versions
    ]


class FileCoverageRow(msgspec.Struct, frozen=True, kw_only=True):
    file: str
    covered: int
    total: int
    percent: float


class TestSummary(msgspec.Struct, frozen=True, kw_only=True):
    __test__ = False

    report: TestReport
    coverage: list[FileCoverageRow]


def test_summary(tests: dict[str, Any] | None) -> TestSummary | None:
    """The stored test report of a version (None when its tests never ran)."""
    if not tests:
        return None
    report = msgspec.convert(tests, TestReport)
    rows = [
        FileCoverageRow(
            file=c.file,
            covered=len(c.covered),
            total=len(c.covered) + len(c.not_covered),
            percent=c.percent,
        )
        for c in report.coverage
    ]
    return TestSummary(report=report, coverage=rows)


class SourceLine(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    text: str
    status: Literal["covered", "missed", ""]


def coverage_lines(version: PolicyVersion, file: str) -> list[SourceLine]:
    """``file``'s lines, each marked covered / missed by the last test run ('' when the
    tests did not evaluate it either way: comments, blank lines, headers)."""
    if file not in version.files or is_test_file(file):
        raise NotFound(f"{file} is not a policy file of {short(version.revision)}")
    summary = test_summary(version.tests)
    covered: set[int] = set()
    missed: set[int] = set()
    for entry in summary.report.coverage if summary else []:
        if entry.file == file:
            covered, missed = set(entry.covered), set(entry.not_covered)
    return [
        SourceLine(
            number=n,
            text=text,
            status="covered" if n in covered else "missed" if n in missed else "",
        )
        for n, text in enumerate(version.files[file].splitlines(), start=1)
    ]


def numbered(text: str, around: int | None = None, context: int = 4) -> list[SourceLine]:
    """Numbered lines of ``text`` (those within ``context`` of line ``around``, if given)."""
    lines = text.splitlines() or [""]
    first, last = 1, len(lines)
    if around is not None:
        first, last = max(1, around - context), min(len(lines), around + context)
    return [
        SourceLine(number=n, text=lines[n - 1], status="missed" if n == around else "")
        for n in range(first, last + 1)
    ]


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """(kind, text) per line of a unified diff: add, del, hunk, meta or ctx."""
    out: list[tuple[str, str]] = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            kind = "meta"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append((kind, line))
    return out


class ImpactBar(msgspec.Struct, frozen=True, kw_only=True):
    transition: str  # "allow->deny"
    before: str
    after: str
    count: int
    percent: float  # of the decisions evaluated
    width: int  # 0..100, relative to the largest change
    examples: list[int]


def impact_chart(report: ImpactReport) -> list[ImpactBar]:
    """One bar per outcome change (and one for same-outcome, different-reasons changes),
    largest first."""
    top = max(report.transitions.values(), default=0)
    bars = []
    for key, count in sorted(report.transitions.items(), key=lambda kv: (-kv[1], kv[0])):
        before, _, after = key.partition("->")
        bars.append(
            ImpactBar(
                transition=key,
                before=before,
                after=after,
                count=count,
                percent=round(100.0 * count / report.evaluated, 1) if report.evaluated else 0.0,
                width=round(100 * count / top) if top else 0,
                examples=report.examples.get(key, []),
            )
        )
    return bars
