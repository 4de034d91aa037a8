"""Profile the proposal path: a gateway server under py-spy while wrk posts proposals.

    python bench/profile_proposals.py [--conns 1] [--seconds 10] [--out DIR] [--workers N]

Writes py-spy's raw folded stacks (``proposals-cN.txt``) and prints rps/latency/CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psutil  # noqa: E402

from bench import run as bench  # noqa: E402
from bench.harness import cluster as pg  # noqa: E402
from bench.harness.load import find_wrk, post_load  # noqa: E402
from bench.harness.procs import HttpServer, free_port  # noqa: E402


def _cpu_s(proc: psutil.Process) -> float:
    """User + system CPU seconds of the server and its worker processes (--workers)."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += sum(p.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return total


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conns", type=int, action="append")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", type=Path, default=Path("/tmp/prof"))
    parser.add_argument("--no-spy", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N (py-spy: the parent only)")
    args = parser.parse_args()
    conns_list = args.conns or [1]
    cluster = pg.Cluster(None)
    wrk = find_wrk()
    try:
        dsn = await cluster.create_database("prof")
        with tempfile.TemporaryDirectory() as tmp:
            logs = Path(tmp)
            env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
            env.update(
                DATABASE_URL=dsn,
                GATEWAY_DATA_DIR=str(logs / "data"),
                GATEWAY_DEMO="false",
                GATEWAY_LOG_LEVEL="warning",
                GATEWAY_LOG_JSON="true",
                GATEWAY_RETENTION_DAYS="off",
            )
            tokens = await bench._setup_database(dsn, logs)
            port = free_port()
            server = HttpServer(
                ["-m", "gateway", "serve", "--no-worker", "--port", str(port),
                 *(["--workers", str(args.workers)] if args.workers > 1 else [])],
                logs / "gateway.log",
                port=port,
                ready_path="/health",
                env=env,
            )
            try:
                async with httpx.AsyncClient(
                    base_url=server.url,
                    timeout=120,
                    headers={"Authorization": f"Bearer {tokens['admin']}"},
                ) as client:
                    for conns in conns_list:
                        need = 6000 if conns > 1 else 2000
                        pool = await bench._post_mentions(client, 10_000_000 * conns, need)
                        post_load(url=server.url, path="/v1/proposals", token=tokens["agent"],
                                  ids=pool[:100], connections=conns, seconds=1, wrk=wrk)
                        spy = None
                        if not args.no_spy:
                            args.out.mkdir(parents=True, exist_ok=True)
                            spy = subprocess.Popen(
                                [str(Path(sys.executable).parent / "py-spy"), "record",
                                 "--pid", str(server.pid), "--format", "raw", "--nonblocking",
                                 "-r", "200", "-o", str(args.out / f"proposals-c{conns}.txt")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            )
                            time.sleep(1)
                        proc = psutil.Process(server.pid)
                        cpu0 = _cpu_s(proc)
                        figures = post_load(url=server.url, path="/v1/proposals",
                                            token=tokens["agent"], ids=pool[100:],
                                            connections=conns, seconds=args.seconds, wrk=wrk)
                        cpu = _cpu_s(proc) - cpu0
                        if spy is not None:
                            spy.send_signal(2)
                            spy.wait(30)
                        print(conns, {k: round(v, 2) if isinstance(v, float) else v
                                      for k, v in figures.items()},
                              "cpu ms/req", round(cpu * 1000 / max(figures["requests"], 1), 2))
            finally:
                server.stop()
    finally:
        cluster.close()


asyncio.run(main())
