"""A local webhook receiver for the release figure: answers every delivery at once with a
receipt, counts deliveries and repeated idempotency keys (which must stay 0).

    python -m uvicorn bench.harness.receiver_app:app --port P      GET /stats for counts
"""

from __future__ import annotations

import json
import time
from typing import Any

_seen: set[bytes] = set()
_stats: dict[str, float] = {"deliveries": 0, "duplicates": 0, "first_at": 0.0, "last_at": 0.0}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "GET":
        await _answer(send, 200, _stats)
        return
    key = dict(scope["headers"]).get(b"idempotency-key", b"")
    duplicate = key in _seen
    _seen.add(key)
    now = time.time()
    _stats["first_at"] = _stats["first_at"] or now
    _stats["last_at"] = now
    _stats["deliveries"] += 1
    _stats["duplicates"] += int(duplicate)
    await _answer(send, 200, {"id": key.decode() or "x", "duplicate": duplicate})


async def _answer(send: Any, status: int, doc: dict[str, Any]) -> None:
    body = json.dumps(doc).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
