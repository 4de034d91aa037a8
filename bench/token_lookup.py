"""What checking the token on every request costs (there is no token cache).

    python bench/token_lookup.py [N]

Starts a throwaway embedded PostgreSQL, adds a user, then times N sequential lookups
exactly as the API does per request (pool acquire + one indexed SELECT by token hash),
and N lookups from 8 concurrent tasks (throughput on one event loop). Prints µs per lookup.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gateway.settings import Settings  # noqa: E402
from gateway.store import users  # noqa: E402
from gateway.store.database import Database  # noqa: E402


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="egw-bench-") as tmp:
        db = await Database.open(Settings(data_dir=Path(tmp), demo=False))
        try:
            async with db.pool.acquire() as conn:
                await users.add_user(conn, name="bench", role="agent", token="t" * 43)

            async def lookup() -> None:
                async with db.pool.acquire() as conn:
                    assert await users.user_by_token(conn, "t" * 43) is not None

            for _ in range(200):  # warm up: connections, prepared statements
                await lookup()
            samples = []
            for _ in range(n):
                started = time.perf_counter_ns()
                await lookup()
                samples.append((time.perf_counter_ns() - started) / 1000)
            samples.sort()
            print(
                f"sequential: median {statistics.median(samples):.0f} µs, "
                f"p99 {samples[int(len(samples) * 0.99)]:.0f} µs per lookup ({n} lookups)"
            )

            async def worker(count: int) -> None:
                for _ in range(count):
                    await lookup()

            started = time.perf_counter()
            await asyncio.gather(*(worker(n // 8) for _ in range(8)))
            elapsed = time.perf_counter() - started
            print(f"8 concurrent tasks: {n / elapsed:,.0f} lookups/s on one event loop")
        finally:
            await db.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
