"""``users add --password-stdin`` and ``users passwd``: console passwords from the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import REPO, Server, gateway_env, run_cli


def _cli(env: dict[str, str], *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=env,
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _signs_in(server: Server, name: str, password: str) -> int:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        form = client.get("/ui/sign-in").text
        csrf = re.search(r'name="_csrf" value="([^"]*)"', form)
        assert csrf
        done = client.post(
            "/ui/sign-in", data={"_csrf": csrf.group(1), "name": name, "password": password}
        )
        return done.status_code


@pytest.mark.slow
def test_passwords_set_from_the_cli_sign_in_and_replace_each_other(
    fresh_db_url: str, tmp_path: Path
) -> None:
    env = gateway_env(fresh_db_url, tmp_path)
    added = _cli(
        env,
        "users",
        "add",
        "alice",
        "--role",
        "agent",
        "--password-stdin",
        stdin="first password 1\n",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip().splitlines()[-1].startswith("egw_")  # the token, last line
    assert "first password" not in added.stdout + added.stderr
    short = _cli(env, "users", "passwd", "alice", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    nobody = _cli(env, "users", "add", "bob", "--role", "agent", "--password-stdin", stdin="tiny\n")
    assert nobody.returncode == 1  # a refused password creates no user
    assert "bob" not in run_cli(env, "users", "list").stdout
    server = Server(env, tmp_path / "serve.log", worker=False)
    try:
        assert _signs_in(server, "alice", "first password 1") == 303
        changed = _cli(
            env, "users", "passwd", "alice", "--password-stdin", stdin="second password 2\n"
        )
        assert changed.returncode == 0, changed.stderr
        assert _signs_in(server, "alice", "first password 1") == 401
        assert _signs_in(server, "alice", "second password 2") == 303
    finally:
        server.stop()
    assert "second password" not in server.logs() and "first password" not in server.logs()
