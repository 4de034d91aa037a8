"""A real gateway process (``python -m gateway ...``) on a loopback port, for API tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gateway_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "GATEWAY_DATA_DIR": str(data_dir),
            # The API tests use the demo publisher; with an external database it is on
            # only when asked for (tests/e2e/test_demo_mode.py checks the default).
            "GATEWAY_DEMO": "true",
            "GATEWAY_DEMO_SOURCE": "false",
            "GATEWAY_RELEASE_POLL_S": "0.1",
            "GATEWAY_RELEASE_BACKOFF_S": "0.1",
            "GATEWAY_LOG_JSON": "true",
            "GATEWAY_CHECKPOINT_EVERY_EVENTS": "5",
            "GATEWAY_LEASE_RETRY_S": "0.2",  # a second instance takes over quickly
            "PYTHONPATH": str(REPO),
        }
    )
    env.update(extra)
    return env


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def add_user(env: dict[str, str], name: str, role: str) -> str:
    done = run_cli(env, "users", "add", name, "--role", role)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


class Process:
    """A gateway subprocess (serve or worker); logs go to a file for post-mortems."""

    def __init__(self, env: dict[str, str], args: list[str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", *args],
            env=env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup, the way a crash looks."""
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


class Server(Process):
    def __init__(
        self, env: dict[str, str], log_path: Path, *, worker: bool = True, workers: int = 1
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        args += ["--workers", str(workers)] if workers > 1 else []
        super().__init__(env, args + ([] if worker else ["--no-worker"]), log_path)
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.close()
                raise RuntimeError(f"gateway exited early:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gateway not healthy after {timeout}s:\n{self.logs()}")

    def client(self, token: str | None = None, **kw: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10, **kw)
