"""The CLI acts on behalf of a person only with that person's token: a name is not an
identity (``--as NAME`` is gone), and the API's role and two-person rules apply."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import asyncpg

from tests.conftest import POLICY_DIR
from tests.e2e.server import add_user, gateway_env, run_cli


def _bundle(tmp_path: Path, cap: int) -> Path:
    bundle = tmp_path / f"policies-{cap}"
    shutil.copytree(POLICY_DIR, bundle)
    data_file = bundle / "engagement" / "data.json"
    data = json.loads(data_file.read_text())
    data["caps"]["per_customer_24h"] = cap
    data_file.write_text(json.dumps(data, indent=2))
    return bundle


async def _events(dsn: str, kind: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT actor, subject FROM audit_events WHERE kind = $1 ORDER BY seq", kind
        )
    finally:
        await conn.close()
    return [(r["actor"], r["subject"]) for r in rows]


def test_policy_commands_act_as_the_token_not_a_name(fresh_db_url: str, tmp_path: Path) -> None:
    env = gateway_env(fresh_db_url, tmp_path)
    carol = add_user(env, "carol", "compliance")
    dave = add_user(env, "dave", "compliance")
    alice = add_user(env, "alice", "agent")
    bundle = str(_bundle(tmp_path, 2))

    named = run_cli(env, "policy", "draft", "--dir", bundle, "--as", "carol")
    assert named.returncode == 2 and "--token" in named.stderr and "not an identity" in named.stderr

    anonymous = run_cli(env, "policy", "draft", "--dir", bundle)
    assert anonymous.returncode == 1
    assert "refused:" in anonymous.stderr and "GATEWAY_TOKEN" in anonymous.stderr
    forged = run_cli(env, "policy", "draft", "--dir", bundle, "--token", "made-up")
    assert forged.returncode == 1 and "not valid" in forged.stderr
    agent = run_cli(env, "policy", "draft", "--dir", bundle, "--token", alice)
    assert agent.returncode == 1 and "your role is agent; this needs compliance" in agent.stderr

    drafted = run_cli(env, "policy", "draft", "--dir", bundle, "--token", carol)
    assert drafted.returncode == 0, drafted.stderr
    revision = drafted.stdout.split("created: ")[1].split()[0]

    own = run_cli(env, "policy", "activate", revision, "--token", carol)
    assert own.returncode == 1 and "two-person" in own.stderr
    by_env = run_cli({**env, "GATEWAY_TOKEN": dave}, "policy", "activate", revision)
    assert by_env.returncode == 0, by_env.stderr
    assert f"active: {revision}" in by_env.stdout

    # A rollback: carol proposes, she cannot confirm her own request, dave can.
    proposed = run_cli(env, "policy", "rollback", "--token", carol)
    assert proposed.returncode == 0, proposed.stderr
    assert "request 1" in proposed.stdout and "policy confirm 1 --token" in proposed.stdout
    listed = run_cli(env, "policy", "requests")
    assert listed.stdout.split()[:3] == ["1", "pending", "rollback"]
    alone = run_cli(env, "policy", "confirm", "1", "--token", carol)
    assert alone.returncode == 1 and "two-person" in alone.stderr
    assert "policy confirm 1 --token THEIR_TOKEN" in alone.stderr and "/v1/" not in alone.stderr
    confirmed = run_cli(env, "policy", "confirm", "1", "--token", dave)
    assert confirmed.returncode == 0, confirmed.stderr
    assert f"active {revision}" not in confirmed.stdout
    again = run_cli(env, "policy", "activate", revision, "--token", dave)
    assert again.returncode == 1 and f"policy rollback --to {revision}" in again.stderr
    assert "/v1/" not in again.stderr

    assert asyncio.run(_events(fresh_db_url, "policy_drafted")) == [("carol", f"policy:{revision}")]
    assert asyncio.run(_events(fresh_db_url, "policy_activated"))[-1] == (
        "dave",
        f"policy:{revision}",
    )


def test_source_changes_need_an_admin_token(fresh_db_url: str, tmp_path: Path) -> None:
    env = gateway_env(fresh_db_url, tmp_path)
    root = add_user(env, "root", "admin")
    carol = add_user(env, "carol", "compliance")
    feed = ("sources", "add", "blog", "--kind", "rss", "--url", "https://93.184.216.34/feed")
    anonymous = run_cli(env, *feed)
    assert anonymous.returncode == 1 and "--token" in anonymous.stderr
    officer = run_cli(env, *feed, "--token", carol)
    assert officer.returncode == 1 and "this needs admin" in officer.stderr
    added = run_cli({**env, "GATEWAY_TOKEN": root}, *feed)
    assert added.returncode == 0, added.stderr
    removed = run_cli(env, "sources", "remove", "blog")
    assert removed.returncode == 1 and "refused:" in removed.stderr
    assert asyncio.run(_events(fresh_db_url, "source_added")) == [("root", "source:blog")]
