"""The sandbox: worker processes with a wall-clock and a memory limit per run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from gateway.domain.policy_input import PolicyInput
from gateway.policy import PolicyBundle, PolicyLoadError, TestReport, build_bundle
from gateway.policy._sandbox_jobs import CheckJob, DecideJob, DecideResult, TestJob
from gateway.policy.errors import PolicyMemory, PolicyTimeout, SandboxBusy
from gateway.policy.sandbox import Sandbox, SandboxLimits, _worker_env
from gateway.policy.sandboxed import SandboxedEngine
from gateway.settings import SettingsError, load_settings
from tests.support.hostile_policies import HUGE, SLOW

MakeInput = Callable[..., PolicyInput]
ALLOW = 'package engagement\n\ndecision := {"outcome": "allow", "reasons": []}\n'


def _with_test(condition: str) -> PolicyBundle:
    test = f"package engagement_test\n\nimport rego.v1\n\ntest_it if {{\n\t{condition}\n}}\n"
    return build_bundle(
        {"engagement/decision.rego": ALLOW, "engagement/decision_test.rego": test}, {}
    )


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    box = Sandbox(SandboxLimits(workers=1, timeout_s=1.0, memory_mb=256))
    yield box
    await box.close()


async def test_a_run_over_the_time_limit_is_killed_and_the_worker_replaced(
    sandbox: Sandbox,
) -> None:
    with pytest.raises(PolicyTimeout, match="within 1 s"):
        await sandbox.run(TestJob(bundle=_with_test(SLOW), coverage=False), TestReport)
    report = await sandbox.run(TestJob(bundle=_with_test("true"), coverage=False), TestReport)
    assert report.ok


async def test_a_run_over_the_memory_limit_ends_with_policy_memory(sandbox: Sandbox) -> None:
    with pytest.raises(PolicyMemory, match="256 MiB"):
        await sandbox.run(TestJob(bundle=_with_test(HUGE), coverage=False), TestReport)
    report = await sandbox.run(TestJob(bundle=_with_test("true"), coverage=False), TestReport)
    assert report.ok


async def test_a_bundle_the_engine_refuses_keeps_its_file_and_line(sandbox: Sandbox) -> None:
    broken = build_bundle({"engagement/decision.rego": ALLOW + "oops := {\n"}, {})
    with pytest.raises(PolicyLoadError) as refused:
        await sandbox.run(CheckJob(bundle=broken), type(None))
    assert refused.value.file == "engagement/decision.rego" and refused.value.line


async def test_a_run_that_must_not_wait_is_refused_while_the_worker_is_busy(
    sandbox: Sandbox,
) -> None:
    sandbox.warm()
    with pytest.raises(SandboxBusy):  # still starting
        await sandbox.run(
            DecideJob(bundle=_with_test("true"), input_json="{}"), DecideResult, wait=False
        )


async def test_the_shadow_engine_decides_in_the_sandbox_like_the_embedded_one(
    sandbox: Sandbox, make_input: MakeInput
) -> None:
    bundle = build_bundle({"engagement/decision.rego": ALLOW}, {})
    await sandbox.run(CheckJob(bundle=bundle), type(None))  # a worker is up and idle
    engine = SandboxedEngine(bundle, sandbox, timeout_s=1.0)
    decision = await engine.decide(make_input())
    assert (decision.outcome, decision.policy_revision, decision.error) == (
        "allow",
        bundle.revision,
        None,
    )
    slow = build_bundle(
        {"engagement/decision.rego": ALLOW.replace("}\n", f"}} if {{ {SLOW} }}\n")}, {}
    )
    failed = await SandboxedEngine(slow, sandbox, timeout_s=1.0).decide(make_input())
    assert failed.outcome == "deny" and failed.error and "policy_timeout" in failed.error


def test_workers_get_no_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:secret@db/gateway")
    monkeypatch.setenv("GATEWAY_SECRET_KEY", "c2VjcmV0")
    env = _worker_env()
    assert "DATABASE_URL" not in env and not any(k.startswith("GATEWAY_") for k in env)
    assert "PYTHONPATH" in env


async def test_policy_data_with_integers_beyond_64_bits_reaches_the_worker(
    sandbox: Sandbox,
) -> None:
    big = 2**70 + 1
    test = (
        "package engagement_test\n\nimport rego.v1\n\n"
        f"test_big if {{\n\tdata.engagement.big == {big}\n}}\n"
    )
    bundle = build_bundle(
        {"engagement/decision.rego": ALLOW, "engagement/decision_test.rego": test}, {"big": big}
    )
    report = await sandbox.run(TestJob(bundle=bundle, coverage=False), TestReport)
    assert report.passed == 1, report.results


def test_the_sandbox_limits_are_settings() -> None:
    settings = load_settings(
        {
            "GATEWAY_SANDBOX_WORKERS": "3",
            "GATEWAY_SANDBOX_TIMEOUT_S": "1.5",
            "GATEWAY_SANDBOX_MEMORY_MB": "256",
            "GATEWAY_SHADOW_WAIT_S": "0.05",
            "GATEWAY_ACTIVATION_INPUTS": "100",
            "GATEWAY_ACTIVATION_P99_MS": "20",
        }
    )
    assert (settings.sandbox_workers, settings.sandbox_timeout_s, settings.sandbox_memory_mb) == (
        3,
        1.5,
        256,
    )
    assert (settings.shadow_wait_s, settings.activation_inputs, settings.activation_p99_ms) == (
        0.05,
        100,
        20.0,
    )
    with pytest.raises(SettingsError, match="GATEWAY_SANDBOX_WORKERS"):
        load_settings({"GATEWAY_SANDBOX_WORKERS": "0"})
    with pytest.raises(SettingsError, match="GATEWAY_SANDBOX_TIMEOUT_S"):
        load_settings({"GATEWAY_SANDBOX_TIMEOUT_S": "-1"})
