"""The load generator used when wrk is not installed: N keep-alive HTTP/1.1 connections
over asyncio streams, in its own process, each POSTing the next fresh mention id.

    python -m bench.harness.pyload URL PATH TOKEN IDS_FILE TEXT CONNECTIONS SECONDS

Prints one line ``WRKJSON {...}`` with the same fields as post.lua.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit


async def _connection(
    host: str,
    port: int,
    head: str,
    ids: list[str],
    text: str,
    until: float,
    out: dict[str, list[float]],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until and ids:
            body = json.dumps({"mention_id": int(ids.pop()), "text": text}).encode()
            request = head + f"Content-Length: {len(body)}\r\n\r\n"
            started = time.perf_counter()
            writer.write(request.encode() + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            out["latency"].append(time.perf_counter() - started)
            if status_line.split()[1:2] != [b"201"]:
                out["bad"].append(1)
    finally:
        writer.close()


async def main(argv: list[str]) -> None:
    url, path, token, ids_file, text, conns, seconds = argv
    parts = urlsplit(url)
    ids = Path(ids_file).read_text().split()[::-1]  # noqa: ASYNC240  # before any load
    total = len(ids)
    head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
    if token != "-":
        head += f"Authorization: Bearer {token}\r\n"
    out: dict[str, list[float]] = {"latency": [], "bad": []}
    started = time.perf_counter()
    until = started + float(seconds)
    results = await asyncio.gather(
        *(
            _connection(
                parts.hostname or "127.0.0.1", parts.port or 80, head, ids, text, until, out
            )
            for _ in range(int(conns))
        ),
        return_exceptions=True,
    )
    elapsed = time.perf_counter() - started
    lat = sorted(out["latency"]) or [0.0]

    def pct(q: float) -> int:
        return int(lat[min(int(q * len(lat)), len(lat) - 1)] * 1e6)

    doc = {
        "requests": len(out["latency"]),
        "duration_us": int(elapsed * 1e6),
        "p50_us": pct(0.50),
        "p90_us": pct(0.90),
        "p99_us": pct(0.99),
        "max_us": int(lat[-1] * 1e6),
        "bad": len(out["bad"]),
        "exhausted": int(len(out["latency"]) >= total and time.perf_counter() < until),
        "socket_errors": sum(isinstance(r, BaseException) for r in results),
    }
    print("WRKJSON " + json.dumps(doc), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
