"""A real local HTTP server standing in for a channel that receives signed webhooks.

It checks every request's HMAC signature, and, at the moment a reply arrives, asks the
gateway's database (from its own connection) whether the ``releasing`` audit event for that
idempotency key is already committed. It "posts" each idempotency key once; a repeat gets the
first receipt back with ``duplicate: true``, like Mastodon's Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg

from connectors.webhook.signing import verify_signature


class Receiver:
    def __init__(self, *, secret: bytes, database_url: str, hold_first: bool = False) -> None:
        self.secret = secret
        self.database_url = database_url
        self.hold_first = hold_first
        self.requests: list[dict[str, Any]] = []
        self.posted: dict[str, dict[str, Any]] = {}
        self.first_arrived = threading.Event()
        self.release_first = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release_first.set()
        self._server.shutdown()
        self._server.server_close()

    def _committed(self, key: str) -> bool:
        async def check() -> bool:
            conn = await asyncpg.connect(self.database_url)
            try:
                return bool(
                    await conn.fetchval(
                        "SELECT EXISTS (SELECT 1 FROM audit_events WHERE kind = 'releasing'"
                        " AND payload ->> 'idempotency_key' = $1)",
                        key,
                    )
                )
            finally:
                await conn.close()

        return asyncio.run(check())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                signed = verify_signature(
                    receiver.secret,
                    self.headers.get("X-Gateway-Timestamp", ""),
                    body,
                    self.headers.get("X-Gateway-Signature"),
                    now=time.time(),
                )
                record = {
                    "key": key,
                    "signed": signed,
                    "committed": receiver._committed(key),
                    "body": json.loads(body),
                }
                with receiver._lock:
                    receiver.requests.append(record)
                    first = len(receiver.requests) == 1
                    duplicate = key in receiver.posted
                    if signed and not duplicate:
                        receiver.posted[key] = {"id": f"post-{len(receiver.posted) + 1}"}
                if not signed:
                    self._answer(401, {"error": "bad signature"})
                    return
                if first and receiver.hold_first:
                    receiver.first_arrived.set()
                    receiver.release_first.wait(30)
                self._answer(200, {**receiver.posted[key], "duplicate": duplicate})

            def _answer(self, status: int, doc: dict[str, Any]) -> None:
                data = json.dumps(doc).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker that sent it is gone

        return Handler
