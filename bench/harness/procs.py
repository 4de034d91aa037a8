"""Processes of the run: servers on loopback ports, and a peak-RSS sampler."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Proc:
    """A child process whose output goes to a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self._out = log.open("wb")
        full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=REPO,
            env=full_env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._out.close()


class HttpServer(Proc):
    """A server on 127.0.0.1:port, ready once ``ready_path`` answers (any status < 500)."""

    def __init__(
        self,
        args: list[str],
        log: Path,
        *,
        port: int,
        ready_path: str,
        env: dict[str, str] | None = None,
        timeout: float = 90,
    ) -> None:
        super().__init__(args, log, env)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{args} exited early:\n{self.tail()}")
            try:
                if httpx.get(self.url + ready_path, timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{args} not ready after {timeout}s:\n{self.tail()}")


def uvicorn_app(target: str, log: Path, ready_path: str) -> HttpServer:
    port = free_port()
    return HttpServer(
        [
            "-m",
            "uvicorn",
            target,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        log,
        port=port,
        ready_path=ready_path,
    )


class RssSampler:
    """Samples a process's resident set (and its children's) every ``every_s``; keeps the peak."""

    def __init__(self, pid: int, every_s: float = 0.2) -> None:
        self._proc = psutil.Process(pid)
        self._every = every_s
        self.peak_main = 0
        self.peak_total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                main = self._proc.memory_info().rss
                children = sum(c.memory_info().rss for c in self._proc.children(recursive=True))
            except psutil.Error:
                return
            self.peak_main = max(self.peak_main, main)
            self.peak_total = max(self.peak_total, main + children)
            self._stop.wait(self._every)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join(5)
        return {
            "peak_rss_mb": self.peak_main / 2**20,
            "peak_rss_with_children_mb": self.peak_total / 2**20,
        }
