"""The decision path in-process: proposals per second through ``Decider.propose``
(read the mention and the customer's history, evaluate the embedded policy, then the
group-commit writer: proposal + sealed audit event + outbox row, many proposals per
transaction), with N concurrent agents, each proposal on a fresh mention.

    python bench/decide.py [PROPOSALS] [CONCURRENCY]

No HTTP, no authentication, no JSON request parsing: it measures the decision pipeline and
its writer alone (bench/run.py measures ``POST /v1/proposals`` over real HTTP). Starts a
throwaway embedded PostgreSQL with the default policy, ingests one mention per proposal,
then submits the proposals and prints throughput, latency percentiles and how many
proposals each writer transaction carried.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from connectors.contract import RawAuthor, RawMention  # noqa: E402
from gateway.domain.records import User  # noqa: E402
from gateway.logging import configure_logging  # noqa: E402
from gateway.runtime import Runtime  # noqa: E402
from gateway.settings import Settings  # noqa: E402


async def main(n: int, concurrency: int) -> None:
    configure_logging(level="warning")  # one log line per proposal would be measured too
    with tempfile.TemporaryDirectory(prefix="egw-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            demo=False,
            policy_dir=REPO / "policies",
            db_pool_max=concurrency + 2,
            log_level="warning",
        )
        rt = await Runtime.start(settings)
        try:
            now = datetime.now(UTC).isoformat()
            mentions = [
                RawMention(
                    channel="demo",
                    external_id=f"b{i}",
                    url=None,
                    author=RawAuthor(handle=f"@c{i}@social.example"),
                    text="@acme my order is three weeks late, this is terrible",
                    created_at=now,
                )
                for i in range(n)
            ]
            ids: list[int] = []
            for start in range(0, n, 500):
                ids += (await rt.ingestor.ingest(mentions[start : start + 500], actor="bench")).ids
            agent = User(id=0, name="alice", role="agent", created_at=datetime.now(UTC))
            queue: asyncio.Queue[int] = asyncio.Queue()
            for mention_id in ids:
                queue.put_nowait(mention_id)
            latencies: list[float] = []

            async def agent_loop() -> None:
                while not queue.empty():
                    mention_id = queue.get_nowait()
                    started = time.perf_counter()
                    await rt.decider.propose(
                        mention_id=mention_id,
                        user=agent,
                        text="Sorry about the wait, we are on it.",
                    )
                    latencies.append((time.perf_counter() - started) * 1000)

            started, cpu_started = time.perf_counter(), time.process_time()
            await asyncio.gather(*(agent_loop() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
            cpu_ms = (time.process_time() - cpu_started) * 1000 / n
            latencies.sort()
            p = lambda q: latencies[min(int(q * len(latencies)), len(latencies) - 1)]  # noqa: E731
            async with rt.db.pool.acquire() as conn:
                transactions = await conn.fetchval(
                    "SELECT count(DISTINCT xmin::text) FROM proposals"
                )
            print(
                f"{n} proposals, {concurrency} concurrent: {n / elapsed:,.0f} proposals/s; "
                f"latency p50 {statistics.median(latencies):.1f} ms, p99 {p(0.99):.1f} ms; "
                f"{n / max(transactions, 1):.1f} proposals per writer transaction; "
                f"{cpu_ms:.2f} ms of gateway CPU per proposal"
            )
        finally:
            await rt.close()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(args[0] if args else 3000, args[1] if len(args) > 1 else 20))
