"""The CLI as an operator uses it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import POLICY_DIR
from tests.e2e.server import add_user, gateway_env, run_cli


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


def test_policy_draft_names_each_failing_test_and_exits_non_zero(
    fresh_db_url: str, tmp_path: Path
) -> None:
    env = gateway_env(fresh_db_url, tmp_path)
    carol = add_user(env, "carol", "compliance")
    dave = add_user(env, "dave", "compliance")
    bundle = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, bundle)
    (bundle / "engagement" / "zz_broken_test.rego").write_text(
        'package engagement_test\n\ntest_deny_on_purpose if {\n\tprint("cap is", 3)\n\t1 == 2\n}\n'
    )
    done = run_cli(env, "policy", "draft", "--dir", str(bundle), "--token", carol)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "FAIL engagement_test.test_deny_on_purpose (engagement/zz_broken_test.rego:3): undefined"
        in done.stdout
    )
    assert "print: engagement/zz_broken_test.rego:4: cap is 3" in done.stdout
    assert " 1 failed" in done.stdout
    revision = done.stdout.split("created: ")[1].split()[0]
    assert f"the draft is stored as {revision}, but it cannot be activated" in done.stderr
    refused = run_cli(env, "policy", "activate", revision, "--token", dave)
    assert refused.returncode == 1 and "its tests fail" in refused.stderr
    assert f"python -m gateway policy show {revision}" in refused.stderr
    assert "/v1/" not in refused.stderr


def test_policy_draft_refuses_an_upper_case_blocked_term(fresh_db_url: str, tmp_path: Path) -> None:
    env = gateway_env(fresh_db_url, tmp_path)
    carol = add_user(env, "carol", "compliance")
    bundle = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, bundle)
    data_file = bundle / "engagement" / "data.json"
    data = json.loads(data_file.read_text())
    data["blocked_terms"].append("Pineapple")
    data_file.write_text(json.dumps(data, indent=2))
    done = run_cli(env, "policy", "draft", "--dir", str(bundle), "--token", carol)
    assert done.returncode == 1
    assert "blocked_terms: the term 'Pineapple' has upper-case letters" in done.stderr
    assert "write it as 'pineapple'" in done.stderr
    assert "created" not in done.stdout
