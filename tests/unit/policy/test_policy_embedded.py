from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from gateway.domain.decisions import Decision
from gateway.domain.policy_input import PolicyInput
from gateway.policy import (
    EmbeddedEngine,
    PolicyBundle,
    PolicyEngine,
    PolicyLoadError,
    build_bundle,
    load_bundle,
)

Engines = Callable[..., EmbeddedEngine]
MakeInput = Callable[..., PolicyInput]
Answering = Callable[[Any], PolicyBundle]

ALLOW_ALL = 'package engagement\n\ndecision := {"outcome": "allow", "reasons": []}\n'


def _bundle(source: str, **more: str) -> PolicyBundle:
    return build_bundle({"engagement/decision.rego": source, **more}, {})


def _assert_fail_closed(decision: Decision, engine: EmbeddedEngine, detail: str) -> None:
    assert decision.outcome == "deny"
    assert [reason.code for reason in decision.reasons] == ["policy_error"]
    assert decision.engine == "embedded"
    assert decision.policy_revision == engine.revision
    assert decision.error is not None
    assert detail in decision.error


# --- a good policy ---------------------------------------------------------------------


async def test_good_policy_allows_with_revision_and_engine(
    ok_bundle: PolicyBundle, engines: Engines, make_input: MakeInput
) -> None:
    engine: PolicyEngine = engines(ok_bundle)  # mypy checks the interface is met

    decision = await engine.decide(make_input())

    assert decision == Decision(
        outcome="allow", reasons=[], policy_revision=ok_bundle.revision, engine="embedded"
    )
    assert engine.name == "embedded"
    assert engine.revision == ok_bundle.revision


async def test_good_policy_denies_with_reasons_from_rules_and_data(
    ok_bundle: PolicyBundle, engines: Engines, make_input: MakeInput
) -> None:
    engine = engines(ok_bundle)

    decision = await engine.decide(
        make_input(opted_out=True, contacts_24h=3, ai_generated=True, reply_text="Guaranteed!")
    )

    assert decision.outcome == "deny"
    assert decision.error is None
    codes = {reason.code: reason for reason in decision.reasons}
    assert set(codes) == {"opted_out", "contact_cap", "blocked_term", "ai_generated"}
    assert codes["contact_cap"].message == "Already 3 contacts in 24 h."
    assert codes["blocked_term"].rule == "content.blocked_terms"


async def test_good_policy_reviews(
    ok_bundle: PolicyBundle, engines: Engines, make_input: MakeInput
) -> None:
    decision = await engines(ok_bundle).decide(make_input(ai_generated=True))

    assert decision.outcome == "review"
    assert [reason.code for reason in decision.reasons] == ["ai_generated"]


async def test_fifty_concurrent_decisions_each_get_their_own_answer(
    ok_bundle: PolicyBundle, engines: Engines, make_input: MakeInput
) -> None:
    engine = engines(ok_bundle, threads=2)
    inputs = [make_input(opted_out=i % 3 == 0, ai_generated=i % 3 == 1) for i in range(50)]

    decisions = await asyncio.gather(*(engine.decide(item) for item in inputs))

    expected = ["deny" if i % 3 == 0 else "review" if i % 3 == 1 else "allow" for i in range(50)]
    assert [decision.outcome for decision in decisions] == expected


async def test_reason_rule_is_optional(engines: Engines, make_input: MakeInput) -> None:
    source = (
        'package engagement\n\ndecision := {"outcome": "review", '
        '"reasons": [{"code": "x", "message": "m"}]}\n'
    )
    decision = await engines(_bundle(source)).decide(make_input())

    assert decision.outcome == "review"
    assert decision.reasons[0].rule == ""


async def test_outcome_field_is_trusted_over_reason_codes(
    engines: Engines, make_input: MakeInput, answering: Answering
) -> None:
    bundle = answering(
        {"outcome": "allow", "reasons": [{"code": "opted_out", "message": "looks like a deny"}]}
    )

    decision = await engines(bundle).decide(make_input())

    assert decision.outcome == "allow"


async def test_policy_cannot_set_the_gateways_own_fields(
    engines: Engines, make_input: MakeInput, answering: Answering
) -> None:
    bundle = answering(
        {"outcome": "allow", "reasons": [], "policy_revision": "forged", "engine": "opa"}
    )

    decision = await engines(bundle).decide(make_input())

    assert decision.policy_revision == bundle.revision
    assert decision.engine == "embedded"


async def test_print_output_does_not_reach_the_process_output(
    engines: Engines, make_input: MakeInput, capfd: pytest.CaptureFixture[str]
) -> None:
    source = (
        "package engagement\n\n"
        'decision := {"outcome": "allow", "reasons": []} if {\n'
        "\tprint(input.reply.text)\n"
        "}\n"
    )
    decision = await engines(_bundle(source)).decide(make_input(reply_text="private words"))

    assert decision.outcome == "allow"
    captured = capfd.readouterr()  # regorus prints to stderr unless prints are gathered
    assert "private words" not in captured.out + captured.err


