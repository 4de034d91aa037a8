"""The worked examples in docs/ run as written against a live gateway.

A reader follows them from the root of a checkout, in a second shell beside `./dev serve`:
the demo tokens are in `.data/demo-tokens.txt`, the project's Python is `.venv/bin/python`,
and plain `python3` is whatever the machine has. The test builds exactly that: a folder
with `.data` (the running gateway's data folder), `.venv`, `dev` and the project files, a
PATH without the virtualenv, and `GW` pointing at the test's gateway.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from tests.conftest import fresh_database
from tests.e2e.doc_blocks import blocks, script
from tests.e2e.server import REPO, Server, gateway_env, run_cli

pytestmark = pytest.mark.slow

# In the order a reader meets them: the audit guide reads the decisions the API example made.
DOCS = ["api.md", "policies.md", "audit.md"]
_LINKED = ["dev", "pyproject.toml", "policies", "gateway", "connectors"]


class Checkout(msgspec.Struct, kw_only=True):
    server: Server
    folder: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
async def checkout(
    pg_cluster: str, template_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Checkout]:
    dsn = await fresh_database(pg_cluster)
    folder = tmp_path_factory.mktemp("checkout")
    data_dir = folder / ".data"
    data_dir.mkdir()
    env = gateway_env(dsn, data_dir, GATEWAY_DEMO="true")
    done = run_cli(env, "users", "demo")
    assert done.returncode == 0, done.stderr
    (folder / ".venv").symlink_to(Path(sys.prefix))
    for name in _LINKED:
        (folder / name).symlink_to(REPO / name)
    server = Server(env, folder / "server.log")
    venv_bin = str(Path(sys.prefix) / "bin")
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)
    script_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    script_env.update({"PATH": path, "GW": server.url})
    try:
        yield Checkout(server=server, folder=folder, env=script_env)
    finally:
        server.stop()


def test_every_doc_with_examples_is_listed() -> None:
    """A new worked example in another doc must be added here, or marked ``norun``."""
    with_runnable = {
        path.name for path in (REPO / "docs").glob("*.md") if any(b.runs for b in blocks(path))
    }
    assert with_runnable <= set(DOCS), sorted(with_runnable - set(DOCS))


@pytest.mark.parametrize("doc", DOCS)
def test_worked_example_runs_as_written(checkout: Checkout, doc: str) -> None:
    done = subprocess.run(
        ["bash", "-c", script(REPO / "docs" / doc)],
        cwd=checkout.folder,
        env=checkout.env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, (
        f"{doc}: the worked example failed (exit {done.returncode}); the last block started "
        f"is the last '>>>' line below.\n--- stderr ---\n{done.stderr[-4000:]}\n"
        f"--- stdout ---\n{done.stdout[-2000:]}"
    )


def test_a_failing_block_fails_the_script(tmp_path: Path) -> None:
    """The harness itself: an HTTP error or a failing command stops the example."""
    doc = tmp_path / "broken.md"
    doc.write_text("```sh\ntrue\n```\n\n```sh norun\nexit 0\n```\n\n```sh\nfalse\necho no\n```\n")
    done = subprocess.run(
        ["bash", "-c", script(doc)], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode != 0
    assert ">>> broken.md:9" in done.stderr
    assert "no" not in done.stdout
