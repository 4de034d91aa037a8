"""Driving HTTP load from a separate process: wrk with post.lua (Debian's package; installed
with apt when we are root and it is missing), else ``bench.harness.pyload``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
REPLY_TEXT = "Sorry about the wait, we are on it."


def find_wrk(install: bool = True) -> str | None:
    found = shutil.which("wrk")
    if found is None and install and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, check=False)
        found = shutil.which("wrk")
    return found


def post_load(
    *,
    url: str,
    path: str,
    token: str | None,
    ids: list[int],
    connections: int,
    seconds: float,
    wrk: str | None,
) -> dict[str, float]:
    """POST one proposal body per id at ``connections`` for ``seconds``: rps and latency."""
    with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as handle:
        handle.write("\n".join(str(i) for i in ids) + "\n")
    try:
        if wrk is not None:
            threads = min(2, connections)
            command = [
                wrk,
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{max(seconds, 1):g}s",
                "--timeout",
                "10s",
                "-s",
                str(HERE / "post.lua"),
                url,
                "--",
                path,
                token or "-",
                handle.name,
                REPLY_TEXT,
                str(threads),
            ]
        else:
            command = [
                sys.executable,
                "-m",
                "bench.harness.pyload",
                url,
                path,
                token or "-",
                handle.name,
                REPLY_TEXT,
                str(connections),
                str(seconds),
            ]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    finally:
        os.unlink(handle.name)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"load generator failed: {done.stdout[-300:]} {done.stderr[-300:]}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    secs = raw["duration_us"] / 1e6
    return {
        "connections": connections,
        "requests": raw["requests"],
        "rps": raw["requests"] / secs if secs else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": raw["bad"] + raw["socket_errors"],
        "ids_exhausted": raw["exhausted"],
        "tool": "wrk" if wrk else "pyload",
    }