# --- refused at load -------------------------------------------------------------------


def test_parse_error_names_file_and_line(policies_dir: Path) -> None:
    with pytest.raises(PolicyLoadError) as caught:
        EmbeddedEngine(load_bundle(policies_dir / "broken"))

    assert caught.value.file == "engagement/decision.rego"
    assert caught.value.line == 6
    assert str(caught.value).startswith("engagement/decision.rego:6:")
    assert "Stack backtrace" not in str(caught.value)


@pytest.mark.parametrize(
    ("call", "why"),
    [
        ("time.now_ns()", "reads the clock"),
        ('http.send({"method": "get", "url": "https://example.com"})', "reaches the network"),
        ('rand.intn("k", 10)', "is random"),
        ('uuid.rfc4122("k")', "is random"),
        ('uuid.parse("k")', "not allowed"),
        ("opa.runtime()", "process environment"),
        ('net.lookup_ip_addr("example.com")', "reaches the network"),
        ("time.now()", "reads the clock"),
    ],
)
def test_non_deterministic_builtin_is_refused_with_file_and_line(call: str, why: str) -> None:
    helper = f"package engagement.lib\n\n# a helper\nstamp(x) := [x, {call}]\n"
    bundle = _bundle(ALLOW_ALL, **{"engagement/lib/stamp.rego": helper})

    with pytest.raises(PolicyLoadError) as caught:
        EmbeddedEngine(bundle)

    assert caught.value.file == "engagement/lib/stamp.rego"
    assert caught.value.line == 4
    assert why in caught.value.detail
    assert call.split("(")[0] in caught.value.detail


def test_call_inside_a_comprehension_in_the_decision_is_found() -> None:
    source = (
        "package engagement\n\n"
        'decision := {"outcome": "allow", "reasons": [r |\n'
        "\tsome r in []\n"
        "\ttime.now_ns() > 0\n"
        "]}\n"
    )
    with pytest.raises(PolicyLoadError) as caught:
        EmbeddedEngine(_bundle(source))

    assert caught.value.line == 5


def test_builtin_regorus_lacks_is_refused() -> None:
    source = ALLOW_ALL + '\ndigest := crypto.sha256("x")\n'

    with pytest.raises(PolicyLoadError, match=r"crypto\.sha256.*regorus"):
        EmbeddedEngine(_bundle(source))


def test_user_functions_are_not_mistaken_for_unknown_builtins(engines: Engines) -> None:
    lib = "package engagement.lib\n\nshout(s) := upper(s)\n"
    source = (
        "package engagement\n\n"
        "import data.engagement.lib\n"
        "import data.engagement.lib as text\n\n"
        "twice(x) := x * 2\n\n"
        'decision := {"outcome": "allow", "reasons": [], "n": twice(2),\n'
        '\t"a": lib.shout("a"), "b": text.shout("b"), "c": data.engagement.lib.shout("c")}\n'
    )
    engine = engines(_bundle(source, **{"engagement/lib/text.rego": lib}))

    assert engine.revision.startswith("sha256:")


def test_bundle_without_decision_is_refused() -> None:
    with pytest.raises(PolicyLoadError, match=r"no rule `decision`"):
        EmbeddedEngine(_bundle("package engagement\n\nallow := true\n"))


def test_test_files_are_not_loaded_into_the_engine(engines: Engines) -> None:
    # A test may use anything (even a clock); only the enforced policy is checked.
    tests = "package engagement_test\n\ntest_clock if time.now_ns() > 0\n"
    engine = engines(_bundle(ALLOW_ALL, **{"engagement/decision_test.rego": tests}))

    assert engine.revision


# --- fail closed at run time -----------------------------------------------------------


async def test_runtime_error_denies_with_policy_error(
    engines: Engines, make_input: MakeInput
) -> None:
    source = (
        "package engagement\n\n"
        'decision := {"outcome": "allow", "reasons": []} if input.customer.opted_out == false\n'
        'decision := {"outcome": "deny", "reasons": []} if input.mention.addressed_brand\n'
    )
    engine = engines(_bundle(source))

    decision = await engine.decide(make_input(opted_out=False, addressed=True))

    _assert_fail_closed(decision, engine, "conflicts")
    assert (await engine.decide(make_input(opted_out=True))).outcome == "deny"
    assert (await engine.decide(make_input(addressed=False))).outcome == "allow"


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        ("allow", "malformed decision"),
        ({"outcome": "maybe", "reasons": []}, "outcome"),
        ({"outcome": "allow"}, "reasons"),
        ({"outcome": "deny", "reasons": "opted out"}, "reasons"),
        ({"outcome": "deny", "reasons": [{"message": "no code"}]}, "code"),
        ({"outcome": "deny", "reasons": [{"code": 7, "message": "m"}]}, "code"),
        ([{"outcome": "allow", "reasons": []}], "malformed decision"),
        (True, "malformed decision"),
    ],
)
async def test_malformed_answer_denies_with_policy_error(
    engines: Engines, make_input: MakeInput, answering: Answering, answer: Any, detail: str
) -> None:
    engine = engines(answering(answer))

    _assert_fail_closed(await engine.decide(make_input()), engine, detail)


