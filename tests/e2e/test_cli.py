"""The CLI as an operator uses it."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import POLICY_DIR
from tests.e2e.server import gateway_env, run_cli


def test_policy_test_passes_on_the_default_bundle(tmp_path: Path) -> None:
    done = run_cli(gateway_env("", tmp_path), "policy", "test")
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    passed = int(last.split(" passed")[0])
    assert passed >= 50 and " 0 failed" in last


def test_policy_test_fails_on_a_failing_rule(tmp_path: Path) -> None:
    bundle = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, bundle)
    (bundle / "engagement" / "zz_broken_test.rego").write_text(
        "package engagement_test\n\ntest_deny_on_purpose if {\n\t1 == 2\n}\n"
    )
    done = run_cli(gateway_env("", tmp_path), "policy", "test", "--dir", str(bundle))
    assert done.returncode == 1
    assert "FAIL engagement_test.test_deny_on_purpose" in done.stdout


def test_policy_test_reports_an_unusable_bundle(tmp_path: Path) -> None:
    done = run_cli(gateway_env("", tmp_path), "policy", "test", "--dir", str(tmp_path / "nope"))
    assert done.returncode == 1 and "error:" in done.stderr


def test_migrate_is_idempotent_and_users_add_prints_the_token(
    fresh_db_url: str, tmp_path: Path
) -> None:
    env = gateway_env(fresh_db_url, tmp_path)
    first = run_cli(env, "migrate")
    assert first.returncode == 0 and "none pending" in first.stdout
    added = run_cli(env, "users", "add", "zoe", "--role", "auditor")
    assert added.returncode == 0
    token = added.stdout.strip().splitlines()[-1]
    assert len(token) >= 40 and " " not in token
    again = run_cli(env, "users", "add", "zoe", "--role", "auditor")
    assert again.returncode == 1 and "already exists" in again.stderr
    bad_role = run_cli(env, "users", "add", "yan", "--role", "king")
    assert bad_role.returncode == 2 and "invalid choice" in bad_role.stderr


def test_bad_settings_are_reported(tmp_path: Path) -> None:
    env = gateway_env("", tmp_path, GATEWAY_CLAIM_TTL_S="soon")
    done = run_cli(env, "migrate")
    assert done.returncode == 2 and "GATEWAY_CLAIM_TTL_S" in done.stderr
