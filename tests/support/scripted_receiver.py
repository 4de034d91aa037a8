"""A local HTTP receiver for webhook deliveries that answers from a script.

Each POST takes the next answer of ``script`` (the last one repeats): ``"ok"`` (200 with a
receipt), ``"500"``, ``"429:N"`` (Retry-After: N), or ``"slow"`` (accepts the post, then
answers after ``slow_s``: the sender times out although the channel has the reply). Posts
are recorded once per idempotency key; a repeat is answered ``duplicate: true``.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedReceiver:
    def __init__(self, script: list[str], *, slow_s: float = 1.0) -> None:
        self.script = script
        self.slow_s = slow_s
        self.calls: list[tuple[float, str, str]] = []  # (time, idempotency key, answer)
        self.posted: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, key: str) -> tuple[str, bool]:
        with self._lock:
            answer = self.script[min(len(self.calls), len(self.script) - 1)]
            self.calls.append((time.monotonic(), key, answer))
            duplicate = key in self.posted
            if answer in ("ok", "slow") and not duplicate:
                self.posted[key] = f"post-{len(self.posted) + 1}"
            return answer, duplicate

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                answer, duplicate = receiver._next(key)
                if answer == "500":
                    self._answer(500, {"error": "boom"})
                elif answer.startswith("429:"):
                    self._answer(429, {"error": "slow down"}, retry_after=answer[4:])
                else:
                    if answer == "slow":
                        time.sleep(receiver.slow_s)
                    receipt = {"id": receiver.posted[key], "duplicate": duplicate}
                    self._answer(200, receipt)

            def _answer(self, status: int, doc: dict[str, Any], retry_after: str = "") -> None:
                data = json.dumps(doc).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    if retry_after:
                        self.send_header("Retry-After", retry_after)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting

        return Handler