async def test_undefined_decision_denies_with_policy_error(
    engines: Engines, make_input: MakeInput
) -> None:
    source = 'package engagement\n\ndecision := {"outcome": "allow", "reasons": []} if false\n'
    engine = engines(_bundle(source))

    _assert_fail_closed(await engine.decide(make_input()), engine, "undefined")


async def test_slow_policy_times_out_and_denies(engines: Engines, make_input: MakeInput) -> None:
    # About 0.2 s of work; regorus holds the GIL, so this also proves the in-thread check.
    source = (
        "package engagement\n\n"
        'decision := {"outcome": "allow", "reasons": [], "n": n}\n\n'
        "n := count([x | some x in numbers.range(0, 300000); x % 7 == 0])\n"
    )
    engine = engines(_bundle(source), timeout_s=0.01)

    _assert_fail_closed(await engine.decide(make_input()), engine, "limit")


async def test_timeout_while_the_thread_is_blocked_denies(
    engines: Engines, make_input: MakeInput
) -> None:
    unblock = threading.Event()

    class Stuck:
        def evaluate(self, input_json: str) -> str:
            unblock.wait(5)  # releases the GIL, unlike regorus: wait_for can fire
            return '{"outcome": "allow", "reasons": []}'

    engine = engines(_bundle(ALLOW_ALL), timeout_s=0.05, evaluator_factory=Stuck)

    decision = await engine.decide(make_input())
    unblock.set()

    _assert_fail_closed(decision, engine, "no decision within 0.05 s")


class _Panic(BaseException):
    """Stands in for pyo3_runtime.PanicException, which derives from BaseException."""


async def test_base_exception_in_the_worker_denies_and_the_worker_survives(
    engines: Engines, make_input: MakeInput
) -> None:
    built: list[int] = []

    class PanicsOnce:
        def __init__(self) -> None:
            built.append(1)
            self._first = len(built) == 1

        def evaluate(self, input_json: str) -> str:
            if self._first:
                raise _Panic("thread 'x' panicked at src/lib.rs:1:1")
            return '{"outcome": "review", "reasons": []}'

    engine = engines(_bundle(ALLOW_ALL), threads=1, evaluator_factory=PanicsOnce)

    first = await engine.decide(make_input())
    second = await engine.decide(make_input())

    _assert_fail_closed(first, engine, "panicked")
    assert second.outcome == "review"
    assert len(built) == 2  # the evaluator that failed was replaced, on the same thread


async def test_exception_in_the_worker_denies(engines: Engines, make_input: MakeInput) -> None:
    class Broken:
        def evaluate(self, input_json: str) -> str:
            raise RuntimeError("boom")

    engine = engines(_bundle(ALLOW_ALL), evaluator_factory=Broken)

    _assert_fail_closed(await engine.decide(make_input()), engine, "boom")


async def test_closed_engine_denies(
    ok_bundle: PolicyBundle, engines: Engines, make_input: MakeInput
) -> None:
    engine = engines(ok_bundle)
    await engine.close()

    _assert_fail_closed(await engine.decide(make_input()), engine, "closed")


async def test_failure_is_logged_without_the_input_text(
    engines: Engines, make_input: MakeInput, answering: Answering
) -> None:
    engine = engines(answering({"outcome": "maybe", "reasons": []}))

    with capture_logs() as logs:
        await engine.decide(make_input(reply_text="very private reply"))

    (entry,) = [log for log in logs if log["event"] == "policy_failed"]
    assert entry["log_level"] == "warning"
    assert entry["policy_revision"] == engine.revision
    assert "outcome" in entry["error"]
    assert "very private reply" not in repr(logs)


async def test_decision_is_logged_at_debug(
    ok_bundle: PolicyBundle, engines: Engines, make_input: MakeInput
) -> None:
    engine = engines(ok_bundle)

    with capture_logs() as logs:
        await engine.decide(make_input(opted_out=True, reply_text="very private reply"))

    (entry,) = [log for log in logs if log["event"] == "policy_decided"]
    assert entry["log_level"] == "debug"
    assert entry["outcome"] == "deny"
    assert entry["reasons"] == ["opted_out"]
    assert "very private reply" not in repr(logs)
