"""The release phase of ``bench/run.py`` alone, repeatable, and comparable across two checkouts.

    python bench/release.py [--releases N] [--rounds R] [--compare CHECKOUT]
                            [--database-url DSN] [--env GATEWAY_X=VALUE ...] [--py-spy FILE]

Fills the outbox once (a ``serve --no-worker`` process ingests ``N x R`` mentions and
proposes a reply on each, every one allowed), then runs ``R`` rounds: in each, a fresh
``python -m gateway worker`` drains ``N`` rows to a fresh local webhook receiver
(``bench/harness/receiver_app.py``) and is stopped. With ``--compare CHECKOUT`` the worker
of every second round runs from that other checkout of the repository (same database,
same interpreter), so the code before and after a change are measured alternately on one
loaded machine. Each round prints releases/s (deliveries over the receiver's first-to-last
delivery) and the worker's CPU per release after its first one: on a shared machine the
CPU figure is the comparable one. ``--py-spy FILE`` records the first round's worker with
py-spy (when installed) into FILE (speedscope format).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import psutil  # noqa: E402

from bench.harness import cluster as pg  # noqa: E402
from bench.harness.procs import HttpServer, free_port, uvicorn_app  # noqa: E402
from bench.run import SECRET, _post_mentions, _setup_database  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--releases", type=int, default=3000, help="rows per round (3000)")
    parser.add_argument("--rounds", type=int, default=2, help="worker runs (2)")
    parser.add_argument("--compare", type=Path, help="run every second round from this checkout")
    parser.add_argument("--database-url", help="an existing cluster's postgres database")
    parser.add_argument("--env", action="append", default=[], metavar="GATEWAY_X=VALUE")
    parser.add_argument("--py-spy", type=Path, help="profile the first round's worker")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    rounds = asyncio.run(_run(args))
    print(f"\n{'round':>5} {'checkout':<28} {'releases/s':>10} {'CPU ms/release':>15} {'dups':>5}")
    for n, r in enumerate(rounds, 1):
        print(
            f"{n:>5} {r['checkout'][-28:]:<28} {r['per_s']:>10.1f}"
            f" {r['cpu_ms'] or float('nan'):>15.2f} {r['duplicates']:>5}"
        )
    for checkout in dict.fromkeys(r["checkout"] for r in rounds):
        cpu = [r["cpu_ms"] for r in rounds if r["checkout"] == checkout and r["cpu_ms"]]
        if cpu:
            print(f"median CPU ms/release {checkout}: {statistics.median(cpu):.2f}")
    return 0


async def _run(args: argparse.Namespace) -> list[dict[str, Any]]:
    cluster = pg.Cluster(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="egw-bench-release-") as tmp:
            logs = Path(tmp)
            dsn = await cluster.create_database("bench_release")
            env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
            env.update(
                {
                    "DATABASE_URL": dsn,
                    "GATEWAY_DATA_DIR": str(logs / "data"),
                    "GATEWAY_DEMO": "false",
                    "GATEWAY_LOG_LEVEL": "warning",
                    "GATEWAY_LOG_JSON": "true",
                    "GATEWAY_RETENTION_DAYS": "off",
                    "GATEWAY_WEBHOOK_SECRET": SECRET,
                    **dict(item.split("=", 1) for item in args.env),
                }
            )
            await _fill(dsn, env, logs, args.releases * args.rounds)
            rounds = []
            for n in range(args.rounds):
                checkout = args.compare if args.compare and n % 2 else REPO
                spy = args.py_spy if n == 0 else None
                rounds.append(await _round(dsn, env, logs, checkout, args.releases, spy))
                r = rounds[-1]
                print(f"round {n + 1}: {r['per_s']:.1f}/s, {r['cpu_ms']} ms CPU per release")
            return rounds
    finally:
        cluster.close()


async def _fill(dsn: str, env: dict[str, str], logs: Path, count: int) -> None:
    """``count`` allowed proposals queued for release, each on its own mention and customer."""
    tokens = await _setup_database(dsn, logs)
    port = free_port()
    server = HttpServer(
        ["-m", "gateway", "serve", "--no-worker", "--port", str(port)],
        logs / "gateway.log",
        port=port,
        ready_path="/health",
        env={**env, "GATEWAY_WEBHOOK_URL": "http://127.0.0.1:9/unused"},
    )
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            admin = {"Authorization": f"Bearer {tokens['admin']}"}
            client.headers.update(admin)
            ids = await _post_mentions(client, 0, count)
            queue = iter(ids)
            agent = {"Authorization": f"Bearer {tokens['agent']}"}

            async def propose() -> None:
                for mention_id in queue:
                    body = {"mention_id": mention_id, "text": "Sorry! We are on it, see DM."}
                    answer = await client.post("/v1/proposals", json=body, headers=agent)
                    answer.raise_for_status()

            await asyncio.gather(*(propose() for _ in range(32)))
    finally:
        server.stop()
    print(f"queued {count} releases in {time.perf_counter() - started:.0f} s", file=sys.stderr)


async def _round(
    dsn: str, env: dict[str, str], logs: Path, checkout: Path, goal: int, spy: Path | None
) -> dict[str, Any]:
    receiver = uvicorn_app("bench.harness.receiver_app:app", logs / "receiver.log", "/stats")
    conn = await asyncpg.connect(dsn)
    try:
        done_before = await _done(conn)
        out = (logs / "worker.log").open("wb")
        worker = _start_worker(
            checkout, {**env, "GATEWAY_WEBHOOK_URL": receiver.url + "/hook"}, out
        )
        profiler = _py_spy(worker.pid, spy) if spy else None
        try:
            process = psutil.Process(worker.pid)
            first: tuple[int, float] | None = None
            done, deadline = 0, time.monotonic() + 60 + goal / 50
            while done < goal and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                done = await _done(conn) - done_before
                if first is None and done > 0:
                    first = (done, sum(process.cpu_times()[:2]))
            cpu_ms = None
            if first is not None and done > first[0]:
                cpu_ms = (sum(process.cpu_times()[:2]) - first[1]) * 1000 / (done - first[0])
        finally:
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(60)
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
            out.close()
        async with httpx.AsyncClient(timeout=5) as client:
            stats = (await client.get(receiver.url + "/stats")).json()
    finally:
        await conn.close()
        receiver.stop()
    span = stats["last_at"] - stats["first_at"]
    return {
        "checkout": str(checkout),
        "done": done,
        "per_s": (stats["deliveries"] - 1) / span if span > 0 else 0.0,
        "cpu_ms": cpu_ms,
        "duplicates": int(stats["duplicates"]),
    }


async def _done(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE state = 'done'"))


def _start_worker(checkout: Path, env: dict[str, str], out: IO[bytes]) -> subprocess.Popen[bytes]:
    """``python -m gateway worker`` from ``checkout`` (this interpreter, its code)."""
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "worker"],
        cwd=checkout,
        env={**env, "PYTHONPATH": str(checkout)},
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def _py_spy(pid: int, out: Path) -> subprocess.Popen[bytes] | None:
    binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(binary).exists():
        print("py-spy not found: no profile", file=sys.stderr)
        return None
    return subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--format", "speedscope", "-o", str(out), "-r", "200"]
    )


if __name__ == "__main__":
    sys.exit(main())
